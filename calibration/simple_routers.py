"""The two simple routers a policy is compared with, certified on the same gold.

* **best single judge**: the judge whose vote (:class:`calibration.scores.VoteScorer` over that
  judge alone: order consistency and stated confidence) agrees with the gold most often, its
  vote share as the score;
* **panel vote share**: the vote share of every judge and order pooled.

Each picks its threshold on the gold in two ways and keeps the one that accepts more gold
items: fixed-sequence testing (Bauer 1991) over the distinct scores, strictest first, from the
first that accepts enough items for a perfect run to pass, each step at level δ; and
Learn-then-Test (Angelopoulos et al. 2021) with Bonferroni over :data:`LTT_STEPS` thresholds
spaced evenly in accepted count, each at δ/:data:`LTT_STEPS`; both with the exact
Clopper-Pearson lower bound. Choosing the judge and the better of the two on the gold being
certified is what a 20-line router does; it is a yardstick, not a guarantee (the policy's own
candidates each pay their share of δ, :mod:`calibration.union`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from calibration.scores import VoteScorer
from calibration.signals import PairSignals
from calibration.thresholds import clopper_pearson_lower, min_items_to_certify, threshold_grid

__all__ = [
    "LTT_STEPS",
    "SimpleRoute",
    "best_judge",
    "fixed_sequence_threshold",
    "learn_then_test_threshold",
    "simple_routers",
]

#: Thresholds of the Learn-then-Test grid (each tested at δ divided by this).
LTT_STEPS = 20


@dataclass(frozen=True)
class SimpleRoute:
    """What one simple router certifies on the gold: its score, method and coverage."""

    router: str
    score: str
    method: str  # "fixed sequence", "Learn-then-Test" or "none"
    threshold: float
    accepted: int
    correct: int
    gold_items: int

    @property
    def coverage(self) -> float:
        """Share of the gold items it accepts (0 when nothing is certified)."""
        return self.accepted / self.gold_items if self.gold_items else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "router": self.router,
            "score": self.score,
            "method": self.method,
            "certified": math.isfinite(self.threshold),
            "threshold": self.threshold if math.isfinite(self.threshold) else None,
            "accepted": self.accepted,
            "correct": self.correct,
            "gold_items": self.gold_items,
            "certified_coverage": self.coverage,
        }


def _passes(ok: np.ndarray[Any, np.dtype[np.bool_]], level: float, target: float) -> bool:
    return clopper_pearson_lower(int(ok.sum()), len(ok), level) >= target


def fixed_sequence_threshold(
    scores: Sequence[float], correct: Sequence[bool], *, target: float, delta: float
) -> float:
    """Loosest threshold of the fixed sequence over the distinct scores (``inf``: none)."""
    s, ok = np.asarray(scores, dtype=np.float64), np.asarray(correct, dtype=bool)
    n_min, best = min_items_to_certify(target, delta), math.inf
    for t in np.unique(s)[::-1]:
        mask = s >= t
        if mask.sum() < n_min:
            continue
        if not _passes(ok[mask], delta, target):
            break
        best = float(t)
    return best


def learn_then_test_threshold(
    scores: Sequence[float], correct: Sequence[bool], *, target: float, delta: float
) -> float:
    """Loosest of :data:`LTT_STEPS` thresholds passing at δ/:data:`LTT_STEPS` (``inf``: none)."""
    s, ok = np.asarray(scores, dtype=np.float64), np.asarray(correct, dtype=bool)
    level = delta / LTT_STEPS
    grid = threshold_grid(
        s.tolist(), min_items=min_items_to_certify(target, level), steps=LTT_STEPS - 1
    )
    passing = [t for t in grid if _passes(ok[s >= t], level, target)]
    return min(passing) if passing else math.inf


def _labelled(
    scorer: VoteScorer,
    pairs: Sequence[PairSignals],
    gold: Mapping[str, str],
    accept_labels: Sequence[str],
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.bool_]]]:
    """Scores and correctness of the acceptable pairs (label allowed, no injection)."""
    labels, scores = scorer.score_many(pairs)
    keep = [
        lab in accept_labels and not p.injection_suspected
        for p, lab in zip(pairs, labels, strict=True)
    ]
    ok = [lab == gold.get(p.pair_id) for p, lab in zip(pairs, labels, strict=True)]
    return scores[np.asarray(keep, dtype=bool)], np.asarray(ok, dtype=bool)[keep]


def _certify(
    router: str,
    scorer: VoteScorer,
    pairs: Sequence[PairSignals],
    gold: Mapping[str, str],
    *,
    target: float,
    delta: float,
    accept_labels: Sequence[str],
) -> SimpleRoute:
    """The better (more gold accepted) of the fixed sequence and Learn-then-Test."""
    s, ok = _labelled(scorer, pairs, gold, accept_labels)
    best = SimpleRoute(router, scorer.name, "none", math.inf, 0, 0, len(pairs))
    for method, find in (
        ("fixed sequence", fixed_sequence_threshold),
        ("Learn-then-Test", learn_then_test_threshold),
    ):
        t = find(list(s), list(ok), target=target, delta=delta)
        mask = s >= t
        if math.isfinite(t) and int(mask.sum()) > best.accepted:
            n, k = int(mask.sum()), int(ok[mask].sum())
            best = SimpleRoute(router, scorer.name, method, t, n, k, len(pairs))
    return best


def best_judge(
    pairs: Sequence[PairSignals],
    gold: Mapping[str, str],
    panel: Sequence[str],
    orders: Mapping[str, int],
) -> str:
    """The judge whose vote label equals the gold label on the most pairs (first on ties)."""

    def hits(judge: str) -> int:
        labels, _ = VoteScorer((judge,), dict(orders)).score_many(pairs)
        return sum(lab == gold.get(p.pair_id) for p, lab in zip(pairs, labels, strict=True))

    return max(panel, key=hits)


def simple_routers(
    pairs: Sequence[PairSignals],
    gold: Mapping[str, str],
    panel: Sequence[str],
    orders: Mapping[str, int],
    *,
    target: float,
    delta: float,
    accept_labels: Sequence[str],
) -> list[SimpleRoute]:
    """Both simple routers certified on the gold ``pairs`` (module doc); none without judges."""
    if not panel:
        return []
    judge = VoteScorer((best_judge(pairs, gold, panel, orders),), dict(orders))
    vote = VoteScorer(tuple(panel), dict(orders))
    return [
        _certify(name, scorer, pairs, gold, target=target, delta=delta, accept_labels=accept_labels)
        for name, scorer in (("best single judge", judge), ("panel vote share", vote))
    ]
