"""``referee report cost``: spend, cost per final label against people alone, and quality.

:func:`cost_report` opens its own session; :func:`build_cost_report` works in the caller's
(``referee release`` puts a summary of it in the manifest). Both return one JSON-able document.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from judge.pricing import PRICES
from judge.spec import REPLAY_PREFIX, parse_judge_spec
from referee.db.counts import judge_usage, pair_count, policy_count
from referee.db.engine import session_factory
from referee.db.models import Dataset
from referee.db.routing import (
    HumanWork,
    dataset_by_name,
    decision_counts,
    gold_scores,
    human_agreement,
    human_work,
    judge_spend,
    label_counts,
    load_policy,
    spot_check_accuracy,
)
from referee.errors import UserError
from routing.cost import (
    CostBreakdown,
    CostInputs,
    Interval,
    cost_breakdown,
    default_thresholds,
    frontier,
    mix_quality,
)

__all__ = [
    "PRICE_OPTIONS",
    "build_cost_report",
    "cost_report",
    "unpriced_judge_warnings",
    "unpriced_spend_warnings",
]

PRICE_NAMES = ("input_cost_per_mtok", "output_cost_per_mtok")
PRICE_OPTIONS = "?input_cost_per_mtok=…&output_cost_per_mtok=…"
"""The judge-string options that price a model litellm does not know (dollars per 1M tokens)."""


def cost_report(
    engine: Engine, dataset_name: str, *, human_cost: float, reviewers_per_item: int
) -> dict[str, Any]:
    """The cost report of one dataset, read in a session of its own."""
    with session_factory(engine)() as session:
        return build_cost_report(
            session, dataset_name, human_cost=human_cost, reviewers_per_item=reviewers_per_item
        )


def build_cost_report(
    session: Session,
    dataset_name: str,
    *,
    human_cost: float,
    reviewers_per_item: int,
    spot_check_rate: float = 0.05,
) -> dict[str, Any]:
    """The whole cost report of one dataset as one JSON-able document."""
    ds = dataset_by_name(session, dataset_name)
    decisions = decision_counts(session, ds.id)
    if not decisions:
        raise UserError(
            f"dataset {dataset_name!r} has no routing decisions yet: run "
            f"`referee route --dataset {dataset_name}` first"
        )
    work = human_work(session, ds.id)
    inputs = _cost_inputs(session, ds.id, work, human_cost, reviewers_per_item)
    costs = cost_breakdown(inputs)
    human, human_items = human_agreement(session, ds.id)
    spot = spot_check_accuracy(session, ds.id)
    quality = mix_quality(human, Interval(spot.accuracy, spot.lower, spot.upper), costs.auto_share)
    return {
        "dataset": dataset_name,
        "human_cost": human_cost,
        "reviewers_per_item": reviewers_per_item,
        "decisions": decisions,
        "paid_items": {
            "review": inputs.human_review,
            "spot_check": inputs.spot_checked,
            "gold_pairs_not_queued": work.gold_final,
        },
        "labels_collected": label_counts(session, ds.id),
        "cost": costs.to_json(),
        "quality": {
            **quality.to_json(),
            "human_agreement_items": human_items,
            "spot_check": spot.to_json(),
        },
        "frontier": _frontier_document(
            session, ds, inputs, costs, human, spot_check_rate=spot_check_rate
        ),
        "warnings": unpriced_spend_warnings(session, ds.id),
    }


def _cost_inputs(
    session: Session, dataset_id: int, work: HumanWork, human_cost: float, reviewers: int
) -> CostInputs:
    """What the cost model needs: judge spend and the people's work planned and done."""
    return CostInputs(
        judge_spend=judge_spend(session, dataset_id),
        auto_accepted=work.decisions.get("auto_accept", 0),
        spot_checked=work.decisions.get("spot_check", 0),
        human_review=work.decisions.get("human_review", 0),
        gold_items=work.gold_pairs,
        human_cost=human_cost,
        reviewers_per_item=reviewers,
        review_done=work.review_done,
        spot_check_done=work.spot_check_done,
        gold_check_done=work.gold_check_done,
        second_look_done=work.second_look_done,
        gold_labels=work.gold_labels,
        gold_final=work.gold_final,
    )


def _frontier_document(
    session: Session,
    ds: Dataset,
    inputs: CostInputs,
    costs: CostBreakdown,
    human: Interval,
    *,
    spot_check_rate: float,
) -> dict[str, Any]:
    """Cost against quality over thresholds, on the latest policy's gold scores (empty when
    the dataset has no policy)."""
    if not policy_count(session, ds.id):
        return {"points": [], "basis": None, "policy_version": None}
    loaded = load_policy(session, ds, "latest")
    single = loaded.single("the cost frontier over thresholds")
    gold = gold_scores(session, ds.id, single)
    per_label = max(costs.final_labels or pair_count(session, ds.id, frozen_eval=False), 1)
    points = frontier(
        gold.scores,
        gold.acceptable,
        gold.correct,
        judge_cost_per_label=inputs.judge_spend / per_label,
        gold_cost_per_label=costs.gold_spend / per_label,
        human_cost=inputs.human_cost,
        reviewers_per_item=inputs.reviewers_per_item,
        spot_check_rate=spot_check_rate,
        human_agreement=human.estimate,
        thresholds=_grid(gold.scores, gold.acceptable, single.threshold),
        paid_share=costs.paid_share if costs.paid_share is not None else 1.0,
    )
    threshold = single.threshold
    return {
        "policy_version": loaded.version,
        "policy_threshold": threshold if math.isfinite(threshold) else None,
        "target_agreement": loaded.policy.target_agreement,
        "gold_items": len(gold.scores),
        "basis": (
            "the latest policy's calibrated scores on the gold items it was fitted on "
            "(in-sample, so agreement is optimistic; the certified threshold comes from "
            "out-of-fold scores)"
        ),
        "points": [p.to_json() for p in points],
    }


def unpriced_judge_warnings(judges: Sequence[str]) -> list[str]:
    """One warning per judge whose calls would be costed at $0.00 for want of a price.

    A judge is unpriced when its spec gives no ``input_cost_per_mtok``/``output_cost_per_mtok``
    and litellm's price map does not know its model (replay judges cost nothing and are
    skipped; specs that do not parse are left to the caller's own error).
    """
    warnings = []
    for text in judges:
        if text.strip().startswith(REPLAY_PREFIX):
            continue
        try:
            spec = parse_judge_spec(text)
        except Exception:
            continue
        given = (spec.input_cost_per_mtok is not None, spec.output_cost_per_mtok is not None)
        if all(given) or (not any(given) and PRICES.rates(spec.model) is not None):
            continue
        absent = [
            (name, example)
            for name, example, ok in zip(PRICE_NAMES, ("0.15", "0.60"), given, strict=True)
            if not ok
        ]
        side = absent[0][0].split("_")[0]
        what = (
            f"no known price for model '{spec.model}', so its calls are costed at $0.00"
            if len(absent) == 2
            else f"no {absent[0][0]} given, so its {side} tokens are costed at $0.00"
        )
        options = "&".join(f"{name}={example}" for name, example in absent)
        warnings.append(
            f"judge '{spec.name}': {what}; give the price in "
            f"dollars per million tokens on the judge string, e.g. --judge "
            f"'{text}{'&' if '?' in text else '?'}{options}'"
        )
    return warnings


def unpriced_spend_warnings(session: Session, dataset_id: int) -> list[str]:
    """Warnings for judges whose stored verdicts used tokens but cost $0.00 (no known price)."""
    return [
        f"judge '{judge}': {calls:,} verdicts used {tokens:,} tokens but were costed "
        f"at $0.00 (no known price), so judge spend is understated; price the model on the "
        f"judge string ({PRICE_OPTIONS}, dollars per million tokens) before pre-labeling, or "
        "give imported verdicts a cost field"
        for judge, calls, tokens, spend in judge_usage(session, dataset_id)
        if tokens > 0 and not spend
    ]


def _grid(scores: list[float], acceptable: list[bool], policy_threshold: float) -> list[float]:
    """The default frontier grid plus the policy's own threshold (so the plot can mark it)."""
    grid = default_thresholds([s for s, ok in zip(scores, acceptable, strict=True) if ok])
    if math.isfinite(policy_threshold):
        grid.append(policy_threshold)
    return sorted(set(grid), reverse=True)
