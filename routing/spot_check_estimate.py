"""Accuracy of accepted AI labels, estimated from spot-check answers, with a confidence interval.

Input: one :class:`SpotCheckOutcome` per answered spot check (was the AI label right, and the
probability ``pi`` with which the sampler picked the pair; see :mod:`routing.spot_check`).

* **Simple random sample** (every ``pi`` equal): the number of correct labels is binomial
  (hypergeometric, for which the binomial interval is conservative), so the interval is the
  exact Clopper-Pearson interval (Clopper & Pearson, *Biometrika* 26(4), 1934):
  ``lower = Beta(alpha/2; x, n - x + 1)``, ``upper = Beta(1 - alpha/2; x + 1, n - x)``.
* **Unequal probabilities** (stratified draw): the Hájek estimator
  ``p̂ = Σ y_i / π_i / Σ 1 / π_i`` (Hájek 1971; Särndal, Swensson & Wretman, *Model Assisted
  Survey Sampling*, 1992, §5.7), which equals the Horvitz-Thompson estimator
  ``Σ y_i / π_i / N`` (Horvitz & Thompson, *JASA* 47, 1952) when every sampled pair was answered,
  since then ``Σ_{i∈h} 1/π_i = N_h``. Its variance is estimated by Taylor linearisation for
  stratified sampling without replacement (Särndal et al., Result 5.7.1; Cochran 1977, §5.3):
  ``V̂ = Σ_h N_h² (1 - f_h) s²_{e,h} / n_h / N²`` with residuals ``e_i = y_i - p̂``. The interval
  is Korn & Graubard's (*Survey Methodology* 24(2), 1998) Clopper-Pearson interval at the
  effective sample size ``n* = p̂ (1 - p̂) / V̂``; when ``p̂`` is 0 or 1 (so ``V̂ = 0``) ``n*`` is
  Kish's effective size ``(Σ w)² / Σ w²`` (Kish, *Survey Sampling*, 1965), which keeps a
  perfect sample from claiming certainty. ``method="bootstrap"`` instead resamples within
  strata (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, §3; percentile interval).

Strata are taken from ``SpotCheckOutcome.stratum`` when given, else pairs with the same ``pi``
form one stratum. A stratum with a single answer has no variance of its own; it borrows the
pooled residual variance (conservative, documented in Cochran §5A.12 as "collapsed strata").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from calibration.thresholds import clopper_pearson_lower, clopper_pearson_upper

__all__ = [
    "AccuracyEstimate",
    "EstimateMethod",
    "SpotCheckOutcome",
    "clopper_pearson",
    "estimate_accuracy",
    "hajek_mean",
    "horvitz_thompson_mean",
]

EstimateMethod = Literal["auto", "exact", "linearized", "bootstrap"]


@dataclass(frozen=True, slots=True)
class SpotCheckOutcome:
    """One answered spot check: whether people confirmed the accepted AI label."""

    pair_id: str
    correct: bool
    inclusion_probability: float
    stratum: Hashable | None = None


@dataclass(frozen=True)
class AccuracyEstimate:
    """Estimated accuracy of accepted AI labels with a two-sided interval at ``confidence``.

    ``accuracy``/``lower``/``upper`` are ``None`` when there is no answered spot check.
    ``n`` answered checks of which ``correct`` confirmed the AI label (unweighted counts);
    ``effective_n`` the sample size the interval was computed at.
    """

    accuracy: float | None
    lower: float | None
    upper: float | None
    n: int
    correct: int
    effective_n: float
    method: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "accuracy": self.accuracy,
            "lower": self.lower,
            "upper": self.upper,
            "n": self.n,
            "correct": self.correct,
            "effective_n": self.effective_n,
            "method": self.method,
            "confidence": self.confidence,
        }


def clopper_pearson(successes: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided binomial interval (Clopper & Pearson 1934) for ``successes`` of ``n``.

    Non-integer ``successes``/``n`` are allowed (Korn-Graubard effective counts). ``n`` must be
    positive and ``0 <= successes <= n``.
    """
    if n <= 0:
        raise ValueError("Clopper-Pearson needs at least one trial")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n], got {successes} of {n}")
    tail = (1.0 - confidence) / 2
    return clopper_pearson_lower(successes, n, tail), clopper_pearson_upper(successes, n, tail)


def horvitz_thompson_mean(
    y: Sequence[float], inclusion_probability: Sequence[float], population_size: int
) -> float:
    """Horvitz-Thompson estimate of a population mean: ``Σ y_i / π_i / N`` (unbiased)."""
    y_arr, pi = _arrays(y, inclusion_probability)
    return float(np.sum(y_arr / pi) / population_size)


def hajek_mean(y: Sequence[float], inclusion_probability: Sequence[float]) -> float:
    """Hájek (ratio) estimate of a population mean: ``Σ y_i / π_i / Σ 1 / π_i``."""
    y_arr, pi = _arrays(y, inclusion_probability)
    return float(np.sum(y_arr / pi) / np.sum(1.0 / pi))


def _arrays(y: Sequence[float], pi: Sequence[float]) -> tuple[NDArray[Any], NDArray[Any]]:
    y_arr = np.asarray(y, dtype=float)
    pi_arr = np.asarray(pi, dtype=float)
    if y_arr.shape != pi_arr.shape or y_arr.size == 0:
        raise ValueError("y and inclusion probabilities must be non-empty and of equal length")
    if np.any(pi_arr <= 0) or np.any(pi_arr > 1):
        raise ValueError("inclusion probabilities must be in (0, 1]")
    return y_arr, pi_arr


def _strata(outcomes: Sequence[SpotCheckOutcome]) -> list[NDArray[Any]]:
    groups: dict[Hashable, list[int]] = defaultdict(list)
    for i, o in enumerate(outcomes):
        key = o.stratum if o.stratum is not None else round(o.inclusion_probability, 12)
        groups[key].append(i)
    return [np.asarray(idx) for _, idx in sorted(groups.items(), key=lambda kv: str(kv[0]))]


def _linearized_variance(y: NDArray[Any], w: NDArray[Any], strata: list[NDArray[Any]]) -> float:
    """Taylor-linearised variance of the Hájek mean under stratified SRSWOR."""
    p_hat = float(np.sum(w * y) / np.sum(w))
    e = y - p_hat
    pooled = float(np.var(e, ddof=1)) if len(e) > 1 else 0.25
    total = 0.0
    for idx in strata:
        n_h = len(idx)
        big_n_h = float(np.sum(w[idx]))
        f_h = min(1.0, n_h / big_n_h)
        s2 = float(np.var(e[idx], ddof=1)) if n_h > 1 else pooled
        total += big_n_h**2 * (1.0 - f_h) * s2 / n_h
    return total / float(np.sum(w)) ** 2


def estimate_accuracy(
    outcomes: Sequence[SpotCheckOutcome],
    *,
    confidence: float = 0.95,
    method: EstimateMethod = "auto",
    n_boot: int = 2000,
    seed: int = 0,
) -> AccuracyEstimate:
    """Accuracy of accepted AI labels from answered spot checks (see the module docstring).

    ``method="auto"``: exact Clopper-Pearson when every inclusion probability is equal (simple
    random sample), else the linearised Hájek/Korn-Graubard interval. ``"exact"`` forces the
    unweighted Clopper-Pearson interval; ``"bootstrap"`` the stratified percentile bootstrap.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    n = len(outcomes)
    if n == 0:
        return AccuracyEstimate(None, None, None, 0, 0, 0.0, "none", confidence)
    y = np.asarray([1.0 if o.correct else 0.0 for o in outcomes])
    pi = np.asarray([o.inclusion_probability for o in outcomes], dtype=float)
    _arrays(list(y), list(pi))
    correct = int(y.sum())
    equal = bool(np.allclose(pi, pi[0], rtol=1e-12, atol=0.0))
    if method == "exact" or (method == "auto" and equal):
        lower, upper = clopper_pearson(correct, n, confidence)
        return AccuracyEstimate(
            correct / n, lower, upper, n, correct, float(n), "clopper_pearson", confidence
        )

    w = 1.0 / pi
    p_hat = float(np.sum(w * y) / np.sum(w))
    strata = _strata(outcomes)
    if method == "bootstrap":
        rng = np.random.default_rng(seed)
        stats = np.empty(n_boot)
        for b in range(n_boot):
            idx = np.concatenate([rng.choice(s, size=len(s), replace=True) for s in strata])
            stats[b] = np.sum(w[idx] * y[idx]) / np.sum(w[idx])
        alpha = 1.0 - confidence
        lower, upper = (float(q) for q in np.quantile(stats, [alpha / 2, 1 - alpha / 2]))
        kish = float(np.sum(w) ** 2 / np.sum(w**2))
        return AccuracyEstimate(
            p_hat, lower, upper, n, correct, kish, "hajek_bootstrap", confidence
        )

    variance = _linearized_variance(y, w, strata)
    kish = float(np.sum(w) ** 2 / np.sum(w**2))
    if variance > 0 and 0.0 < p_hat < 1.0:
        effective = min(float(n), p_hat * (1.0 - p_hat) / variance)
    else:
        effective = kish
    effective = max(effective, 1.0)
    lower, upper = clopper_pearson(p_hat * effective, effective, confidence)
    return AccuracyEstimate(
        p_hat, lower, upper, n, correct, effective, "hajek_korn_graubard", confidence
    )
