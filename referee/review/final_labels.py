"""Final labels of a dataset with provenance, and the spot-check accuracy alarm.

Every non-frozen pair gets one row (see :func:`final_labels` for the precedence): a ``gold``
label (source ``gold``); else an ``adjudication`` answer (a spot check that disagreed with the
AI label, settled by a second reviewer: :mod:`referee.review.escalation`); else the people's
answers aggregated by ``majority`` (explicit tie policy), ``weighted`` (by gold-check accuracy)
or ``dawid_skene``; else the auto-accepted AI label (source ``ai``); else ``pending``. A
``human_review`` item stays ``pending`` until its k answers are in (k = the queue item's
``required_labels``); a spot check keeps the AI label until then.

Reviewer answers to hidden gold checks are never votes; with Dawid-Skene they are fitted as
responses on clamped gold items, so they teach each reviewer's confusion matrix (Dawid & Skene,
*Applied Statistics* 28(1), 1979).

The spot-check estimate is the one of :mod:`referee.db.routing` (Clopper-Pearson, or
Hajek/Korn-Graubard when the draw was stratified), shared by every report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from formats.rows import Vote
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
from referee.review.quality import (
    AnnotatorQuality,
    annotator_quality,
    gold_labels,
    reviewer_votes_query,
)
from referee.review.service import as_utc
from routing.spot_check_estimate import AccuracyEstimate

Aggregation = Literal["majority", "weighted", "dawid_skene", "dawid-skene", "auto"]
LabelSource = Literal["ai", "human", "gold"]
AGGREGATIONS: tuple[str, ...] = ("majority", "weighted", "dawid-skene")


@dataclass(frozen=True)
class FinalLabel:
    """The label a pair ends with and where it came from.

    ``label`` is None while reviews are pending or a tied vote is unresolved. ``source`` is
    ``gold``, ``human``, ``ai`` or None (pending). ``method`` is one of ``ai``, ``gold``,
    ``majority``, ``weighted``, ``dawid_skene``, ``adjudication``, ``pending``, ``unresolved``.
    ``decision`` is the current routing decision (None when the pair was not routed).
    ``decided_at``: when the deciding label arrived (the routing time for AI labels).
    """

    pair_id: str
    label: str | None
    source: LabelSource | None
    method: str
    decision: str | None
    policy_version: int | None
    decided_at: datetime | None
    votes: tuple[Vote, ...] = ()
    ai_label: str | None = None
    ai_confidence: float | None = None
    reasons: tuple[str, ...] = ()

    @property
    def agreement(self) -> float | None:
        """Share of the human answers on the pair that equal the final label (None without)."""
        if self.label is None or not self.votes or self.source == "ai":
            return None
        return sum(v.label == self.label for v in self.votes) / len(self.votes)

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
            "ai_confidence": self.ai_confidence,
            "agreement": self.agreement,
            "reasons": list(self.reasons),
            "votes": [v.to_json() for v in self.votes],
        }


def _vote(hl: HumanLabel) -> Vote:
    return Vote(
        hl.annotator,
        hl.label,
        hl.kind,
        hl.created_at,
        hl.policy_version,
        hl.reason,
        hl.rationale,
        bool(hl.unsafe),
        hl.strength,
        hl.ratings,
        hl.rubric_version,
        hl.id,
    )


def _votes_by_pair(session: Session, dataset_id: int) -> dict[str, list[Vote]]:
    out: dict[str, list[Vote]] = defaultdict(list)
    for hl in session.scalars(reviewer_votes_query(dataset_id)):
        out[hl.pair_id].append(_vote(hl))
    return out


def _labels_of_kind(session: Session, dataset_id: int, kind: str = "gold") -> dict[str, list[Vote]]:
    """Pair id -> the dataset's labels of ``kind`` (``gold``, or ``adjudication``), in order."""
    out: dict[str, list[Vote]] = defaultdict(list)
    rows = session.scalars(
        select(HumanLabel)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == kind)
        .order_by(HumanLabel.created_at, HumanLabel.id)
    )
    for hl in rows:
        out[hl.pair_id].append(_vote(hl))
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
    """Most common label. Tie policy: the tied label whose voters score best on gold checks
    wins; when that is still a tie (or nobody has gold checks) the pair is ``unresolved``."""
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


def smoothed_accuracy(quality: AnnotatorQuality | None) -> float:
    """A reviewer's gold-check accuracy with add-one smoothing: ``(correct + 1) / (checks + 2)``.

    Laplace's rule of succession, so a reviewer without gold checks weighs 0.5 and one check
    right does not weigh as much as fifty.
    """
    if quality is None:
        return 0.5
    return (quality.correct + 1) / (quality.gold_checks + 2)


def _weighted(votes: Sequence[Vote], weights: dict[str, float]) -> str | None:
    """Label with the largest sum of voter weights (weight = smoothed gold-check accuracy).

    An exact tie of weight sums leaves the pair ``unresolved``.
    """
    totals: dict[str, float] = defaultdict(float)
    for v in votes:
        totals[v.label] += weights.get(v.annotator, 0.5)
    best = max(totals.values())
    winners = [lab for lab, w in totals.items() if abs(w - best) < 1e-12]
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


def _aggregate_name(method: Aggregation) -> str:
    return "dawid_skene" if method == "dawid-skene" else method


PAIR_BATCH = 1_000


@dataclass(frozen=True)
class _LabelInputs:
    """What every pair's final label is computed from: the people's answers (bounded by human
    work, not by the dataset's size), gold, adjudications and the fitted Dawid-Skene labels."""

    method: str
    votes: dict[str, list[Vote]]
    golds: dict[str, list[Vote]]
    adjudicated: dict[str, list[Vote]]
    gold: dict[str, str]
    accuracy: dict[str, float]
    weights: dict[str, float]
    ds_labels: dict[str, str]


def _label_inputs(session: Session, dataset_id: int, method: str) -> _LabelInputs:
    votes = _votes_by_pair(session, dataset_id)
    gold = gold_labels(session, dataset_id)
    quality = annotator_quality(session, dataset_id, gold)
    use_ds = method == "dawid_skene" or (
        method == "auto" and any(len({v.annotator for v in vs}) > 1 for vs in votes.values())
    )
    ds_labels = (
        _dawid_skene(votes, _gold_check_responses(session, dataset_id), gold) if use_ds else {}
    )
    return _LabelInputs(
        method=method,
        votes=votes,
        golds=_labels_of_kind(session, dataset_id),
        adjudicated=_labels_of_kind(session, dataset_id, "adjudication"),
        gold=gold,
        accuracy={name: q.accuracy for name, q in quality.items() if q.accuracy is not None},
        weights={name: smoothed_accuracy(q) for name, q in quality.items()},
        ds_labels=ds_labels,
    )


def _pair_id_pages(session: Session, dataset_id: int, size: int) -> Iterator[list[str]]:
    """The dataset's non-frozen pair ids in id order, ``size`` at a time (keyset pagination)."""
    last: str | None = None
    while True:
        query = select(Pair.id).where(Pair.dataset_id == dataset_id, Pair.frozen_eval.is_(False))
        if last is not None:
            query = query.where(Pair.id > last)
        ids = list(session.scalars(query.order_by(Pair.id).limit(size)))
        if not ids:
            return
        last = ids[-1]
        yield ids


def _decisions_of(
    session: Session, pair_ids: list[str]
) -> dict[str, tuple[RoutingDecision, int | None, int | None]]:
    """Pair id -> (current decision, its policy version, required labels) for ``pair_ids``."""
    rows = session.execute(
        select(RoutingDecision, Policy.version, ReviewQueueItem.required_labels)
        .outerjoin(Policy, Policy.id == RoutingDecision.policy_id)
        .outerjoin(ReviewQueueItem, ReviewQueueItem.decision_id == RoutingDecision.id)
        .where(
            RoutingDecision.pair_id.in_(pair_ids),
            RoutingDecision.current.is_(True),
            RoutingDecision.decision != "frozen_eval",
        )
    ).all()
    return {d.pair_id: (d, version, k) for d, version, k in rows}


def _final_label(
    pid: str,
    found: tuple[RoutingDecision, int | None, int | None] | None,
    inputs: _LabelInputs,
) -> FinalLabel:
    """One pair's final label by the precedence of :func:`final_labels`."""
    decision, version, k = found if found is not None else (None, None, None)
    kind = decision.decision if decision is not None else None
    pair_votes = tuple(inputs.votes.get(pid, ()))
    label: str | None
    source: LabelSource | None = "human"
    decided_at: datetime | None = pair_votes[-1].created_at if pair_votes else None
    shown = pair_votes
    enough = len(pair_votes) >= (k or 1)
    if pid in inputs.gold:
        golds = inputs.golds[pid]
        shown = tuple(golds) + pair_votes
        label, how, decided_at, source = inputs.gold[pid], "gold", golds[-1].created_at, "gold"
    elif pid in inputs.adjudicated:
        settled = tuple(inputs.adjudicated[pid])
        shown = pair_votes + settled
        label, decided_at = _majority(settled, inputs.accuracy), settled[-1].created_at
        how = "adjudication" if label is not None else "unresolved"
    elif pair_votes and (enough or kind is None or kind == "auto_accept"):
        if pid in inputs.ds_labels:
            label, how = inputs.ds_labels[pid], "dawid_skene"
        elif inputs.method == "weighted":
            label, how = _weighted(pair_votes, inputs.weights), "weighted"
        else:
            label, how = _majority(pair_votes, inputs.accuracy), "majority"
        how = how if label is not None else "unresolved"
    elif kind in ("auto_accept", "spot_check") and decision is not None:
        label, how, source, decided_at = decision.label, "ai", "ai", decision.created_at
    else:  # waiting for people, or not routed yet
        label, how, source, decided_at = None, "pending", None, None
    return FinalLabel(
        pair_id=pid,
        label=label,
        source=source,
        method=how,
        decision=kind,
        policy_version=version,
        decided_at=decided_at,
        votes=shown,
        ai_label=decision.label if decision is not None else None,
        ai_confidence=decision.confidence if decision is not None else None,
        reasons=tuple(decision.reasons or ()) if decision is not None else (),
    )


def iter_final_labels(
    session: Session,
    dataset_id: int,
    *,
    method: Aggregation = "majority",
    batch_size: int = PAIR_BATCH,
) -> Iterator[list[FinalLabel]]:
    """:func:`final_labels` in pair-id order, ``batch_size`` pairs at a time.

    Memory holds the people's answers of the dataset (what aggregation needs) and one batch of
    pairs with their current decisions, whatever the number of pairs: pair ids are paged by
    keyset on the primary key, decisions read by ``pair_id IN (batch)``.
    """
    method = _aggregate_name(method)  # type: ignore[assignment]
    if method not in ("majority", "weighted", "dawid_skene", "auto"):
        raise ValueError(f"unknown aggregation '{method}': use majority, weighted or dawid-skene")
    inputs = _label_inputs(session, dataset_id, method)
    for ids in _pair_id_pages(session, dataset_id, batch_size):
        decisions = _decisions_of(session, ids)
        yield [_final_label(pid, decisions.get(pid), inputs) for pid in ids]


def final_labels(
    session: Session, dataset_id: int, *, method: Aggregation = "majority"
) -> list[FinalLabel]:
    """Final labels with provenance for every non-frozen pair of the dataset, by pair id.

    Precedence, per pair: a ``gold`` label (source ``gold``); else an ``adjudication`` answer
    (method ``adjudication``: a second reviewer, an expert when there is one, settled a spot
    check that disagreed with the AI label; several are aggregated by majority) with the
    spot-check answers shown beside it; else the people's answers
    (review, spot check; hidden gold-check and incident answers are never votes), aggregated
    by ``method`` — ``majority`` (tie policy in :func:`_majority`), ``weighted`` (votes weighted
    by :func:`smoothed_accuracy`) or ``dawid_skene`` (Dawid & Skene 1979, gold items clamped) —
    once the queue item has its k answers (before that a ``human_review`` pair is ``pending``
    and a spot-checked pair keeps its accepted AI label); else the auto-accepted AI label
    (source ``ai``); else no label (``pending``: not routed yet, or waiting for people).
    A spot check whose answers disagree with the AI label therefore makes the pair human-labeled.

    The whole list: large datasets should stream :func:`iter_final_labels` instead.
    """
    return [f for batch in iter_final_labels(session, dataset_id, method=method) for f in batch]


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
    """Accuracy of accepted AI labels from the answered current spot checks, against the target.

    One estimator for every reader (``status``, ``report cost``, ``route --recalibrate``, release
    manifests): :func:`referee.db.routing.spot_check_accuracy` — a check is correct when the
    strict majority of its ``spot_check`` answers equals the accepted AI label, with the
    non-response adjustment per stratum. Calibration gold is never counted as a spot check.
    """
    from referee.db.routing import spot_check_accuracy  # routing_store imports the CLI layer

    checks_per_policy = session.execute(  # one row per policy, not per check
        select(RoutingDecision.policy_id, func.count())
        .join(Pair, Pair.id == RoutingDecision.pair_id)
        .where(
            Pair.dataset_id == dataset_id,
            RoutingDecision.current.is_(True),
            RoutingDecision.decision == "spot_check",
        )
        .group_by(RoutingDecision.policy_id)
    ).all()
    targets: Counter[float] = Counter()
    versions: Counter[int] = Counter()
    for policy_id, checks in checks_per_policy:
        policy = session.get(Policy, policy_id) if policy_id is not None else None
        if policy is None:
            continue
        versions[policy.version] += int(checks)
        target = policy.body.get("target_agreement")
        if isinstance(target, int | float):
            targets[float(target)] += int(checks)
    estimate = spot_check_accuracy(session, dataset_id, confidence=confidence)
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
    "AGGREGATIONS",
    "Aggregation",
    "FinalLabel",
    "LabelSource",
    "SpotCheckReport",
    "Vote",
    "final_labels",
    "iter_final_labels",
    "smoothed_accuracy",
    "spot_check_alarm",
    "spot_check_report",
]
