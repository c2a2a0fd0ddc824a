"""Cost-report arithmetic: what the hybrid pipeline spends per final label, against people alone.

All inputs are plain numbers; the CLI gathers them from the database. ``k`` is reviewers per
item, ``c`` the price of one human label. Definitions:

* **Judge spend** ``J``: the sum of the stored ``cost`` of every judgment of the dataset.
* **Gold pairs** are never paid review or spot-check items (their answer is known); their final
  label is the gold label. **Gold spend** is one price per stored gold label, ``gold_labels · c``:
  those labels were bought once; ``k`` is how many people *will* review an item, not how many
  gave a gold label.
* **Human spend, planned and spent**, per source: review and spot check plan
  ``items · k · c`` for the paid items (non-gold pairs routed to ``human_review`` / drawn for
  ``spot_check``) and have spent ``labels done · c``; gold is planned and spent at
  ``gold_labels · c``; hidden gold checks (reviewer answers on gold pairs) have no plan of their
  own and count ``labels done · c`` in both columns.
* **Final labels** ``N``: the routed non-frozen pairs (paid review, spot check and auto-accepted
  pairs, plus gold pairs whatever their decision).
* **Hybrid cost per final label**: ``(J + Σ planned human spend) / N`` (what the whole plan costs;
  the spent total is reported beside it).
* **Human-only cost per final label** for the same pairs: ``k · c`` (every pair labelled by
  people, no judge, no spot checks, no gold; total ``N · k · c``).
* **Quality**: human agreement (inter-annotator, with its interval) is an input; the accuracy
  of accepted AI labels comes from spot checks (:mod:`routing.spot_check_estimate`). The
  expected agreement of the hybrid's final labels mixes the two by share:
  ``q = a · acc_ai + (1 - a) · q_human`` with ``a`` the auto-accepted share; its interval mixes
  the bounds (both hold together with probability ≥ 1 - 2alpha by Bonferroni's inequality).
* **Frontier** (:func:`frontier`): for each threshold on scored gold items, the share accepted
  (coverage ``a``), the agreement of accepted labels with gold (Clopper-Pearson interval), and the
  projected cost per final label ``(J + G)/N + p · ((1 - a) + s · a) · k · c`` with ``G`` the
  gold spend, ``s`` the spot-check rate and ``p`` the share of final labels that are not gold
  (only those need people). Accepting nothing needs no judge: that row costs
  ``min(G/N + p · k · c, k · c)`` (gold pairs keep their label and people label the rest, or
  people label everything), so it is never dearer than people only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routing.spot_check_estimate import clopper_pearson

__all__ = [
    "CostBreakdown",
    "CostInputs",
    "FrontierPoint",
    "Interval",
    "QualitySummary",
    "SpendLine",
    "cost_breakdown",
    "default_thresholds",
    "frontier",
    "human_spend",
    "mix_quality",
]


@dataclass(frozen=True)
class Interval:
    """A point estimate with a two-sided interval (any of them ``None`` when unknown)."""

    estimate: float | None
    lower: float | None
    upper: float | None

    def to_json(self) -> dict[str, float | None]:
        return {"estimate": self.estimate, "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class CostInputs:
    """Counts and prices for one dataset."""

    judge_spend: float
    auto_accepted: int
    spot_checked: int
    human_review: int
    gold_items: int
    human_cost: float = 1.0
    reviewers_per_item: int = 1
    review_done: int = 0
    spot_check_done: int = 0
    gold_check_done: int = 0
    gold_labels: int | None = None
    gold_final: int = 0
    second_look_done: int = 0
    """``auto_accepted``, ``spot_checked``, ``human_review``: non-gold pairs per decision (the
    last two are the paid items). ``gold_items``: pairs with a gold label; ``gold_labels``:
    stored gold labels (default one per gold item); ``gold_final``: gold pairs among the final
    labels (routed, not frozen). ``*_done``: human labels given so far (review and spot-check
    answers on non-gold pairs, answers to hidden gold checks, and second looks: adjudications
    of disputed spot checks and incident reviews, which are paid but never planned)."""

    def __post_init__(self) -> None:
        counts = (
            self.auto_accepted,
            self.spot_checked,
            self.human_review,
            self.gold_items,
            self.review_done,
            self.spot_check_done,
            self.gold_check_done,
            self.gold_final,
            self.gold_labels or 0,
            self.second_look_done,
        )
        if min(counts) < 0:
            raise ValueError("counts must be non-negative")
        if self.human_cost < 0 or self.judge_spend < 0:
            raise ValueError("costs must be non-negative")
        if self.reviewers_per_item < 1:
            raise ValueError("reviewers per item must be at least 1")


@dataclass(frozen=True)
class CostBreakdown:
    """Spend by source, totals and cost per final label (see the module docstring)."""

    judge_spend: float
    review_spend: float
    spot_check_spend: float
    gold_spend: float
    human_spend: float
    hybrid_total: float
    final_labels: int
    hybrid_per_label: float | None
    human_only_total: float
    human_only_per_label: float | None
    savings_ratio: float | None
    auto_share: float | None
    gold_check_spend: float = 0.0
    second_look_spend: float = 0.0
    review_spent: float = 0.0
    spot_check_spent: float = 0.0
    spent_total: float = 0.0
    lines: tuple[SpendLine, ...] = ()
    paid_share: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "judge_spend": self.judge_spend,
            "human_spend": {
                "review": self.review_spend,
                "spot_check": self.spot_check_spend,
                "gold": self.gold_spend,
                "gold_checks": self.gold_check_spend,
                "second_looks": self.second_look_spend,
                "total": self.human_spend,
            },
            "human_spent": {
                "review": self.review_spent,
                "spot_check": self.spot_check_spent,
                "gold": self.gold_spend,
                "gold_checks": self.gold_check_spend,
                "second_looks": self.second_look_spend,
                "total": self.spent_total - self.judge_spend,
            },
            "lines": [line.to_json() for line in self.lines],
            "spent_total": self.spent_total,
            "paid_share": self.paid_share,
            "hybrid_total": self.hybrid_total,
            "final_labels": self.final_labels,
            "hybrid_per_label": self.hybrid_per_label,
            "human_only_total": self.human_only_total,
            "human_only_per_label": self.human_only_per_label,
            "hybrid_over_human_only": self.savings_ratio,
            "auto_share": self.auto_share,
        }


def human_spend(items: int, reviewers_per_item: int, human_cost: float) -> float:
    """``items * reviewers_per_item * human_cost``."""
    return float(items) * reviewers_per_item * human_cost


@dataclass(frozen=True)
class SpendLine:
    """One row of the spend table: items, labels planned and done, dollars planned and spent.

    ``None`` where a figure does not apply (judges have no items; gold checks no plan of their
    own, so their planned labels are the ones done)."""

    source: str
    items: int | None
    planned_labels: int | None
    labels_done: int | None
    planned: float
    spent: float

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "items": self.items,
            "planned_labels": self.planned_labels,
            "labels_done": self.labels_done,
            "planned": self.planned,
            "spent": self.spent,
        }


def cost_breakdown(inputs: CostInputs) -> CostBreakdown:
    """Spend planned and spent, totals and per-label costs of the hybrid and of people alone."""
    k, c = inputs.reviewers_per_item, inputs.human_cost
    gold_labels = inputs.gold_items if inputs.gold_labels is None else inputs.gold_labels
    review = human_spend(inputs.human_review, k, c)
    spot = human_spend(inputs.spot_checked, k, c)
    gold = human_spend(gold_labels, 1, c)
    checks = human_spend(inputs.gold_check_done, 1, c)
    second = human_spend(inputs.second_look_done, 1, c)
    review_spent = human_spend(inputs.review_done, 1, c)
    spot_spent = human_spend(inputs.spot_check_done, 1, c)
    humans = review + spot + gold + checks + second
    total = inputs.judge_spend + humans
    spent_total = inputs.judge_spend + review_spent + spot_spent + gold + checks + second
    n = inputs.auto_accepted + inputs.spot_checked + inputs.human_review + inputs.gold_final
    human_only = human_spend(n, k, c)
    lines = (
        SpendLine("judges", None, None, None, inputs.judge_spend, inputs.judge_spend),
        SpendLine(
            "review", inputs.human_review, inputs.human_review * k, inputs.review_done, review,
            review_spent,
        ),
        SpendLine(
            "spot_check", inputs.spot_checked, inputs.spot_checked * k, inputs.spot_check_done,
            spot, spot_spent,
        ),
        SpendLine("gold", inputs.gold_items, gold_labels, gold_labels, gold, gold),
        SpendLine(
            "gold_checks", None, inputs.gold_check_done, inputs.gold_check_done, checks, checks
        ),
        SpendLine(
            "second_looks", None, inputs.second_look_done, inputs.second_look_done, second, second
        ),
    )  # fmt: skip
    return CostBreakdown(
        judge_spend=inputs.judge_spend,
        review_spend=review,
        spot_check_spend=spot,
        gold_spend=gold,
        human_spend=humans,
        hybrid_total=total,
        final_labels=n,
        hybrid_per_label=total / n if n else None,
        human_only_total=human_only,
        human_only_per_label=k * c if n else None,
        savings_ratio=total / human_only if human_only > 0 else None,
        auto_share=(inputs.auto_accepted + inputs.spot_checked) / n if n else None,
        gold_check_spend=checks,
        second_look_spend=second,
        review_spent=review_spent,
        spot_check_spent=spot_spent,
        spent_total=spent_total,
        lines=lines,
        paid_share=(n - inputs.gold_final) / n if n else None,
    )


@dataclass(frozen=True)
class QualitySummary:
    """Human agreement, accepted-AI accuracy, and their share-weighted mix for the hybrid."""

    human: Interval
    accepted_ai: Interval
    hybrid: Interval

    def to_json(self) -> dict[str, Any]:
        return {
            "human_agreement": self.human.to_json(),
            "accepted_ai_accuracy": self.accepted_ai.to_json(),
            "hybrid_expected_agreement": self.hybrid.to_json(),
        }


def mix_quality(human: Interval, accepted_ai: Interval, auto_share: float | None) -> QualitySummary:
    """``q = a · acc_ai + (1 - a) · q_human`` for estimate and each bound (``None`` if unknown).

    With no auto-accepted pairs (``a = 0``) the hybrid's quality is the human one, and with
    only auto-accepted pairs (``a = 1``) it is the AI one, whatever the other side is.
    """

    def mix(x: float | None, y: float | None) -> float | None:
        if auto_share is None:
            return None
        if auto_share == 0.0:
            return y
        if auto_share == 1.0:
            return x
        if x is None or y is None:
            return None
        return auto_share * x + (1.0 - auto_share) * y

    hybrid = Interval(
        mix(accepted_ai.estimate, human.estimate),
        mix(accepted_ai.lower, human.lower),
        mix(accepted_ai.upper, human.upper),
    )
    return QualitySummary(human, accepted_ai, hybrid)


@dataclass(frozen=True)
class FrontierPoint:
    """One threshold of the cost-versus-quality frontier."""

    threshold: float
    coverage: float
    accepted: int
    agreement: float | None
    agreement_lower: float | None
    agreement_upper: float | None
    cost_per_label: float
    expected_quality: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "coverage": self.coverage,
            "accepted": self.accepted,
            "agreement": self.agreement,
            "agreement_lower": self.agreement_lower,
            "agreement_upper": self.agreement_upper,
            "cost_per_label": self.cost_per_label,
            "expected_quality": self.expected_quality,
        }


def default_thresholds(scores: Sequence[float] | NDArray[Any], *, steps: int = 20) -> list[float]:
    """Strictest first: one above every score (accept nothing), then up to ``steps`` distinct
    scores at evenly spaced quantiles (each accepts the items scoring at least it), then 0."""
    s = np.unique(np.asarray(scores, dtype=np.float64))
    top = float(s[-1]) + 1e-6 if s.size else 1.0
    if s.size > steps:
        idx = np.unique(np.round(np.linspace(0, s.size - 1, steps)).astype(int))
        s = s[idx]
    return sorted({top, 0.0, *s.tolist()}, reverse=True)


def frontier(
    scores: Sequence[float],
    acceptable: Sequence[bool],
    correct: Sequence[bool],
    *,
    judge_cost_per_label: float,
    gold_cost_per_label: float,
    human_cost: float,
    reviewers_per_item: int = 1,
    spot_check_rate: float = 0.05,
    human_agreement: float | None = None,
    thresholds: Sequence[float] | None = None,
    steps: int = 20,
    confidence: float = 0.95,
    paid_share: float = 1.0,
) -> list[FrontierPoint]:
    """Coverage, agreement and cost per final label at each threshold (most lenient last).

    ``scores``: the policy's calibrated probability on each gold item; ``acceptable``: whether
    the item's AI label is one the policy may accept; ``correct``: whether it equals gold.
    ``thresholds`` default to :func:`default_thresholds` of the acceptable items' scores.
    ``judge_cost_per_label`` and ``gold_cost_per_label`` are the dataset's judge and gold
    spend divided by its final labels; ``paid_share`` the share of final labels that are not
    gold. A threshold that accepts nothing costs no judge (see the module docstring).
    """
    if not 0.0 <= paid_share <= 1.0:
        raise ValueError(f"paid_share must be in [0, 1], got {paid_share}")
    s = np.asarray(scores, dtype=np.float64)
    ok = np.asarray(acceptable, dtype=bool)
    right = np.asarray(correct, dtype=bool)
    if not (s.shape == ok.shape == right.shape) or s.ndim != 1:
        raise ValueError("scores, acceptable and correct must be 1-d and of equal length")
    n = s.size
    if thresholds is None:
        grid = default_thresholds(s[ok], steps=steps)
    else:
        grid = sorted(thresholds, reverse=True)
    per_human_label = reviewers_per_item * human_cost
    points: list[FrontierPoint] = []
    for t in grid:
        mask = ok & (s >= t)
        accepted = int(mask.sum())
        coverage = accepted / n if n else 0.0
        agree, lo, hi = _agreement_with_interval(int(right[mask].sum()), accepted, confidence)
        cost = _cost_per_label(
            accepted,
            coverage,
            judge_cost_per_label=judge_cost_per_label,
            gold_cost_per_label=gold_cost_per_label,
            per_human_label=per_human_label,
            spot_check_rate=spot_check_rate,
            paid_share=paid_share,
        )
        quality = _blended_quality(coverage, agree, human_agreement)
        points.append(FrontierPoint(float(t), coverage, accepted, agree, lo, hi, cost, quality))
    return points


def _agreement_with_interval(
    k: int, accepted: int, confidence: float
) -> tuple[float | None, float | None, float | None]:
    """``k / accepted`` and its Clopper-Pearson interval; all ``None`` when nothing is accepted."""
    if not accepted:
        return None, None, None
    lo, hi = clopper_pearson(k, accepted, confidence)
    return k / accepted, lo, hi


def _cost_per_label(
    accepted: int,
    coverage: float,
    *,
    judge_cost_per_label: float,
    gold_cost_per_label: float,
    per_human_label: float,
    spot_check_rate: float,
    paid_share: float,
) -> float:
    """Cost per final label at a threshold that accepts ``accepted`` items (``coverage``)."""
    if accepted:
        return (
            judge_cost_per_label
            + gold_cost_per_label
            + paid_share * ((1.0 - coverage) + spot_check_rate * coverage) * per_human_label
        )
    # people only, or gold plus people on the rest, whichever is cheaper
    return min(per_human_label, gold_cost_per_label + paid_share * per_human_label)


def _blended_quality(
    coverage: float, agree: float | None, human_agreement: float | None
) -> float | None:
    """Agreement of the final labels: accepted AI labels' and people's, weighted by coverage."""
    quality: float | None = None
    if coverage == 0.0:
        quality = human_agreement
    elif agree is not None and human_agreement is not None:
        quality = coverage * agree + (1.0 - coverage) * human_agreement
    elif coverage == 1.0:
        quality = agree
    return quality
