"""Small reads the application functions need: counts and ids of one dataset's rows.

Functions take an open :class:`~sqlalchemy.orm.Session`; the caller owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referee.db.models import Judgment, Pair, Policy

__all__ = [
    "JudgeUsage",
    "find_pair",
    "judge_usage",
    "judged_pair_ids",
    "pair_count",
    "pair_ids",
    "policy_count",
]

#: (judge, verdicts, tokens in + out, cost) of one judge in one dataset
JudgeUsage = tuple[str, int, int, float]


def policy_count(session: Session, dataset_id: int) -> int:
    """How many policy versions the dataset has."""
    return int(session.scalar(select(func.count()).where(Policy.dataset_id == dataset_id)) or 0)


def pair_count(session: Session, dataset_id: int, *, frozen_eval: bool | None = None) -> int:
    """Pairs of the dataset (only those with ``frozen_eval`` equal to it when it is given)."""
    query = select(func.count()).select_from(Pair).where(Pair.dataset_id == dataset_id)
    if frozen_eval is not None:
        query = query.where(Pair.frozen_eval.is_(frozen_eval))
    return int(session.scalar(query) or 0)


def pair_ids(session: Session, dataset_id: int) -> list[str]:
    """Every pair id of the dataset."""
    return list(session.scalars(select(Pair.id).where(Pair.dataset_id == dataset_id)))


def judged_pair_ids(session: Session, dataset_id: int, judge: str) -> set[str]:
    """The pairs of the dataset ``judge`` has a stored verdict on."""
    return set(
        session.scalars(
            select(Judgment.pair_id)
            .join(Pair, Pair.id == Judgment.pair_id)
            .where(Pair.dataset_id == dataset_id, Judgment.judge == judge)
        )
    )


def find_pair(session: Session, dataset_id: int, pair_id: str) -> Pair | None:
    """Pair ``pair_id`` of the dataset, or None."""
    return session.scalar(select(Pair).where(Pair.id == pair_id, Pair.dataset_id == dataset_id))


def judge_usage(session: Session, dataset_id: int) -> list[JudgeUsage]:
    """Per judge, by name: verdicts, tokens used and their summed cost in the dataset."""
    rows = session.execute(
        select(
            Judgment.judge,
            func.count(),
            func.sum(Judgment.tokens_in + Judgment.tokens_out),
            func.sum(Judgment.cost),
        )
        .join(Pair, Pair.id == Judgment.pair_id)
        .where(Pair.dataset_id == dataset_id)
        .group_by(Judgment.judge)
        .order_by(Judgment.judge)
    ).all()
    return [
        (judge, int(calls), int(tokens or 0), float(spend or 0.0))
        for judge, calls, tokens, spend in rows
    ]
