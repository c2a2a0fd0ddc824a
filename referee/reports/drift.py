"""``referee drift``: reviewers' gold accuracy and agreement, and accepted-AI-label accuracy from
spot checks, over time, with an alarm when the latest window is significantly worse.

The rows are read here; windows and the test are :mod:`calibration.drift`'s (windows of
``window`` consecutive outcomes counted back from the newest; the latest window against every
earlier outcome, one-sided Fisher exact test, alarm at ``p < alpha``, 0.05 by default).

Series, each in the order the answers arrived (``created_at``, then id):

* **gold accuracy** of a reviewer: their review and spot-check answers on pairs with a gold
  label (hidden gold checks), right when equal to the gold label (majority of gold labels);
* **agreement** of a reviewer: their answers on pairs without gold where the *other* people's
  answers have a strict majority, agreeing when equal to it;
* **accepted AI labels**: answered spot checks of the current decisions, right when the strict
  majority of the spot-check answers equals the accepted AI label (the rule of the one
  spot-check estimator, :func:`referee.db.routing.spot_check_outcomes`), timed by the last
  answer. The overall estimate printed with them *is* that estimator's
  (:func:`referee.db.routing.spot_check_accuracy`), the same figure as ``status``,
  ``report cost`` and release manifests.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from calibration.drift import TEST_NAME, series_report
from referee.db.models import HumanLabel, Pair, RoutingDecision
from referee.db.routing import spot_check_accuracy, spot_check_confirmed, top_label
from referee.review.quality import REVIEW_KINDS, gold_labels

__all__ = ["drift_alarms", "drift_report"]


def _reviewer_series(
    session: Session, dataset_id: int
) -> dict[str, dict[str, tuple[list[bool], list[datetime]]]]:
    gold = gold_labels(session, dataset_id)
    rows = session.execute(
        select(HumanLabel.pair_id, HumanLabel.annotator, HumanLabel.label, HumanLabel.created_at)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind.in_(REVIEW_KINDS))
        .order_by(HumanLabel.created_at, HumanLabel.id)
    ).all()
    by_pair: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair_id, annotator, label, _ in rows:
        by_pair[pair_id].append((annotator, label))
    out: dict[str, dict[str, tuple[list[bool], list[datetime]]]] = defaultdict(
        lambda: {"gold": ([], []), "agreement": ([], [])}
    )
    for pair_id, annotator, label, created in rows:
        if pair_id in gold:
            hits, times = out[annotator]["gold"]
            hits.append(label == gold[pair_id])
            times.append(created)
            continue
        others = top_label([lab for who, lab in by_pair[pair_id] if who != annotator])
        if others is None:
            continue
        hits, times = out[annotator]["agreement"]
        hits.append(label == others)
        times.append(created)
    return out


def _spot_check_series(session: Session, dataset_id: int) -> tuple[list[bool], list[datetime]]:
    ai = dict(
        session.execute(
            select(RoutingDecision.pair_id, RoutingDecision.label)
            .join(Pair, Pair.id == RoutingDecision.pair_id)
            .where(
                Pair.dataset_id == dataset_id,
                RoutingDecision.current.is_(True),
                RoutingDecision.decision == "spot_check",
            )
        ).all()
    )
    answers: dict[str, list[str]] = defaultdict(list)
    last: dict[str, datetime] = {}
    for pair_id, label, created in session.execute(
        select(HumanLabel.pair_id, HumanLabel.label, HumanLabel.created_at)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "spot_check")
        .order_by(HumanLabel.created_at, HumanLabel.id)
    ):
        if pair_id in ai:
            answers[pair_id].append(label)
            last[pair_id] = created
    ordered = sorted(answers, key=lambda p: (last[p], p))
    hits = [spot_check_confirmed(ai[p], answers[p]) for p in ordered]
    return hits, [last[p] for p in ordered]


def _alarm_text(what: str, test: dict[str, Any]) -> str:
    return (
        f"{what}: {test['recent_rate']:.1%} in the last {test['recent']['n']} vs "
        f"{test['earlier_rate']:.1%} in the {test['earlier']['n']} before "
        f"({TEST_NAME}: p={test['p_value']:.2g} < {test['alpha']})"
    )


def drift_report(
    session: Session, dataset_id: int, *, window: int = 20, alpha: float = 0.05
) -> dict[str, Any]:
    """The whole drift report of one dataset as one JSON-able document."""
    reviewers = []
    alarms: list[str] = []
    for name, series in sorted(_reviewer_series(session, dataset_id).items()):
        row: dict[str, Any] = {"reviewer": name}
        for key, label in (("gold", "gold accuracy"), ("agreement", "agreement with others")):
            hits, times = series[key]
            row[key] = series_report(hits, times, size=window, alpha=alpha)
            test = row[key]["test"]
            if test is not None and test["alarm"]:
                alarms.append(_alarm_text(f"reviewer {name}: {label}", test))
        reviewers.append(row)
    hits, times = _spot_check_series(session, dataset_id)
    spot = series_report(hits, times, size=window, alpha=alpha)
    if spot["test"] is not None and spot["test"]["alarm"]:
        alarms.append(_alarm_text("accepted AI labels (spot checks)", spot["test"]))
    return {
        "window": window,
        "alpha": alpha,
        "test": TEST_NAME,
        "window_definition": (
            f"windows of {window} consecutive outcomes counted back from the newest; the "
            "latest full window is tested against all earlier outcomes"
        ),
        "reviewers": reviewers,
        "spot_check": {
            "estimate": spot_check_accuracy(session, dataset_id).to_json(),
            "over_time": spot,
        },
        "alarms": alarms,
    }


def drift_alarms(session: Session, dataset_id: int) -> list[str]:
    """The alarms of :func:`drift_report` with its defaults (for ``referee status``)."""
    alarms: list[str] = drift_report(session, dataset_id)["alarms"]
    return alarms
