"""Reviewer answers: which labels are votes on a pair, which are hidden gold checks, and the
accuracy of each annotator on the gold checks they answered.

A gold check is stored as a ``review`` label whose (pair, reviewer) assignment has queue
``gold``; it is a test of the reviewer, never a vote on the pair.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from referee.db.models import HumanLabel, Pair, ReviewAssignment, Reviewer
from referee.review.config import GOLD_QUEUE

REVIEW_KINDS = ("review", "spot_check")


def _is_gold_check() -> Any:
    """SQL: the HumanLabel row answers a hidden gold check."""
    return (
        select(ReviewAssignment.id)
        .join(Reviewer, Reviewer.id == ReviewAssignment.reviewer_id)
        .where(
            ReviewAssignment.pair_id == HumanLabel.pair_id,
            ReviewAssignment.queue == GOLD_QUEUE,
            Reviewer.name == HumanLabel.annotator,
        )
        .exists()
    )


def reviewer_votes_query(dataset_id: int) -> Select[HumanLabel]:
    """Review and spot-check labels of the dataset's pairs, gold-check answers excluded."""
    return (
        select(HumanLabel)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(
            Pair.dataset_id == dataset_id,
            HumanLabel.kind.in_(REVIEW_KINDS),
            ~_is_gold_check(),
        )
        .order_by(HumanLabel.pair_id, HumanLabel.created_at, HumanLabel.id)
    )


def gold_labels(session: Session, dataset_id: int) -> dict[str, str]:
    """Pair id -> the gold label (majority over gold annotators; ties left out)."""
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    rows = session.execute(
        select(HumanLabel.pair_id, HumanLabel.label)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "gold")
    )
    for pair_id, label in rows:
        votes[pair_id][label] += 1
    out: dict[str, str] = {}
    for pair_id, counter in votes.items():
        ranked = counter.most_common()
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            out[pair_id] = ranked[0][0]
    return out


@dataclass(frozen=True, slots=True)
class AnnotatorQuality:
    """One annotator's record on hidden gold checks; ``accuracy`` is None before the first."""

    annotator: str
    gold_checks: int
    correct: int

    @property
    def accuracy(self) -> float | None:
        """Share of gold checks answered like the gold label."""
        return self.correct / self.gold_checks if self.gold_checks else None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "annotator": self.annotator,
            "gold_checks": self.gold_checks,
            "correct": self.correct,
            "accuracy": self.accuracy,
        }


def annotator_quality(
    session: Session, dataset_id: int, gold: Mapping[str, str] | None = None
) -> dict[str, AnnotatorQuality]:
    """Annotator name -> record on the dataset's gold checks (annotators with at least one).

    ``gold`` is the dataset's :func:`gold_labels` when the caller has read them already."""
    if gold is None:
        gold = gold_labels(session, dataset_id)
    rows = session.execute(
        select(HumanLabel.annotator, HumanLabel.pair_id, HumanLabel.label)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(and_(Pair.dataset_id == dataset_id, HumanLabel.kind == "review", _is_gold_check()))
    )
    checks: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for annotator, pair_id, label in rows:
        if pair_id not in gold:
            continue
        checks[annotator] += 1
        right[annotator] += int(label == gold[pair_id])
    return {name: AnnotatorQuality(name, checks[name], right[name]) for name in sorted(checks)}


__all__ = [
    "REVIEW_KINDS",
    "AnnotatorQuality",
    "annotator_quality",
    "gold_labels",
    "reviewer_votes_query",
]
