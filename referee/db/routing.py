"""Database side of routing: policies in, decisions out, and the figures of the cost report.

Everything here reads or writes rows and hands plain data to the pure ``routing`` package.
Functions take an open :class:`~sqlalchemy.orm.Session`; the caller owns the transaction.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from calibration.agreement import percent_agreement_from_counts, rating_counts
from calibration.bootstrap import bootstrap_ci
from calibration.cascade import CascadePolicy, is_cascade_body
from calibration.policy import AcceptPolicy
from kernel.errors import UserError
from referee.db.datasets import find_dataset
from referee.db.decisions import write_decision_batch
from referee.db.models import (
    AuditEntry,
    Dataset,
    HumanLabel,
    Judgment,
    Pair,
    Policy,
    RoutingDecision,
)
from referee.db.signals import load_gold, load_pair_signals
from routing.cost import Interval
from routing.decisions import RoutingDecision as Decision
from routing.router import AnyPolicy, RouteOptions
from routing.spot_check_estimate import AccuracyEstimate, SpotCheckOutcome, estimate_accuracy

__all__ = [
    "GoldScores",
    "HumanWork",
    "LoadedPolicy",
    "dataset_by_name",
    "decision_counts",
    "frozen_pair_ids",
    "gold_pair_ids",
    "gold_scores",
    "human_agreement",
    "human_work",
    "judge_spend",
    "label_counts",
    "load_policy",
    "route_options",
    "spot_check_accuracy",
    "spot_check_confidences",
    "spot_check_confirmed",
    "spot_check_outcomes",
    "store_decisions",
    "store_policy_version",
    "top_label",
]


dataset_by_name = find_dataset  # the one lookup (referee.db.datasets); a UserError for the CLI


@dataclass(frozen=True)
class LoadedPolicy:
    """A stored policy row and the policy object built from its body."""

    row_id: int
    version: int
    policy: AnyPolicy
    body: dict[str, Any]

    def single(self, what: str) -> AcceptPolicy:
        """The policy when it is a single one; a :class:`UserError` naming ``what`` cannot be
        done with a cascade (one threshold per stage)."""
        if isinstance(self.policy, AcceptPolicy):
            return self.policy
        raise UserError(
            f"policy v{self.version} is a judge cascade, which has one threshold per stage: "
            f"{what} works on a single policy (run `referee calibrate` without --cascade)"
        )


def load_policy(session: Session, dataset: Dataset, which: str = "latest") -> LoadedPolicy:
    """The dataset's newest policy (``which="latest"``) or version ``which``.

    Raises :class:`UserError` when there is none (run ``referee calibrate``) or the version is
    unknown.
    """
    query = select(Policy).where(Policy.dataset_id == dataset.id)
    if which == "latest":
        row = session.scalar(query.order_by(Policy.version.desc()).limit(1))
        if row is None:
            raise UserError(
                f"dataset {dataset.name!r} has no routing policy yet: run "
                f"`referee calibrate --dataset {dataset.name}` first"
            )
    else:
        try:
            version = int(which.lstrip("v"))
        except ValueError as exc:
            raise UserError(f"--policy {which!r}: use latest or a version number") from exc
        row = session.scalar(query.where(Policy.version == version))
        if row is None:
            versions = sorted(
                session.scalars(select(Policy.version).where(Policy.dataset_id == dataset.id))
            )
            raise UserError(
                f"dataset {dataset.name!r} has no policy version {version} "
                f"(versions: {', '.join(map(str, versions)) or 'none; run referee calibrate'})"
            )
    try:
        policy: AnyPolicy = (
            CascadePolicy.from_json(row.body)
            if is_cascade_body(row.body)
            else AcceptPolicy.from_json(row.body)
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(
            f"policy version {row.version} of {dataset.name!r} cannot be read ({exc}); "
            "run `referee calibrate` to store a new one"
        ) from exc
    return LoadedPolicy(row.id, row.version, policy, dict(row.body))


def route_options(body: dict[str, Any]) -> RouteOptions:
    """Extra gates a stored policy may ask for (``primary_judge``, ``gate_panel_disagreement``)."""
    primary = body.get("primary_judge")
    return RouteOptions(
        primary_judge=str(primary) if primary else None,
        gate_panel_disagreement=bool(body.get("gate_panel_disagreement", False)),
    )


def frozen_pair_ids(session: Session, dataset_id: int) -> set[str]:
    """Ids of the dataset's frozen-evaluation pairs."""
    query = select(Pair.id).where(Pair.dataset_id == dataset_id, Pair.frozen_eval.is_(True))
    return set(session.scalars(query))


def gold_pair_ids(session: Session, dataset_id: int) -> set[str]:
    """Ids of the dataset's pairs with a ``gold`` label: their answer is known, so they are
    never paid review or spot-check items (they may still be served as hidden gold checks)."""
    query = (
        select(HumanLabel.pair_id)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "gold")
        .distinct()
    )
    return set(session.scalars(query))


def store_decisions(
    session: Session,
    dataset: Dataset,
    policy_row_id: int,
    decisions: Sequence[Decision],
    *,
    actor: str,
    detail: dict[str, Any],
) -> None:
    """Make ``decisions`` the current ones for their pairs, with one audit entry for the run.

    Earlier decisions of those pairs stay as history with ``current=False``. A pair routed
    again under the same policy version has its row for that version updated in place (the
    schema keeps one row per pair and policy), so review-queue items pointing at it stay valid.
    """
    write_decision_batch(session, policy_row_id, decisions)
    session.add(
        AuditEntry(
            actor=actor,
            action="route",
            entity="dataset",
            entity_id=str(dataset.id),
            detail=detail,
        )
    )


def store_policy_version(
    session: Session, dataset: Dataset, body: dict[str, Any], report: Mapping[str, Any]
) -> tuple[int, int]:
    """Store a policy ``body`` (``AcceptPolicy.to_json()`` plus options) as the next version.

    Returns ``(row id, version)``.
    """
    previous = session.scalar(
        select(func.max(Policy.version)).where(Policy.dataset_id == dataset.id)
    )
    version = (previous or 0) + 1
    row = Policy(dataset_id=dataset.id, version=version, body=body, report=dict(report))
    session.add(row)
    session.flush()
    return row.id, version


def top_label(labels: Sequence[str]) -> str | None:
    """The most common of ``labels``; None when there are none or two tie for first."""
    counts = Counter(labels).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def spot_check_confirmed(ai_label: str | None, answers: Sequence[str]) -> bool:
    """Whether people's spot-check ``answers`` confirm the accepted ``ai_label``: their most
    common answer is that label (a split vote does not confirm). The one rule for every
    spot-check figure (the estimate, drift over time)."""
    return ai_label is not None and top_label(answers) == ai_label


def spot_check_outcomes(session: Session, dataset_id: int) -> list[SpotCheckOutcome]:
    """Answered spot checks of the dataset's current decisions, as estimator input.

    A spot check is *correct* when the strict majority of its ``spot_check`` labels equals the
    accepted AI label (a split vote counts as not confirmed). Strata are the groups of equal
    inclusion probability; within a stratum the answered checks are taken as a random subset
    of the drawn ones, so each ``pi`` is multiplied by the stratum's answered share
    (non-response adjustment by weighting classes; Särndal et al. 1992, §15.6).
    """
    rows = session.execute(
        select(
            RoutingDecision.pair_id, RoutingDecision.label, RoutingDecision.inclusion_probability
        )
        .join(Pair, Pair.id == RoutingDecision.pair_id)
        .where(
            Pair.dataset_id == dataset_id,
            RoutingDecision.current.is_(True),
            RoutingDecision.decision == "spot_check",
        )
    ).all()
    if not rows:
        return []
    answers: dict[str, list[str]] = defaultdict(list)
    for pair_id, label in session.execute(
        select(HumanLabel.pair_id, HumanLabel.label)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "spot_check")
    ):
        answers[pair_id].append(label)
    drawn: Counter[float] = Counter()
    answered: Counter[float] = Counter()
    for pair_id, _ai_label, pi in rows:
        key = round(float(pi or 0.0), 12)
        drawn[key] += 1
        if answers.get(pair_id):
            answered[key] += 1
    out: list[SpotCheckOutcome] = []
    for pair_id, ai_label, pi in rows:
        if not answers.get(pair_id) or not pi:
            continue
        key = round(float(pi), 12)
        adjusted = float(pi) * answered[key] / drawn[key]
        correct = spot_check_confirmed(ai_label, answers[pair_id])
        out.append(SpotCheckOutcome(pair_id, correct, adjusted, stratum=key))
    return sorted(out, key=lambda o: o.pair_id)


def spot_check_confidences(session: Session, dataset_id: int) -> dict[str, float]:
    """Pair id -> calibrated confidence of the dataset's current ``spot_check`` decisions."""
    rows = session.execute(
        select(RoutingDecision.pair_id, RoutingDecision.confidence)
        .join(Pair, Pair.id == RoutingDecision.pair_id)
        .where(
            Pair.dataset_id == dataset_id,
            RoutingDecision.current.is_(True),
            RoutingDecision.decision == "spot_check",
        )
    )
    return {pid: float(conf) for pid, conf in rows if conf is not None}


def spot_check_accuracy(
    session: Session, dataset_id: int, *, confidence: float = 0.95
) -> AccuracyEstimate:
    """Estimated accuracy of the dataset's accepted AI labels (``routing.spot_check_estimate``)."""
    return estimate_accuracy(spot_check_outcomes(session, dataset_id), confidence=confidence)


def decision_counts(session: Session, dataset_id: int) -> dict[str, int]:
    """Current decisions per kind."""
    rows = session.execute(
        select(RoutingDecision.decision, func.count())
        .join(Pair, Pair.id == RoutingDecision.pair_id)
        .where(Pair.dataset_id == dataset_id, RoutingDecision.current.is_(True))
        .group_by(RoutingDecision.decision)
    ).all()
    return {str(k): int(v) for k, v in rows}


@dataclass(frozen=True)
class HumanWork:
    """What people were asked to do and did on a dataset, gold pairs apart.

    ``decisions``: current decisions per kind of non-gold pairs (``human_review`` and
    ``spot_check`` are the paid items). ``gold_pairs`` / ``gold_labels``: pairs with a gold label
    and gold labels stored; ``gold_final``: gold pairs among the final labels (routed, not
    frozen). ``review_done`` / ``spot_check_done``: review and spot-check labels on non-gold
    pairs; ``gold_check_done``: review and spot-check labels on gold pairs (hidden gold checks,
    and answers given before gold pairs left the queues); ``second_look_done``: adjudications
    and incident reviews.
    """

    decisions: dict[str, int]
    gold_pairs: int
    gold_labels: int
    gold_final: int
    review_done: int
    spot_check_done: int
    gold_check_done: int
    second_look_done: int = 0


def human_work(session: Session, dataset_id: int) -> HumanWork:
    """Paid items, gold and labels done of the dataset (see :class:`HumanWork`).

    Counted by the database (GROUP BY on whether the pair has a gold label), so memory does not
    grow with the dataset."""
    gold_ids = (
        select(HumanLabel.pair_id)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "gold")
    )
    gold_pairs = session.scalar(select(func.count()).select_from(gold_ids.distinct().subquery()))
    decisions: Counter[str] = Counter()
    gold_final = 0
    current = (Pair.dataset_id == dataset_id, RoutingDecision.current.is_(True))
    routed = _counts_by_gold(
        session, RoutingDecision.decision, RoutingDecision.pair_id, gold_ids, *current
    )
    for kind, is_gold, n in routed:
        if is_gold:
            gold_final += int(n) * int(kind != "frozen_eval")
        else:
            decisions[str(kind)] += int(n)
    done: Counter[str] = Counter()
    gold_labels = 0
    labels = _counts_by_gold(
        session, HumanLabel.kind, HumanLabel.pair_id, gold_ids, Pair.dataset_id == dataset_id
    )
    for kind, is_gold, n in labels:
        if kind == "gold":
            gold_labels += int(n)
        elif kind in ("adjudication", "incident"):
            done["second_look"] += int(n)
        else:
            done["gold_check" if is_gold else str(kind)] += int(n)
    return HumanWork(
        dict(decisions),
        int(gold_pairs or 0),
        gold_labels,
        gold_final,
        done["review"],
        done["spot_check"],
        done["gold_check"],
        done["second_look"],
    )


def _counts_by_gold(
    session: Session,
    kind: InstrumentedAttribute[str],
    pair_id: InstrumentedAttribute[str],
    gold_ids: Select[Any],
    *where: ColumnElement[bool],
) -> list[tuple[str, int, int]]:
    """``(kind, 1 if the pair has a gold label else 0, count)`` of the rows ``where`` selects,
    ``kind`` and ``pair_id`` being columns of one table joined to its pair."""
    on_gold = case((pair_id.in_(gold_ids), 1), else_=0)
    query = (
        select(kind, on_gold, func.count())
        .join(Pair, Pair.id == pair_id)
        .where(*where)
        .group_by(kind, on_gold)
    )
    return [(str(k), int(g), int(n)) for k, g, n in session.execute(query)]


def judge_spend(session: Session, dataset_id: int) -> float:
    """Sum of the stored cost of every judgment of the dataset."""
    total = session.scalar(
        select(func.coalesce(func.sum(Judgment.cost), 0.0))
        .join(Pair, Pair.id == Judgment.pair_id)
        .where(Pair.dataset_id == dataset_id)
    )
    return float(total or 0.0)


def label_counts(session: Session, dataset_id: int) -> dict[str, dict[str, int]]:
    """Per label kind: ``{"labels": rows, "pairs": distinct pairs}``."""
    rows = session.execute(
        select(HumanLabel.kind, func.count(), func.count(func.distinct(HumanLabel.pair_id)))
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id)
        .group_by(HumanLabel.kind)
    ).all()
    out = {kind: {"labels": 0, "pairs": 0} for kind in ("review", "spot_check", "gold")}
    for kind, labels, pairs in rows:
        out[str(kind)] = {"labels": int(labels), "pairs": int(pairs)}
    return out


def human_agreement(
    session: Session, dataset_id: int, *, confidence: float = 0.95, seed: int = 0
) -> tuple[Interval, int]:
    """Inter-annotator percent agreement over pairs with two or more human labels of one kind.

    Labels of different kinds on the same pair (a gold answer and a spot check, say) are not
    compared: agreement is among people doing the same task.

    Fleiss' mean pairwise agreement per item (``calibration.agreement``) with a percentile
    bootstrap interval over items. Returns the interval and the number of items used.
    """
    items: list[str] = []
    labels: list[str] = []
    for pair_id, kind, label in session.execute(
        select(HumanLabel.pair_id, HumanLabel.kind, HumanLabel.label)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id)
    ):
        items.append(f"{kind}\x00{pair_id}")
        labels.append(label)
    if not items:
        return Interval(None, None, None), 0
    counts = rating_counts(items, labels).counts
    counts = counts[counts.sum(axis=1) >= 2]
    if counts.shape[0] == 0:
        return Interval(None, None, None), 0
    ci = bootstrap_ci(
        counts, percent_agreement_from_counts, n_resamples=1000, confidence=confidence, seed=seed
    )

    def clean(x: float) -> float | None:
        return None if math.isnan(x) else float(x)

    return Interval(clean(ci.estimate), clean(ci.low), clean(ci.high)), int(counts.shape[0])


@dataclass(frozen=True)
class GoldScores:
    """The policy applied to the dataset's gold items (for the cost-quality frontier)."""

    scores: list[float]
    acceptable: list[bool]
    correct: list[bool]


def gold_scores(session: Session, dataset_id: int, policy: AcceptPolicy) -> GoldScores:
    """Calibrated score, acceptability and correctness of the policy on each gold item."""
    gold = load_gold(session, dataset_id)
    if not gold:
        return GoldScores([], [], [])
    signals = load_pair_signals(
        session, dataset_id, judges=policy.judges or None, pair_ids=set(gold)
    )
    scores: list[float] = []
    acceptable: list[bool] = []
    correct: list[bool] = []
    for s in signals:
        scored = policy.score(s)
        scores.append(scored.probability)
        acceptable.append(
            scored.label is not None
            and scored.label in policy.accept_labels
            and not s.injection_suspected
        )
        correct.append(scored.label == gold[s.pair_id])
    return GoldScores(scores, acceptable, correct)
