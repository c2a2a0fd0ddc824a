"""Routing decisions written in bounded batches: bulk statements, no ORM objects kept.

Functions take an open :class:`~sqlalchemy.orm.Session`; the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from referee.db.models import Pair, RoutingDecision
from referee.db.queue_generation import mark_policies
from routing.decisions import RoutingDecision as Decision

__all__ = ["CHUNK", "iter_current_decisions", "set_spot_checks", "write_decision_batch"]

#: Ids per ``IN (...)`` list: under SQLite's oldest limit of 999 bound parameters.
CHUNK = 500


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _values(d: Decision) -> dict[str, Any]:
    return {
        "decision": d.decision,
        "label": d.label,
        "source": d.source,
        "reasons": list(d.reasons),
        "confidence": d.confidence,
        "inclusion_probability": d.inclusion_probability,
        "current": True,
    }


def write_decision_batch(
    session: Session, policy_row_id: int, decisions: Sequence[Decision]
) -> None:
    """Make ``decisions`` the current ones for their pairs.

    Earlier decisions of those pairs stay as history with ``current=False``. A pair routed again
    under the same policy version has its row for that version updated in place (the schema
    keeps one row per pair and policy), so review-queue items pointing at it stay valid. One
    bulk UPDATE, one SELECT, one executemany INSERT and one executemany UPDATE per
    :data:`CHUNK` pairs.
    """
    mark_policies(session, [policy_row_id])  # its review queue changes at commit
    pair_ids = [d.pair_id for d in decisions]
    existing: dict[str, int] = {}
    for part in _chunks(pair_ids):
        session.execute(
            update(RoutingDecision)
            .where(RoutingDecision.pair_id.in_(part), RoutingDecision.current.is_(True))
            .values(current=False)
        )
        rows = session.execute(
            select(RoutingDecision.pair_id, RoutingDecision.id).where(
                RoutingDecision.pair_id.in_(part), RoutingDecision.policy_id == policy_row_id
            )
        )
        existing.update({pair_id: row_id for pair_id, row_id in rows})
    new = [
        {"pair_id": d.pair_id, "policy_id": policy_row_id, **_values(d)}
        for d in decisions
        if d.pair_id not in existing
    ]
    again = [{"id": existing[d.pair_id], **_values(d)} for d in decisions if d.pair_id in existing]
    if new:
        # render_nulls: rows with and without None values go in one executemany, not in
        # one statement per pattern of None values
        session.execute(insert(RoutingDecision).execution_options(render_nulls=True), new)
    if again:
        session.execute(update(RoutingDecision), again)


def set_spot_checks(
    session: Session,
    policy_row_id: int,
    inclusion_probability: Mapping[str, float],
    selected: Collection[str],
) -> None:
    """Record each candidate's inclusion probability under policy row ``policy_row_id`` and
    turn the ``selected`` ones into ``spot_check`` decisions (bulk, :data:`CHUNK` ids a time)."""
    mark_policies(session, [policy_row_id])  # its review queue changes at commit
    by_pi: dict[float, list[str]] = defaultdict(list)
    for pair_id, pi in inclusion_probability.items():
        by_pi[pi].append(pair_id)
    mine = RoutingDecision.policy_id == policy_row_id
    for pi, ids in by_pi.items():
        for part in _chunks(ids):
            session.execute(
                update(RoutingDecision)
                .where(RoutingDecision.pair_id.in_(part), mine)
                .values(inclusion_probability=pi)
            )
    for part in _chunks(sorted(selected)):
        session.execute(
            update(RoutingDecision)
            .where(RoutingDecision.pair_id.in_(part), mine)
            .values(decision="spot_check")
        )


def iter_current_decisions(
    session: Session, dataset_id: int, *, batch_size: int = 1000
) -> Iterator[Decision]:
    """The dataset's current decisions by pair id (keyset pages, database order of ids)."""
    last: str | None = None
    while True:
        query = (
            select(
                RoutingDecision.pair_id,
                RoutingDecision.decision,
                RoutingDecision.label,
                RoutingDecision.source,
                RoutingDecision.reasons,
                RoutingDecision.confidence,
                RoutingDecision.inclusion_probability,
            )
            .join(Pair, Pair.id == RoutingDecision.pair_id)
            .where(Pair.dataset_id == dataset_id, RoutingDecision.current.is_(True))
        )
        if last is not None:
            query = query.where(RoutingDecision.pair_id > last)
        rows = list(session.execute(query.order_by(RoutingDecision.pair_id).limit(batch_size)))
        if not rows:
            return
        last = rows[-1][0]
        for pair_id, kind, label, source, reasons, conf, pi in rows:
            yield Decision(pair_id, kind, label, source, tuple(reasons or ()), conf, pi)
