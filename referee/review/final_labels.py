"""Final labels of a dataset with provenance, and the spot-check accuracy alarm.

Per pair with a current routing decision (``frozen_eval`` pairs are never labeled here):

* a ``gold`` label wins (``method="gold"``, source ``human``);
* ``human_review``: once k reviewer votes are in (k = the queue item's ``required_labels``),
  the aggregate of the votes (``majority`` or ``dawid_skene``); before that ``pending`` with no
  label. A majority tie is broken by the voters' gold-check accuracy, else left ``unresolved``;
* ``spot_check``: the human aggregate once k answers are in, else the accepted AI label;
* ``auto_accept``: the AI label (``method="ai"``).

Reviewer answers to hidden gold checks are never votes; with Dawid-Skene they are fitted as
responses on clamped gold items, so they teach each reviewer's confusion matrix (Dawid & Skene,
*Applied Statistics* 28(1), 1979).

The spot-check estimate feeds each answered spot check (was the accepted AI label confirmed?)
with its inclusion probability to :func:`routing.spot_check_estimate.estimate_accuracy`
(Clopper-Pearson, or Hajek/Korn-Graubard when the draw was stratified).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from referee.db.models import (
    HumanLabel,
    Pair,
    Policy,
    ReviewAssignment,
    Reviewer,
    ReviewQueueItem,
    RoutingDecision,
)
from referee.review.config import GOLD_QUEUE
from referee.review.quality import annotator_quality, gold_labels, reviewer_votes_query
from referee.review.service import as_utc
from routing.spot_check_estimate import AccuracyEstimate, SpotCheckOutcome, estimate_accuracy

Aggregation = Literal["auto", "majority", "dawid_skene"]


@dataclass(frozen=True, slots=True)
class Vote:
    """One person's label on a pair: who, what, when, under which policy."""

    annotator: str
    label: str
    kind: str
    created_at: datetime
    policy_version: int | None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "annotator": self.annotator,
            "label": self.label,
            "kind": self.kind,
            "at": as_utc(self.created_at).isoformat(),
            "policy_version": self.policy_version,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class FinalLabel:
    """The label a pair ends with and where it came from.

    ``label`` is None while reviews are pending or a tied vote is unresolved. ``method`` is one
    of ``ai``, ``gold``, ``majority``, ``dawid_skene``, ``pending``, ``unresolved``.
    ``decided_at``: when the deciding label arrived (the routing time for AI labels).
    """

    pair_id: str
    label: str | None
    source: Literal["ai", "human"]
    method: str
    decision: str
    policy_version: int | None
    decided_at: datetime | None
    votes: tuple[Vote, ...] = ()
    ai_label: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "pair_id": self.pair_id,
            "label": self.label,
            "source": self.source,
            "method": self.method,
            "decision": self.decision,
            "policy_version": self.policy_version,
            "decided_at": as_utc(self.decided_at).isoformat() if self.decided_at else None,
            "ai_label": self.ai_label,
            "votes": [v.to_json() for v in self.votes],
        }


def _votes_by_pair(session: Session, dataset_id: int) -> dict[str, list[Vote]]:
    out: dict[str, list[Vote]] = defaultdict(list)
    for hl in session.scalars(reviewer_votes_query(dataset_id)):
        out[hl.pair_id].append(
            Vote(hl.annotator, hl.label, hl.kind, hl.created_at, hl.policy_version, hl.reason)
        )
    return out


def _gold_votes(session: Session, dataset_id: int) -> dict[str, list[Vote]]:
    out: dict[str, list[Vote]] = defaultdict(list)
    rows = session.scalars(
        select(HumanLabel)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "gold")
        .order_by(HumanLabel.created_at, HumanLabel.id)
    )
    for hl in rows:
        out[hl.pair_id].append(
            Vote(hl.annotator, hl.label, hl.kind, hl.created_at, hl.policy_version, hl.reason)
        )
    return out


def _gold_check_responses(session: Session, dataset_id: int) -> list[tuple[str, str, str]]:
    """(pair, annotator, label) of every answered hidden gold check of the dataset."""
    rows = session.execute(
        select(HumanLabel.pair_id, HumanLabel.annotator, HumanLabel.label)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .join(Reviewer, Reviewer.name == HumanLabel.annotator)
        .join(
            ReviewAssignment,
            and_(
                ReviewAssignment.pair_id == HumanLabel.pair_id,
                ReviewAssignment.reviewer_id == Reviewer.id,
                ReviewAssignment.queue == GOLD_QUEUE,
            ),
        )
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "review")
    )
    return [(p, a, lab) for p, a, lab in rows]


def _majority(votes: Sequence[Vote], accuracy: dict[str, float]) -> str | None:
    """Most common label; a tie goes to the side whose voters score best on gold checks."""
    counts = Counter(v.label for v in votes).most_common()
    top = [lab for lab, n in counts if n == counts[0][1]]
    if len(top) == 1:
        return top[0]
    weight = {
        lab: sum(accuracy.get(v.annotator, 0.0) for v in votes if v.label == lab) for lab in top
    }
    best = max(weight.values())
    winners = [lab for lab in top if weight[lab] == best]
    return winners[0] if len(winners) == 1 else None


def _dawid_skene(
    votes: dict[str, list[Vote]], checks: list[tuple[str, str, str]], gold: dict[str, str]
) -> dict[str, str]:
    from calibration.dawid_skene import DawidSkene  # lazy: only when asked for

    tasks: list[str] = []
    workers: list[str] = []
    labels: list[str] = []
    for pair_id, pair_votes in votes.items():
        for v in pair_votes:
            tasks.append(pair_id)
            workers.append(v.annotator)
            labels.append(v.label)
    for pair_id, annotator, label in checks:
        if pair_id in gold and pair_id not in votes:
            tasks.append(f"gold-check:{pair_id}")
            workers.append(annotator)
            labels.append(label)
    if not tasks:
        return {}
    clamp: dict[Hashable, Hashable] = {f"gold-check:{p}": lab for p, lab in gold.items()}
    fitted = DawidSkene().fit(tasks, workers, labels, gold=clamp).labels_
    return {str(t): str(lab) for t, lab in fitted.items() if not str(t).startswith("gold-check:")}


def final_labels(
    session: Session, dataset_id: int, *, method: Aggregation = "auto"
) -> list[FinalLabel]:
    """Final labels with provenance for every pair with a current, non-frozen decision.

    ``method``: ``majority``; ``dawid_skene``; ``auto`` = Dawid-Skene when some pair has votes
    from two or more reviewers, else majority. Sorted by pair id.
    """
    rows = session.execute(
        select(RoutingDecision, Policy.version, ReviewQueueItem.required_labels)
        .join(Pair, Pair.id == RoutingDecision.pair_id)
        .outerjoin(Policy, Policy.id == RoutingDecision.policy_id)
        .outerjoin(ReviewQueueItem, ReviewQueueItem.decision_id == RoutingDecision.id)
        .where(
            Pair.dataset_id == dataset_id,
            RoutingDecision.current.is_(True),
            RoutingDecision.decision != "frozen_eval",
            Pair.frozen_eval.is_(False),
        )
        .order_by(RoutingDecision.pair_id)
    ).all()
    votes = _votes_by_pair(session, dataset_id)
    golds = _gold_votes(session, dataset_id)
    gold = gold_labels(session, dataset_id)
    accuracy = {
        name: q.accuracy
        for name, q in annotator_quality(session, dataset_id).items()
        if q.accuracy is not None
    }
    use_ds = method == "dawid_skene" or (
        method == "auto" and any(len({v.annotator for v in vs}) > 1 for vs in votes.values())
    )
    ds_labels = (
        _dawid_skene(votes, _gold_check_responses(session, dataset_id), gold) if use_ds else {}
    )
    out: list[FinalLabel] = []
    for decision, version, k in rows:
        pid = decision.pair_id
        pair_votes = tuple(votes.get(pid, ()))
        label: str | None
        source: Literal["ai", "human"] = "human"
        decided_at: datetime | None = pair_votes[-1].created_at if pair_votes else None
        shown = pair_votes
        if pid in gold:
            shown = tuple(golds[pid]) + pair_votes
            label, how, decided_at = gold[pid], "gold", golds[pid][-1].created_at
        elif decision.decision in ("human_review", "spot_check") and len(pair_votes) >= (k or 1):
            if pid in ds_labels:
                label, how = ds_labels[pid], "dawid_skene"
            else:
                label, how = _majority(pair_votes, accuracy), "majority"
            how = how if label is not None else "unresolved"
        elif decision.decision == "human_review":
            label, how, decided_at = None, "pending", None
        else:  # auto_accept, or a spot check not yet answered: the accepted AI label
            label, how, source, decided_at = decision.label, "ai", "ai", decision.created_at
        out.append(
            FinalLabel(
                pair_id=pid,
                label=label,
                source=source,
                method=how,
                decision=decision.decision,
                policy_version=version,
                decided_at=decided_at,
                votes=shown,
                ai_label=decision.label,
            )
        )
    return out


@dataclass(frozen=True)
class SpotCheckReport:
    """Accuracy of accepted AI labels from spot checks, against the policy's target."""

    estimate: AccuracyEstimate
    target: float | None
    policy_version: int | None

    @property
    def below_target(self) -> bool:
        """True when the interval's lower bound is under the target."""
        lower = self.estimate.lower
        return self.target is not None and lower is not None and lower < self.target

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            **self.estimate.to_json(),
            "target": self.target,
            "policy_version": self.policy_version,
            "below_target": self.below_target,
        }


def spot_check_report(
    session: Session, dataset_id: int, *, confidence: float = 0.95
) -> SpotCheckReport:
    """Estimate the accuracy of accepted AI labels from the answered current spot checks."""
    finals = {
        f.pair_id: f
        for f in final_labels(session, dataset_id, method="majority")
        if f.decision == "spot_check"
    }
    decisions = session.execute(
        select(RoutingDecision, Policy)
        .join(Pair, Pair.id == RoutingDecision.pair_id)
        .outerjoin(Policy, Policy.id == RoutingDecision.policy_id)
        .where(
            Pair.dataset_id == dataset_id,
            RoutingDecision.current.is_(True),
            RoutingDecision.decision == "spot_check",
        )
    ).all()
    outcomes: list[SpotCheckOutcome] = []
    targets: Counter[float] = Counter()
    versions: Counter[int] = Counter()
    unweighted = False
    for decision, policy in decisions:
        if policy is not None:
            versions[policy.version] += 1
            target = policy.body.get("target_agreement")
            if isinstance(target, int | float):
                targets[float(target)] += 1
        final = finals.get(decision.pair_id)
        if final is None or final.source != "human" or final.label is None:
            continue
        if decision.label is None:
            continue
        pi = decision.inclusion_probability
        if pi is None or not 0 < pi <= 1:
            unweighted, pi = True, 1.0
        outcomes.append(SpotCheckOutcome(decision.pair_id, final.label == decision.label, pi))
    estimate = estimate_accuracy(
        outcomes, confidence=confidence, method="exact" if unweighted else "auto"
    )
    target = targets.most_common(1)[0][0] if targets else None
    version = versions.most_common(1)[0][0] if versions else None
    return SpotCheckReport(estimate, target, version)


def spot_check_alarm(session: Session, dataset_id: int) -> str | None:
    """A one-line warning when spot checks put accepted-label accuracy below the target.

    None when there is no answered spot check, no target, or the lower bound meets the target.
    """
    report = spot_check_report(session, dataset_id)
    est = report.estimate
    if not report.below_target or est.accuracy is None or est.lower is None:
        return None
    assert est.upper is not None and report.target is not None
    advice = (
        "answer more spot checks to narrow the interval, or run 'referee route --recalibrate'"
        if est.accuracy >= report.target
        else "run 'referee route --recalibrate' to tighten the policy"
    )
    return (
        f"spot checks: accepted AI labels are {est.accuracy:.1%} accurate "
        f"({est.confidence:.0%} CI {est.lower:.1%}-{est.upper:.1%}, {est.n} checks), lower "
        f"bound below the policy target {report.target:.1%} (policy v{report.policy_version}); "
        f"{advice}"
    )


__all__ = [
    "Aggregation",
    "FinalLabel",
    "SpotCheckReport",
    "Vote",
    "final_labels",
    "spot_check_alarm",
    "spot_check_report",
]
