"""``referee drift``: accuracy and agreement over time windows, with a drift alarm.

The figures and the test are :mod:`referee.reports.drift`'s and :mod:`calibration.drift`'s.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from referee.db.engine import session_factory
from referee.db.routing import dataset_by_name
from referee.reports.drift import drift_report

__all__ = ["drift"]


def drift(engine: Engine, dataset: str, *, window: int, alpha: float) -> dict[str, Any]:
    """Each reviewer's gold accuracy and agreement, and accepted-AI accuracy, per window."""
    with session_factory(engine)() as session:
        dataset_id = dataset_by_name(session, dataset).id
        return {"dataset": dataset} | drift_report(session, dataset_id, window=window, alpha=alpha)
