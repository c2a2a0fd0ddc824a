"""``referee agreement`` (agreement among human annotators) and ``referee annotators``.

The numbers and the choices behind them are :mod:`referee.reports.human_agreement`'s; the
maths lives in ``calibration/``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from calibration.annotators import PauseRule
from referee.db.engine import session_factory
from referee.db.routing import dataset_by_name
from referee.errors import UserError
from referee.reports.human_agreement import (
    agreement_report,
    annotators_report,
    load_human_labels,
)

__all__ = ["agreement", "annotators"]


def agreement(
    engine: Engine, dataset: str, kind: str | None, *, resamples: int, seed: int
) -> dict[str, Any]:
    """Percent agreement, Krippendorff's alpha and the kappas over the dataset's human labels
    (of ``kind``, or every kind pooled), with bootstrap intervals."""
    with session_factory(engine)() as session:
        dataset_id = dataset_by_name(session, dataset).id
        rows = load_human_labels(session, dataset_id, None if kind is None else [kind])
        if not rows:
            present = sorted({r.kind for r in load_human_labels(session, dataset_id)})
            hint = f" (kinds present: {', '.join(present)})" if present else ""
            what = f"of kind '{kind}' " if kind else ""
            raise UserError(f"dataset '{dataset}' has no human labels {what}to compare{hint}")
    return {"dataset": dataset, "kind": kind or "all"} | agreement_report(
        rows, n_resamples=resamples, seed=seed
    )


def annotators(engine: Engine, dataset: str, rule: PauseRule) -> dict[str, Any]:
    """Each annotator's gold accuracy, kappa with the majority, status under ``rule``, time
    outliers and automation bias (overrides with the AI label shown or hidden)."""
    from referee.review.bias import bias_report

    with session_factory(engine)() as session:
        dataset_id = dataset_by_name(session, dataset).id
        rows = load_human_labels(session, dataset_id)
        bias = {name: b.to_json() for name, b in bias_report(session, dataset_id).items()}
    if not rows:
        raise UserError(
            f"dataset '{dataset}' has no human labels; import some with referee labels import"
        )
    doc = {"dataset": dataset} | annotators_report(rows, rule)
    for row in doc["annotators"]:
        row["automation_bias"] = bias.get(str(row["annotator"]))
    return doc
