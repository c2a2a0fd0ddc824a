"""The demo's last step: how the labels Referee produced agree with gold it never saw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from referee.db.engine import session_factory
from referee.db.routing import dataset_by_name
from referee.review.final_labels import final_labels

__all__ = ["check_against_held_back"]


def check_against_held_back(
    engine: Engine, dataset: str, held_back: dict[str, str]
) -> dict[str, Any]:
    """Agreement with ``held_back`` (pair id -> gold label) of the dataset's auto-accepted labels
    and of its final labels: counts and shares (None when there is nothing to compare)."""
    with session_factory(engine)() as session:
        dataset_id = dataset_by_name(session, dataset).id
        finals = [f for f in final_labels(session, dataset_id) if f.pair_id in held_back]
    accepted = [f for f in finals if f.method == "ai"]
    labeled = [f for f in finals if f.label is not None]
    agree_ai = sum(f.label == held_back[f.pair_id] for f in accepted)
    agree_all = sum(f.label == held_back[f.pair_id] for f in labeled)
    return {
        "held_back_pairs": len(held_back),
        "auto_accepted": len(accepted),
        "auto_accepted_agreement": agree_ai / len(accepted) if accepted else None,
        "final_labels": len(labeled),
        "final_agreement": agree_all / len(labeled) if labeled else None,
    }
