"""Planning a certification for power: which score, and where its fixed sequence starts.

The calibration gold is split at random into a *selection* part and a *certification* part
(Learn then Test with data splitting: Angelopoulos, Bates, Candès, Jordan & Lei, "Learn then
Test: calibrating predictive algorithms to achieve risk control", 2021, section 4). Everything
that looks at gold labels to make a choice uses the selection part only: fitting the label
model, choosing among candidate scores, and choosing the first threshold of the fixed
sequence. The certification part is then used once, by the fixed-sequence test of
:func:`calibration.thresholds.fixed_sequence_search`, so its error control is untouched by
the choices.

How a plan is scored. For a candidate score and a threshold ``t`` the selection part gives
``n_s`` accepted items of which ``k_s`` are right. The certification part will accept about
``n = N_cert · share(t)`` items, where ``share`` is the accepted share among the selection
items and the unlabeled pairs to route; the test passes when at least ``k*(n, m)`` of them are
right (:func:`min_correct_to_pass`, ``m`` = routed pairs accepted at ``t``). With the
agreement given a uniform prior updated by the selection items, ``a ~ Beta(k_s + 1,
n_s - k_s + 1)``, the number right is beta-binomial, so the pass probability is
``P(BetaBin(n, k_s + 1, n_s - k_s + 1) ≥ k*)`` (:func:`pass_probability`). The plan maximises
the expected certified share of the whole sequence started at ``t``
(:func:`sequence_values`): it starts where a pass is likely, not at the strictest point with
enough items (a narrow miss there ends the whole sequence), nor at a loose point that may
fail.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.stats import betabinom, binom, hypergeom

from calibration.thresholds import gold_needed

__all__ = [
    "ThresholdPlan",
    "best_plan",
    "min_correct_to_pass",
    "more_gold_needed",
    "pass_probability",
    "plan_thresholds",
    "sequence_values",
]


@lru_cache(maxsize=65536)
def _min_correct(accepted: int, applied: int, target: float, delta: float) -> int | None:
    if accepted <= 0:
        return None
    # Clopper-Pearson: L(k, n, δ) ≥ target  ⇔  P(Bin(n, target) ≥ k) ≤ δ (duality of the
    # exact bound and the exact binomial test).
    k = int(binom.ppf(1.0 - delta, accepted, target)) + 1
    while k > 0 and binom.sf(k - 2, accepted, target) <= delta:  # guard the ppf's rounding
        k -= 1
    while k <= accepted and binom.sf(k - 1, accepted, target) > delta:
        k += 1
    if k > accepted:
        return None
    if applied <= 0:
        return k
    allowed = math.floor((1.0 - target) * applied + 1e-9)
    errors = accepted - k
    while errors >= 0:  # the predictive p-value grows with the errors; find the most allowed
        bad = errors + allowed + 1
        pool = accepted + applied
        p = 0.0 if bad > pool else float(hypergeom(pool, bad, accepted).cdf(errors))
        if p <= delta:
            return accepted - errors
        errors -= 1
    return None


def min_correct_to_pass(
    accepted: int, applied: int, *, target: float, delta: float, predictive: bool = True
) -> int | None:
    """Fewest right labels among ``accepted`` certification items that pass one test step.

    A step passes when the Clopper-Pearson lower bound at level ``1 - δ`` reaches ``target``
    and, with ``predictive``, the p-value of
    :func:`calibration.thresholds.predictive_p_value` for the ``applied`` routed items is
    ≤ δ. Returns ``None`` when even a perfect run fails (or nothing is accepted).
    """
    return _min_correct(int(accepted), int(applied) if predictive else 0, target, delta)


def pass_probability(trials: int, needed: int | None, prior_right: int, prior_items: int) -> float:
    """``P(X ≥ needed)`` for ``X ~ BetaBinomial(trials, prior_right + 1, prior_items -
    prior_right + 1)``: the chance a test step passes, given the selection items' evidence
    about the agreement under a uniform prior (Bayes-Laplace). 0 when ``needed`` is None."""
    if needed is None or trials <= 0:
        return 0.0
    if needed <= 0:
        return 1.0
    a, b = prior_right + 1.0, prior_items - prior_right + 1.0
    return float(betabinom.sf(needed - 1, trials, a, b))


@dataclass(frozen=True)
class ThresholdPlan:
    """One candidate starting threshold and what the selection part predicts for it."""

    threshold: float
    selection_accepted: int
    selection_correct: int
    routed_accepted: int
    expected_certification_items: int
    needed_correct: int | None
    pass_probability: float
    share: float

    @property
    def expected_coverage(self) -> float:
        """``share · P(pass)``: the coverage this start is expected to certify."""
        return self.share * self.pass_probability

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "selection_accepted": self.selection_accepted,
            "selection_correct": self.selection_correct,
            "routed_accepted": self.routed_accepted,
            "expected_certification_items": self.expected_certification_items,
            "needed_correct": self.needed_correct,
            "pass_probability": self.pass_probability,
            "share": self.share,
            "expected_coverage": self.expected_coverage,
        }


def plan_thresholds(
    selection_scores: Sequence[float],
    selection_correct: Sequence[bool],
    routed_scores: Sequence[float],
    *,
    selection_total: int,
    routed_total: int,
    certification_total: int,
    target: float,
    delta: float,
    predictive: bool = True,
    min_bin: int = 1,
) -> list[ThresholdPlan]:
    """Candidate thresholds at distinct scores of the acceptable selection items, strictest
    first, at least ``min_bin`` selection items apart (the loosest score always included).

    ``selection_scores``/``selection_correct``: the acceptable selection items (label allowed,
    not gated), their score and whether their label is right. ``routed_scores``: scores of the
    acceptable pairs to route. ``*_total``: all items of each part (acceptable or not), so
    shares are of the whole part.
    """
    s = np.asarray(selection_scores, dtype=np.float64)
    ok = np.asarray(selection_correct, dtype=bool)
    routed = np.sort(np.asarray(routed_scores, dtype=np.float64))
    order = np.argsort(-s, kind="stable")
    s, ok = s[order], ok[order]
    right = np.cumsum(ok)
    plans: list[ThresholdPlan] = []
    denominator = max(selection_total + routed_total, 1)
    last = 0
    for i in range(len(s)):
        if i + 1 < len(s) and s[i + 1] == s[i]:
            continue  # a threshold accepts every tied item
        if i + 1 - last < min_bin and i + 1 < len(s):
            continue
        last = i + 1
        t = float(s[i])
        n_s, k_s = i + 1, int(right[i])
        m = int(len(routed) - np.searchsorted(routed, t, side="left"))
        share = (n_s + m) / denominator
        n_cert = round(certification_total * share)
        needed = min_correct_to_pass(n_cert, m, target=target, delta=delta, predictive=predictive)
        p = pass_probability(n_cert, needed, k_s, n_s)
        plans.append(ThresholdPlan(t, n_s, k_s, m, n_cert, needed, p, share))
    return plans


def sequence_values(plans: Sequence[ThresholdPlan]) -> list[float]:
    """Expected certified share of a fixed sequence started at each plan (strictest first).

    The sequence started at ``i`` ends at the last ``j ≥ i`` before its first failure and
    certifies ``share_j``. Step outcomes are far from independent (they share items), so the
    steps are taken as comonotone: one uniform ``U`` decides them all, step ``l`` passing when
    ``U ≤ p_l``. The sequence then reaches ``j`` with probability ``min(p_i..p_j)`` and
    ``E = Σ_j share_j · (min(p_i..p_j) - min(p_i..p_{j+1}))``. A strict start with a sure pass
    costs nothing; a loose start that may fail is worth its share times its chance.
    (A Monte Carlo over per-bin posteriors, tried instead, certified less on the shared data
    and on synthetic judges with probabilities: its per-bin priors are too pessimistic.)
    """
    p = np.asarray([plan.pass_probability for plan in plans], dtype=np.float64)
    share = np.asarray([plan.share for plan in plans], dtype=np.float64)
    out: list[float] = []
    for i in range(len(plans)):
        reach = np.minimum.accumulate(p[i:])
        stop = reach - np.append(reach[1:], 0.0)
        out.append(float((share[i:] * stop).sum()))
    return out


def best_plan(plans: Sequence[ThresholdPlan]) -> tuple[ThresholdPlan, float] | None:
    """The start whose sequence has the largest expected certified share (the strictest on
    ties), with that expectation; ``None`` when no start has any chance of passing."""
    values = sequence_values(plans)
    best: tuple[ThresholdPlan, float] | None = None
    for plan, value in zip(plans, values, strict=True):
        if value > 0 and (best is None or value > best[1]):
            best = (plan, value)
    return best


def more_gold_needed(
    scores: Sequence[float],
    correct: Sequence[bool],
    *,
    have: int,
    items: int,
    certification_share: float,
    target: float,
    delta: float,
    step: int,
) -> int | None:
    """Fewest more gold labels with which some top-scored set would certify at its accuracy.

    ``scores``/``correct``: acceptable gold items of the chosen score (``items`` gold items in
    all). Candidate sets: the ``k`` best for ``k = step, 2·step, ...`` and all; each is
    judged by :func:`calibration.thresholds.gold_needed` with its observed accuracy and its
    share of the certification part (a ``certification_share`` of all gold). ``None`` when no
    set is more accurate than the target.
    """
    if items <= 0:
        return None
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ok = np.asarray(correct, dtype=bool)[order]
    sizes = sorted({*range(max(step, 1), len(ok) + 1, max(step, 1)), len(ok)} - {0})
    needs = [
        gold_needed(
            float(ok[:k].mean()),
            k / items * certification_share,
            target=target,
            delta=delta,
            have=have,
        )
        for k in sizes
    ]
    known = [n for n in needs if n is not None]
    return min(known) if known else None
