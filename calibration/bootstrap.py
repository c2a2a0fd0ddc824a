"""Percentile bootstrap confidence intervals for statistics of items (agreement, kappa, alpha).

The unit of resampling is the *item*: a statistic computed from per-item rows (a label pair per
item for Cohen's kappa, a row of category counts per item for alpha, Fleiss' kappa or percent
agreement) is recomputed on ``n_resamples`` samples of the rows drawn with replacement, and the
interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` quantiles of those values
(Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13). Resamples on which the
statistic is undefined (NaN, e.g. a resample where everyone used one category) are dropped and
counted. Seeded, so the same call gives the same interval.

Example::

    >>> import numpy as np
    >>> from calibration.agreement import percent_agreement_from_counts
    >>> counts = np.array([[2, 0], [0, 2], [1, 1], [2, 0]])
    >>> ci = bootstrap_ci(counts, percent_agreement_from_counts, n_resamples=200, seed=1)
    >>> ci.estimate, 0.0 <= ci.low <= ci.estimate <= ci.high <= 1.0
    (0.75, True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["BootstrapInterval", "bootstrap_ci"]


@dataclass(frozen=True)
class BootstrapInterval:
    """A point estimate with its percentile bootstrap interval.

    ``low``/``high`` are NaN when no resample gave a defined value; ``n_valid`` counts the
    resamples used (``n_resamples - n_valid`` were undefined).
    """

    estimate: float
    low: float
    high: float
    confidence: float
    n_resamples: int
    n_valid: int

    def as_dict(self) -> dict[str, float | int | None]:
        """JSON-friendly form (NaN becomes None)."""

        def clean(x: float) -> float | None:
            return None if np.isnan(x) else float(x)

        return {
            "estimate": clean(self.estimate),
            "low": clean(self.low),
            "high": clean(self.high),
            "confidence": self.confidence,
            "n_resamples": self.n_resamples,
            "n_valid": self.n_valid,
        }


def bootstrap_ci(
    rows: ArrayLike,
    statistic: Callable[[NDArray[Any]], float],
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> BootstrapInterval:
    """Percentile bootstrap interval of ``statistic(rows)``, resampling rows (items).

    Args:
        rows: one row per item (``rows[i]`` is everything the statistic needs about item ``i``).
        statistic: maps an array of rows to a number; called once on ``rows`` and once per
            resample.
        n_resamples: number of bootstrap samples (each the size of ``rows``).
        confidence: two-sided coverage of the interval, in (0, 1).
        seed: seed of ``numpy.random.default_rng``; the same seed gives the same interval.
    """
    data = np.asarray(rows)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    estimate = float(statistic(data))
    n = data.shape[0] if data.ndim else 0
    if n == 0:
        nan = float("nan")
        return BootstrapInterval(estimate, nan, nan, confidence, n_resamples, 0)
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples, dtype=np.float64)
    for r in range(n_resamples):
        values[r] = statistic(data[rng.integers(0, n, size=n)])
    valid = values[~np.isnan(values)]
    if valid.size == 0:
        nan = float("nan")
        return BootstrapInterval(estimate, nan, nan, confidence, n_resamples, 0)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(valid, [tail, 1.0 - tail])
    return BootstrapInterval(estimate, float(low), float(high), confidence, n_resamples, valid.size)
