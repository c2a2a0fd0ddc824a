"""What a lead sees of one dataset: queue progress, agreement, spot-check estimate, reviewers.

Every figure comes from the estimator the CLI uses for it, so the page and the commands agree:

* queues: :func:`referee.review.stats.queue_stats` in the operator's view (the real queues),
  plus the hidden gold checks served, answered and out (leads may see them);
* agreement among people: :func:`referee.reports.human_agreement.agreement_report` over the
  review and spot-check answers (``referee agreement``), with percentile-bootstrap intervals;
* accuracy of the accepted AI labels: :func:`referee.db.routing.spot_check_accuracy`
  (``referee status``, ``report cost``, releases), with its interval;
* each reviewer's record: answers in the dataset (today and in all), hidden gold checks answered
  and right, and their running gold accuracy after each check (oldest first, the last
  ``TREND_POINTS`` checks), paused or not; and their automation-bias record
  (:func:`referee.review.bias.bias_report`, as ``referee review-report``): override rate with
  the AI label shown and hidden, traps caught, flagged or not;
* cost so far: judge spend (:func:`referee.db.routing.judge_spend`) plus every human label
  stored for the dataset (gold, review, spot check, gold checks...:
  :func:`referee.db.routing.label_counts`) at ``human_cost`` dollars each
  (``REFEREE_HUMAN_COST``): what ``referee report cost`` counts as spent, plus any second-look
  answers (adjudication, incidents).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from referee.db.models import HumanLabel, Pair, ReviewAssignment, Reviewer
from referee.db.routing import judge_spend, label_counts, spot_check_accuracy
from referee.reports.drift import drift_alarms
from referee.reports.human_agreement import agreement_report, load_human_labels
from referee.review.bias import bias_report
from referee.review.config import GOLD_QUEUE
from referee.review.quality import gold_labels
from referee.review.queue_build import get_dataset
from referee.review.service import resolve_now
from referee.review.stats import queue_stats

TREND_POINTS = 50
AGREEMENT_KEYS = (
    "items",
    "comparable_items",
    "labels",
    "annotators",
    "percent_agreement",
    "krippendorff_alpha",
    "fleiss_kappa",
    "cohen_kappa",
    "ci",
    "ci_method",
)


def _gold_served(session: Session, dataset_id: int, now: datetime) -> dict[str, int]:
    a = ReviewAssignment
    served, answered, out = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((a.completed_at.is_not(None), 1), else_=0)), 0),
            func.coalesce(
                func.sum(
                    case((and_(a.completed_at.is_(None), a.lease_expires_at > now), 1), else_=0)
                ),
                0,
            ),
        )
        .select_from(a)
        .join(Pair, Pair.id == a.pair_id)
        .where(a.queue == GOLD_QUEUE, Pair.dataset_id == dataset_id)
    ).one()
    return {"served": int(served), "answered": int(answered), "leased": int(out)}


def _gold_history(session: Session, dataset_id: int) -> dict[str, list[bool]]:
    """Reviewer name -> right/wrong on each hidden gold check answered, oldest first."""
    gold = gold_labels(session, dataset_id)
    rows = session.execute(
        select(Reviewer.name, HumanLabel.pair_id, HumanLabel.label)
        .select_from(ReviewAssignment)
        .join(Reviewer, Reviewer.id == ReviewAssignment.reviewer_id)
        .join(Pair, Pair.id == ReviewAssignment.pair_id)
        .join(
            HumanLabel,
            and_(
                HumanLabel.pair_id == ReviewAssignment.pair_id,
                HumanLabel.annotator == Reviewer.name,
                HumanLabel.kind == "review",
            ),
        )
        .where(ReviewAssignment.queue == GOLD_QUEUE, Pair.dataset_id == dataset_id)
        .order_by(HumanLabel.created_at, HumanLabel.id)
    )
    history: dict[str, list[bool]] = defaultdict(list)
    for name, pair_id, label in rows:
        if pair_id in gold:
            history[name].append(label == gold[pair_id])
    return history


def _running_accuracy(outcomes: list[bool]) -> list[float]:
    right = 0
    trend = []
    for i, ok in enumerate(outcomes, start=1):
        right += int(ok)
        trend.append(right / i)
    return trend[-TREND_POINTS:]


def _reviewers(session: Session, dataset_id: int, now: datetime) -> list[dict[str, Any]]:
    a = ReviewAssignment
    midnight = datetime.combine(now.date(), time(0), tzinfo=now.tzinfo)
    counts = {
        rid: (int(done), int(today))
        for rid, done, today in session.execute(
            select(
                a.reviewer_id,
                func.coalesce(func.sum(case((a.completed_at.is_not(None), 1), else_=0)), 0),
                func.coalesce(func.sum(case((a.completed_at >= midnight, 1), else_=0)), 0),
            )
            .join(Pair, Pair.id == a.pair_id)
            .where(Pair.dataset_id == dataset_id)
            .group_by(a.reviewer_id)
        )
    }
    history = _gold_history(session, dataset_id)
    bias = bias_report(session, dataset_id)
    out = []
    for reviewer in session.scalars(select(Reviewer).order_by(Reviewer.name)):
        done, today = counts.get(reviewer.id, (0, 0))
        checks = history.get(reviewer.name, [])
        if not done and not checks and reviewer.role != "reviewer":
            continue  # a lead who never reviewed here
        out.append(
            {
                "name": reviewer.name,
                "role": reviewer.role,
                "active": reviewer.active,
                "paused": bool(reviewer.paused),
                "labeled": done,
                "labeled_today": today,
                "gold_checks": len(checks),
                "gold_correct": sum(checks),
                "gold_accuracy": sum(checks) / len(checks) if checks else None,
                "gold_trend": _running_accuracy(checks),
                "bias": bias[reviewer.name].to_json() if reviewer.name in bias else None,
            }
        )
    return out


def cost_so_far(session: Session, dataset_id: int, human_cost: float) -> dict[str, Any]:
    """Judge spend plus every stored human label of the dataset at ``human_cost`` each."""
    judges = judge_spend(session, dataset_id)
    by_kind = {kind: c["labels"] for kind, c in label_counts(session, dataset_id).items()}
    labels = sum(by_kind.values())
    human = labels * human_cost
    return {
        "judge_spend": judges,
        "human_labels": labels,
        "human_labels_by_kind": by_kind,
        "human_cost": human_cost,
        "human_spend": human,
        "total": judges + human,
    }


def lead_overview(
    session: Session,
    dataset: str,
    *,
    now: datetime | None = None,
    n_resamples: int = 200,
    human_cost: float = 1.0,
) -> dict[str, Any]:
    """The lead page's document for ``dataset`` (see the module docstring)."""
    moment = resolve_now(now)
    ds = get_dataset(session, dataset)
    stats = queue_stats(session, dataset, now=moment).to_json()
    rows = load_human_labels(session, ds.id, ["review", "spot_check"])
    report = agreement_report(rows, n_resamples=n_resamples, seed=0)
    return {
        "dataset": ds.name,
        "generated_at": moment.isoformat(),
        "queues": stats["queues"],
        "gold_checks": _gold_served(session, ds.id, moment),
        "agreement": {key: report[key] for key in AGREEMENT_KEYS},
        "spot_check": spot_check_accuracy(session, ds.id).to_json(),
        "reviewers": _reviewers(session, ds.id, moment),
        "cost": cost_so_far(session, ds.id, human_cost),
        "drift_alarms": drift_alarms(session, ds.id),
    }


__all__ = ["TREND_POINTS", "cost_so_far", "lead_overview"]
