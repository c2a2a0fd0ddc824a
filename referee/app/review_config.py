"""``referee review-config`` (a dataset's annotation schema) and ``referee review-report``
(automation bias per reviewer).

The schema is :mod:`referee.review.schema`; the report is :mod:`referee.review.bias`.
"""

from __future__ import annotations

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.db.routing import dataset_by_name
from referee.review.bias import ReviewerBias, bias_report
from referee.review.schema import Schema, set_schema

__all__ = ["automation_bias", "configure_schema"]


def configure_schema(
    engine: Engine,
    dataset: str,
    *,
    scale: int | None,
    dimensions: tuple[str, ...] | None,
    require_rationale: str | None,
    guidelines: str | None,
) -> tuple[Schema, bool]:
    """Set what is given of the dataset's schema (a change makes a new rubric version);
    returns the schema and whether it changed."""
    with transaction(engine) as session:
        dataset_by_name(session, dataset)
        return set_schema(
            session,
            dataset,
            scale=scale,
            dimensions=dimensions,
            require_rationale=require_rationale,
            guidelines=guidelines,
        )


def automation_bias(engine: Engine, dataset: str) -> dict[str, ReviewerBias]:
    """Per reviewer: override rate with the AI label shown vs hidden, and traps caught."""
    with transaction(engine) as session:
        return bias_report(session, dataset_by_name(session, dataset).id)
