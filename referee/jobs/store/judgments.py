"""A chunk's reads and writes of verdicts: the pairs' texts with the verdicts already stored, and
the new verdicts stored idempotently together with each item's new status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam, select, update

from judge.conversation import messages_from_json
from judge.labels import Order
from judge.types import OrderVerdict, PairText
from referee.db.engine import transaction
from referee.db.models import JobItem, Judgment, Pair
from referee.jobs.store._sql import batches, insert_for, utcnow
from workers.outcomes import JudgeKey, PairOutcome


def load_chunk(
    engine: Engine, pair_ids: Sequence[str], judges: Sequence[JudgeKey]
) -> tuple[list[PairText], dict[str, dict[tuple[str, Order], OrderVerdict]]]:
    """The chunk's pair texts and, in one query, the verdicts already stored for them."""
    names = sorted({j.name for j in judges})
    wanted = {(j.name, v) for j in judges for v in j.versions}
    versions = sorted({v for _, v in wanted})
    with transaction(engine) as session:
        pairs = [
            PairText(
                pair_id=p.id,
                prompt=p.prompt,
                response_a=p.response_a,
                response_b=p.response_b,
                messages=messages_from_json(p.messages),
            )
            for p in session.scalars(
                select(Pair).where(Pair.id.in_(list(pair_ids))).order_by(Pair.id)
            )
        ]
        rows = session.scalars(
            select(Judgment).where(
                Judgment.pair_id.in_(list(pair_ids)),
                Judgment.judge.in_(names),
                Judgment.prompt_version.in_(versions),
                Judgment.status.in_(("ok", "unparseable")),
            )
        ).all()
    existing: dict[str, dict[tuple[str, Order], OrderVerdict]] = {}
    for row in rows:
        if (row.judge, row.prompt_version) not in wanted or row.order not in ("AB", "BA"):
            continue
        order: Order = "AB" if row.order == "AB" else "BA"
        existing.setdefault(row.pair_id, {})[(row.judge, order)] = OrderVerdict(
            order=order,
            winner=row.winner,
            status="ok" if row.status == "ok" else "unparseable",
            prompt_version=row.prompt_version,
            confidence=row.confidence,
            logprob_confidence=row.logprob_confidence,
            rationale=row.rationale,
            raw=row.raw,
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
            cost=row.cost,
            latency_ms=row.latency_ms,
            error=row.error,
            injection_suspected=row.injection_suspected,
            reused=True,
            turns_dropped=row.turns_dropped,
        )
    return pairs, existing


def _judgment_row(job_id: int, pair_id: str, judge: str, v: OrderVerdict) -> dict[str, Any]:
    return {
        "pair_id": pair_id,
        "judge": judge,
        "order": v.order,
        "prompt_version": v.prompt_version,
        "winner": v.winner,
        "confidence": v.confidence,
        "logprob_confidence": v.logprob_confidence,
        "rationale": v.rationale,
        "raw": v.raw,
        "tokens_in": v.tokens_in,
        "tokens_out": v.tokens_out,
        "cost": v.cost,
        "latency_ms": v.latency_ms,
        "status": v.status,
        "error": v.error,
        "injection_suspected": v.injection_suspected,
        "job_id": job_id,
        "created_at": utcnow(),
        "turns_dropped": v.turns_dropped,
    }


def record_outcomes(engine: Engine, job_id: int, outcomes: Sequence[PairOutcome]) -> None:
    """Store new verdicts (idempotently) and move each item to its new status, in one transaction.

    Only ``ok`` and ``unparseable`` verdicts are stored; an item that is no longer pending (another
    delivery finished it) keeps its status.
    """
    if not outcomes:
        return
    rows = [
        _judgment_row(job_id, o.pair_id, judge, v)
        for o in outcomes
        for judge, v in o.new_verdicts
        if v.status in ("ok", "unparseable")
    ]
    now = utcnow()
    with transaction(engine) as session:
        # Core statements on the session's connection: one executemany each, no ORM bulk
        # bookkeeping (psycopg pipelines the parameter sets in one round trip).
        conn = session.connection()
        for part in batches(rows):
            stmt = insert_for(engine, Judgment).on_conflict_do_nothing(
                index_elements=["pair_id", "judge", "order", "prompt_version"]
            )
            conn.execute(stmt, list(part))
        items = cast(Table, JobItem.__table__)
        conn.execute(
            update(items)
            .where(
                items.c.job_id == job_id,
                items.c.pair_id == bindparam("item_pair"),
                items.c.status == "pending",
            )
            .values(
                status=bindparam("item_status"),
                error=bindparam("item_error"),
                cost=items.c.cost + bindparam("item_cost"),
                updated_at=now,
            ),
            [
                {
                    "item_pair": o.pair_id,
                    "item_status": o.status,
                    "item_error": o.error,
                    "item_cost": o.cost,
                }
                for o in outcomes
            ],
        )


__all__ = ["load_chunk", "record_outcomes"]
