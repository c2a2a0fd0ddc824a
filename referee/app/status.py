"""``referee status``: counts of pairs, labels, judgments and decisions, and the alarms."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from referee.db.engine import session_factory
from referee.db.status import dataset_names, dataset_status

__all__ = ["status"]


def status(engine: Engine, dataset: str | None) -> dict[str, Any]:
    """Every dataset's counts together, or one dataset's with its spot-check estimate and its
    alarms (spot checks, drift)."""
    counts: dict[str, Any]
    if not dataset:  # counts alone need no ORM session (``referee status`` starts faster)
        with engine.connect() as conn:
            counts = dataset_status(conn, None)
            counts.update(dataset=dataset, datasets=dataset_names(conn), alarm=None)
            counts.update(spot_check=None, drift_alarms=[])
        return counts
    # only now: the routing repository and the reports load scipy and scikit-learn
    from referee.db.routing import dataset_by_name
    from referee.reports.drift import drift_alarms
    from referee.review.final_labels import spot_check_alarm, spot_check_report

    with session_factory(engine)() as session:
        dataset_id = dataset_by_name(session, dataset).id
        counts = dataset_status(session, dataset_id)
        counts["dataset"] = dataset
        counts["datasets"] = [dataset]
        counts["alarm"] = spot_check_alarm(session, dataset_id)
        counts["spot_check"] = spot_check_report(session, dataset_id).to_json()
        counts["drift_alarms"] = drift_alarms(session, dataset_id)
    return counts
