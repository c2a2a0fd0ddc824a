"""Database rows → plain calibration data (:class:`calibration.signals.PairSignals`, gold)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from calibration.signals import PairSignals, majority_label, signals_from_records
from referee.db.models import HumanLabel, Judgment, Pair

__all__ = ["load_gold", "load_pair_signals"]


def load_pair_signals(
    session: Session,
    dataset_id: int,
    judges: Sequence[str] | None = None,
    pair_ids: Collection[str] | None = None,
) -> list[PairSignals]:
    """Every pair of the dataset (or of ``pair_ids``) with its judges' verdicts in both orders.

    When a (pair, judge, order) was judged under several prompt versions or several times, the
    newest judgment (latest ``created_at``, then highest id) is used. Pairs nobody judged are
    included with no judges, so callers can route them as ``not_judged``.

    A pair is flagged for judge injection when any judge's verdict flagged it or when the
    detector (:func:`judge.injection.scan_responses`) finds an attempt in its responses: verdicts
    recorded outside Referee (``judgments import``) were never scanned, and a flagged pair is
    never auto-accepted under any policy.
    """
    from judge.injection import scan_responses

    pair_query = select(Pair.id, Pair.response_a, Pair.response_b, Pair.meta).where(
        Pair.dataset_id == dataset_id
    )
    judgment_query = (
        select(Judgment)
        .join(Pair, Pair.id == Judgment.pair_id)
        .where(Pair.dataset_id == dataset_id)
        .order_by(Judgment.created_at, Judgment.id)
    )
    if judges:
        judgment_query = judgment_query.where(Judgment.judge.in_(list(judges)))
    wanted = set(pair_ids) if pair_ids is not None else None
    pairs: list[dict[str, Any]] = [
        {"id": pid, "response_a": a, "response_b": b, "meta": meta or {}}
        for pid, a, b, meta in session.execute(pair_query)
        if wanted is None or pid in wanted
    ]
    flagged = {p["id"] for p in pairs if scan_responses(p["response_a"], p["response_b"]).suspected}
    records: list[dict[str, Any]] = []
    for j in session.scalars(judgment_query):
        if wanted is not None and j.pair_id not in wanted:
            continue
        records.append(
            {
                "pair_id": j.pair_id,
                "judge": j.judge,
                "order": j.order,
                "winner": j.winner,
                "confidence": j.confidence,
                "logprob_confidence": j.logprob_confidence,
                "injection_suspected": j.injection_suspected or j.pair_id in flagged,
            }
        )
    return signals_from_records(records, pairs)


def load_gold(session: Session, dataset_id: int, kind: str = "gold") -> dict[str, str]:
    """Pair id → human label of ``kind``; several annotators → strict majority, else left out."""
    query = (
        select(HumanLabel.pair_id, HumanLabel.label)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == kind)
    )
    by_pair: dict[str, list[str]] = {}
    for pair_id, label in session.execute(query):
        by_pair.setdefault(pair_id, []).append(label)
    gold: dict[str, str] = {}
    for pair_id, labels in by_pair.items():
        winner = majority_label(labels)
        if winner is not None:
            gold[pair_id] = winner
    return gold
