"""Counts that describe what is stored: pairs, labels, judgments, decisions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referee.db.models import Dataset, HumanLabel, Judgment, Pair, RoutingDecision


def dataset_status(session: Session, dataset_id: int | None) -> dict[str, Any]:
    """Counts for one dataset (or every dataset when ``dataset_id`` is None).

    Returns ``{"pairs", "frozen_eval_pairs", "labels": {kind: n}, "judgments":
    {judge: {order: n}}, "judgment_status": {status: n}, "decisions": {decision: n}}``.
    """

    def scoped(query: Any, pair_column: Any) -> Any:
        if dataset_id is None:
            return query
        return query.join(Pair, Pair.id == pair_column).where(Pair.dataset_id == dataset_id)

    pairs_q = select(func.count()).select_from(Pair)
    frozen_q = select(func.count()).select_from(Pair).where(Pair.frozen_eval.is_(True))
    if dataset_id is not None:
        pairs_q = pairs_q.where(Pair.dataset_id == dataset_id)
        frozen_q = frozen_q.where(Pair.dataset_id == dataset_id)

    labels = dict(
        session.execute(
            scoped(
                select(HumanLabel.kind, func.count()).select_from(HumanLabel), HumanLabel.pair_id
            ).group_by(HumanLabel.kind)
        ).all()
    )
    judgments: dict[str, dict[str, int]] = {}
    for judge, order, count in session.execute(
        scoped(
            select(Judgment.judge, Judgment.order, func.count()).select_from(Judgment),
            Judgment.pair_id,
        ).group_by(Judgment.judge, Judgment.order)
    ):
        judgments.setdefault(judge, {})[order] = count
    statuses = dict(
        session.execute(
            scoped(
                select(Judgment.status, func.count()).select_from(Judgment), Judgment.pair_id
            ).group_by(Judgment.status)
        ).all()
    )
    decisions = dict(
        session.execute(
            scoped(
                select(RoutingDecision.decision, func.count())
                .select_from(RoutingDecision)
                .where(RoutingDecision.current.is_(True)),
                RoutingDecision.pair_id,
            ).group_by(RoutingDecision.decision)
        ).all()
    )
    return {
        "pairs": session.scalar(pairs_q) or 0,
        "frozen_eval_pairs": session.scalar(frozen_q) or 0,
        "labels": {str(k): int(v) for k, v in sorted(labels.items())},
        "judgments": {j: dict(sorted(o.items())) for j, o in sorted(judgments.items())},
        "judgment_status": {str(k): int(v) for k, v in sorted(statuses.items())},
        "decisions": {str(k): int(v) for k, v in sorted(decisions.items())},
    }


def dataset_names(session: Session) -> list[str]:
    """Every dataset's name, sorted."""
    return list(session.scalars(select(Dataset.name).order_by(Dataset.name)))
