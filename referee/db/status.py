"""Counts that describe what is stored: pairs, labels, judgments, decisions.

The queries use the light table clauses of :mod:`referee.db.tables` and run on a plain
connection or an ORM session alike, so ``referee status`` needs no ORM.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select

from referee.db.tables import datasets, human_labels, judgments, pairs, routing_decisions

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def dataset_status(db: Connection | Session, dataset_id: int | None) -> dict[str, Any]:
    """Counts for one dataset (or every dataset when ``dataset_id`` is None).

    Returns ``{"pairs", "frozen_eval_pairs", "labels": {kind: n}, "judgments":
    {judge: {order: n}}, "judgment_status": {status: n}, "decisions": {decision: n}}``.
    """
    pair = pairs.c

    def scoped(query: Any, pair_column: Any) -> Any:
        if dataset_id is None:
            return query
        return query.join(pairs, pair.id == pair_column).where(pair.dataset_id == dataset_id)

    pairs_q = select(func.count()).select_from(pairs)
    frozen_q = select(func.count()).select_from(pairs).where(pair.frozen_eval.is_(True))
    if dataset_id is not None:
        pairs_q = pairs_q.where(pair.dataset_id == dataset_id)
        frozen_q = frozen_q.where(pair.dataset_id == dataset_id)

    label, judgment, decision = human_labels.c, judgments.c, routing_decisions.c
    labels = dict(
        db.execute(
            scoped(
                select(label.kind, func.count()).select_from(human_labels), label.pair_id
            ).group_by(label.kind)
        ).all()
    )
    by_judge: dict[str, dict[str, int]] = {}
    for judge, order, count in db.execute(
        scoped(
            select(judgment.judge, judgment.order, func.count()).select_from(judgments),
            judgment.pair_id,
        ).group_by(judgment.judge, judgment.order)
    ):
        by_judge.setdefault(judge, {})[order] = count
    statuses = dict(
        db.execute(
            scoped(
                select(judgment.status, func.count()).select_from(judgments), judgment.pair_id
            ).group_by(judgment.status)
        ).all()
    )
    decisions = dict(
        db.execute(
            scoped(
                select(decision.decision, func.count())
                .select_from(routing_decisions)
                .where(decision.current.is_(True)),
                decision.pair_id,
            ).group_by(decision.decision)
        ).all()
    )
    return {
        "pairs": db.scalar(pairs_q) or 0,
        "frozen_eval_pairs": db.scalar(frozen_q) or 0,
        "labels": {str(k): int(v) for k, v in sorted(labels.items())},
        "judgments": {j: dict(sorted(o.items())) for j, o in sorted(by_judge.items())},
        "judgment_status": {str(k): int(v) for k, v in sorted(statuses.items())},
        "decisions": {str(k): int(v) for k, v in sorted(decisions.items())},
    }


def dataset_names(db: Connection | Session) -> list[str]:
    """Every dataset's name, sorted."""
    return list(db.scalars(select(datasets.c.name).order_by(datasets.c.name)))
