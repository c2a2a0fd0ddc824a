"""Auto-accept thresholds with a finite-sample guarantee.

Goal: choose a score threshold ``λ`` so that the labels accepted at ``score ≥ λ`` agree with
human labels at least at ``target`` with probability at least ``1 - δ`` over the draw of the
calibration gold.

Method (Bauer, "Multiple testing in clinical trials", Stat. Med. 1991, *fixed-sequence
testing*; used for selective evaluation by Jung et al., "Trust or Escalate", ICLR 2025): test the
hypotheses ``H_λ: agreement(λ) < target`` one by one from the strictest threshold down a grid
fixed before looking at the outcomes, each at level δ with the exact one-sided Clopper-Pearson
bound (Clopper & Pearson, Biometrika 1934), and stop at the first that cannot be rejected. The
family-wise error stays at δ without any correction for the grid size.

The trap: the strictest thresholds accept a handful of items, and with ``n`` items even a perfect
run has lower bound ``δ^(1/n)``, which reaches ``target`` only when ``n ≥ ln δ / ln target``
(15 items at 0.85 / 0.1). A sequence starting below that stops at once and accepts nothing, so
:func:`threshold_grid` starts at a count that *can* certify and walks down in even steps of
the candidate items (ties in the score stay together: a threshold accepts every item at or above
it).

A second trap: when the score ranks poorly among its very best items (noisy self-reported
confidences often decide the order there), the first step fails and a plain fixed sequence stops
with nothing certified, although looser thresholds would certify easily. The *fallback
procedure* (Wiens, "A fixed sequence Bonferroni procedure for testing multiple endpoints",
Pharmaceutical Statistics 2003; Wiens & Dmitrienko, J. Biopharm. Stat. 2005) keeps going: step
``i`` gets its own share ``w_i·δ`` of the error budget plus the whole level of step ``i - 1``
when that step was rejected. The family-wise error stays ≤ δ and every rejected step is a valid
threshold. Its price is a weaker test at every step: on the shared data the plain sequence
certified more, so :func:`calibration.policy.fit_policy` uses the plain sequence, started where
:mod:`calibration.selection` predicts it is most worth starting (planned on a selection part of
the gold that the test never sees).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import beta, hypergeom

__all__ = [
    "GridStep",
    "ThresholdSearch",
    "clopper_pearson_lower",
    "fallback_weights",
    "first_testable_count",
    "fixed_sequence_search",
    "gold_needed",
    "min_items_to_certify",
    "predictive_p_value",
    "threshold_grid",
]


def clopper_pearson_lower(successes: float, trials: float, delta: float) -> float:
    """Exact one-sided lower confidence bound at level ``1 - δ`` for a binomial proportion.

    ``L = Beta⁻¹(δ; k, n - k + 1)`` for ``k > 0`` and ``0`` for ``k = 0`` (Clopper & Pearson
    1934). For ``n = 0`` the bound is 0 (nothing is known). Non-integer counts are allowed
    (effective sample sizes, Korn & Graubard 1998). The one Clopper-Pearson implementation:
    the spot-check interval and the pause rule use these two functions too.
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if trials <= 0 or successes <= 0:
        return 0.0
    if successes > trials:
        raise ValueError(f"successes ({successes}) exceed trials ({trials})")
    return float(beta.ppf(delta, successes, trials - successes + 1))


def clopper_pearson_upper(successes: float, trials: float, delta: float) -> float:
    """Exact one-sided upper confidence bound at level ``1 - δ`` for a binomial proportion.

    ``U = Beta⁻¹(1 - δ; k + 1, n - k)`` for ``k < n`` and ``1`` for ``k = n`` (Clopper &
    Pearson 1934). For ``n = 0`` the bound is 1 (nothing is known).
    """
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if trials <= 0 or successes >= trials:
        return 1.0
    if successes < 0:
        raise ValueError(f"successes must be non-negative, got {successes}")
    return float(beta.ppf(1.0 - delta, successes + 1, trials - successes))


def predictive_p_value(errors: int, trials: int, applied: int, target: float) -> float:
    """Exact p-value that the *applied* items' empirical agreement falls below ``target``.

    The calibration items (``trials``, ``errors`` wrong) and the ``applied`` items accepted
    elsewhere at the same threshold are taken as a random split of one pool (exchangeable, as
    in a random calibration/test split). The applied items fail when their errors exceed
    ``f = ⌊(1 - target)·applied⌋``. Given ``E`` errors in the pool, the calibration errors are
    hypergeometric, so ``P(E_cal ≤ e, E - E_cal > f) ≤ P(E_cal ≤ e | E = e + f + 1)``, the
    largest over ``E``; that is the p-value (the permutation argument of Fisher's exact test).
    Certify when it is ≤ δ. With ``applied = 0`` nothing can fail and the p-value is 0.
    """
    if applied <= 0:
        return 0.0
    allowed = math.floor((1.0 - target) * applied + 1e-9)
    bad = errors + allowed + 1
    pool = trials + applied
    if bad > pool:
        return 0.0
    return float(hypergeom(pool, bad, trials).cdf(errors))


def min_items_to_certify(target: float, delta: float) -> int:
    """Smallest ``n`` whose perfect run ``n/n`` certifies: ``⌈ln δ / ln target⌉``."""
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be in (0, 1), got {target}")
    return max(1, math.ceil(math.log(delta) / math.log(target) - 1e-12))


def threshold_grid(scores: Sequence[float], *, min_items: int, steps: int = 20) -> list[float]:
    """Candidate thresholds, strictest first, fixed before looking at correctness.

    The first accepts at least ``min_items`` items; then about ``steps`` more, evenly spaced in
    accepted count down to accepting every candidate. Tied scores are never split.
    """
    ordered = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    n = len(ordered)
    if n == 0 or n < min_items:
        return []
    step = max(1, math.ceil((n - min_items) / max(steps, 1)))
    counts = list(range(min_items, n + 1, step))
    if counts[-1] != n:
        counts.append(n)
    grid: list[float] = []
    for count in counts:
        value = float(ordered[count - 1])
        if not grid or value < grid[-1]:
            grid.append(value)
    return grid


def first_testable_count(
    scores: Sequence[float],
    *,
    target: float,
    delta: float,
    plan_accuracy: float,
    application_scores: Sequence[float] | None = None,
    predictive_level: float | None = None,
) -> int | None:
    """Smallest accepted count at which an observed agreement of ``plan_accuracy`` certifies.

    Uses only the scores (never correctness), so the grid it starts stays fixed in advance.
    Starting where a run at ``plan_accuracy`` (above the target) would pass, instead of where
    only a perfect run would, keeps one early error from ending the whole sequence. ``None``
    when no count qualifies.
    """
    ordered = np.sort(np.asarray(scores, dtype=np.float64))[::-1]
    applied = np.asarray(application_scores if application_scores is not None else [])
    start = min_items_to_certify(target, delta)
    for count in range(start, len(ordered) + 1):
        threshold = ordered[count - 1]
        n = int((ordered >= threshold).sum())
        errors = math.floor((1.0 - plan_accuracy) * n + 1e-9)
        if clopper_pearson_lower(n - errors, n, delta) < target:
            continue
        m = int((applied >= threshold).sum())
        check = delta if predictive_level is None else predictive_level
        if application_scores is not None and predictive_p_value(errors, n, m, target) > check:
            continue
        return n
    return None


@dataclass(frozen=True)
class GridStep:
    """One tested threshold: items accepted, how many were right, the bound, the verdict."""

    threshold: float
    accepted: int
    correct: int
    bound: float
    certified: bool
    applied: int = 0
    predictive_p: float = 0.0
    level: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "accepted": self.accepted,
            "correct": self.correct,
            "bound": self.bound,
            "certified": self.certified,
            "applied": self.applied,
            "predictive_p": self.predictive_p,
            "level": self.level,
        }


@dataclass(frozen=True)
class ThresholdSearch:
    """Outcome of a fixed-sequence search; ``threshold`` is ``inf`` when nothing certified."""

    threshold: float
    accepted: int
    correct: int
    bound: float
    candidates: int
    steps: list[GridStep] = field(default_factory=list)

    @property
    def certified(self) -> bool:
        return math.isfinite(self.threshold)


def fallback_weights(steps: int, first: float = 0.9) -> list[float]:
    """Shares of δ for the fallback procedure: ``first`` on step 1, the rest split evenly.

    Returns ``steps`` non-negative weights summing to 1 (``[1.0]`` for a single step).
    """
    if steps <= 0:
        return []
    if steps == 1:
        return [1.0]
    rest = (1.0 - first) / (steps - 1)
    return [first] + [rest] * (steps - 1)


def fixed_sequence_search(
    scores: Sequence[float],
    correct: Sequence[bool],
    *,
    target: float,
    delta: float,
    grid: Sequence[float],
    application_scores: Sequence[float] | None = None,
    weights: Sequence[float] | None = None,
    predictive_level: float | None = None,
) -> ThresholdSearch:
    """Walk ``grid`` (strictest first), certifying thresholds whose bound reaches ``target``.

    ``scores``/``correct`` describe the candidate items (score, and whether the label they
    would get agrees with gold). When ``application_scores`` (scores of the candidate items the
    policy will be applied to) are given, a threshold must also pass
    :func:`predictive_p_value` at the step's level (or at ``predictive_level`` when given), so
    that the *observed* agreement on those items, not only its expectation, reaches the target.
    That check is an extra condition: it never changes what the bound guarantees.

    Without ``weights``: plain fixed-sequence testing, every step at level δ, stopping at the
    first failure. With ``weights`` (one per grid step, summing to at most 1): the fallback
    procedure, where step ``i`` is tested at ``w_i·δ`` plus the previous step's level if that
    step was rejected, and the search goes on after a failure. Returns the loosest certified
    threshold, or ``inf`` when none is.
    """
    s = np.asarray(scores, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    applied = np.asarray(application_scores if application_scores is not None else [])
    if weights is not None and len(weights) != len(grid):
        raise ValueError(f"{len(weights)} weights for {len(grid)} grid steps")
    best = ThresholdSearch(math.inf, 0, 0, 0.0, len(s))
    steps: list[GridStep] = []
    carried = 0.0
    for i, threshold in enumerate(grid):
        level = delta if weights is None else weights[i] * delta + carried
        mask = s >= threshold
        n, k = int(mask.sum()), int(ok[mask].sum())
        bound = clopper_pearson_lower(k, n, level) if level > 0 else 0.0
        m = int((applied >= threshold).sum())
        p_value = predictive_p_value(n - k, n, m, target)
        check = level if predictive_level is None else predictive_level
        passed = level > 0 and bound >= target and p_value <= check
        steps.append(GridStep(float(threshold), n, k, bound, passed, m, p_value, level))
        if passed:
            best = ThresholdSearch(float(threshold), n, k, bound, len(s))
        if weights is None and not passed:
            break
        carried = level if passed else 0.0
    return ThresholdSearch(best.threshold, best.accepted, best.correct, best.bound, len(s), steps)


def gold_needed(
    accuracy: float, share: float, *, target: float, delta: float, have: int
) -> int | None:
    """How many more gold labels would let a threshold with this observed accuracy certify.

    ``accuracy`` is the observed agreement at the best candidate threshold and ``share`` the
    share of gold items it accepts. Finds the smallest ``n`` accepted items whose bound at
    ``round(accuracy·n)`` successes reaches ``target`` and scales by ``share``. ``None`` when
    ``accuracy ≤ target`` (no amount of gold certifies it).
    """
    if accuracy <= target or share <= 0.0:
        return None

    def passes(n: int) -> bool:
        return clopper_pearson_lower(math.floor(accuracy * n), n, delta) >= target

    low, high = 0, min_items_to_certify(target, delta)
    while not passes(high):  # grow until some size certifies
        low, high = high, high * 2
        if high > 10_000_000:
            return None
    while high - low > 1:  # then bisect (the bound grows with n up to the floor's wobble)
        mid = (low + high) // 2
        low, high = (low, mid) if passes(mid) else (mid, high)
    return max(0, math.ceil(high / share) - have)
