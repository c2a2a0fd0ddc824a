"""How well stated probabilities match observed frequencies: reliability bins, ECE, Brier.

* Reliability diagram: equal-width bins over [0, 1]; per bin the mean stated probability and the
  observed frequency (DeGroot & Fienberg, "The comparison and evaluation of forecasters", 1983).
* Expected calibration error ``ECE = Σ_b (n_b / N) · |acc_b - conf_b|`` (Naeini, Cooper &
  Hauskrecht, AAAI 2015; Guo et al., "On calibration of modern neural networks", ICML 2017).
* Brier score ``(1/N) Σ (p_i - y_i)²`` (Brier, Monthly Weather Review, 1950).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["brier_score", "expected_calibration_error", "reliability", "reliability_bins"]


def _arrays(
    probabilities: Sequence[float], outcomes: Sequence[bool]
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    p = np.asarray(probabilities, dtype=np.float64)
    y = np.asarray(outcomes, dtype=np.float64)
    if p.shape != y.shape:
        raise ValueError(f"{len(p)} probabilities but {len(y)} outcomes")
    if p.size and (np.nanmin(p) < 0.0 or np.nanmax(p) > 1.0):
        raise ValueError("probabilities must lie in [0, 1]")
    return p, y


def reliability_bins(
    probabilities: Sequence[float], outcomes: Sequence[bool], *, bins: int = 10
) -> list[dict[str, float | int]]:
    """Equal-width bins (the last includes 1.0): ``lo, hi, count, confidence, accuracy``.

    Empty bins are left out.
    """
    p, y = _arrays(probabilities, outcomes)
    index = np.minimum((p * bins).astype(int), bins - 1)
    out: list[dict[str, float | int]] = []
    for b in range(bins):
        mask = index == b
        count = int(mask.sum())
        if count:
            out.append(
                {
                    "lo": b / bins,
                    "hi": (b + 1) / bins,
                    "count": count,
                    "confidence": float(p[mask].mean()),
                    "accuracy": float(y[mask].mean()),
                }
            )
    return out


def expected_calibration_error(
    probabilities: Sequence[float], outcomes: Sequence[bool], *, bins: int = 10
) -> float:
    """``Σ_b (n_b/N)·|acc_b - conf_b|`` over equal-width bins; 0.0 for no items."""
    n = len(probabilities)
    if n == 0:
        return 0.0
    return float(
        sum(
            int(b["count"]) / n * abs(float(b["accuracy"]) - float(b["confidence"]))
            for b in reliability_bins(probabilities, outcomes, bins=bins)
        )
    )


def brier_score(probabilities: Sequence[float], outcomes: Sequence[bool]) -> float:
    """Mean squared difference between probability and outcome; 0.0 for no items."""
    p, y = _arrays(probabilities, outcomes)
    return float(np.mean((p - y) ** 2)) if p.size else 0.0


def reliability(
    probabilities: Sequence[float], outcomes: Sequence[bool], *, bins: int = 10
) -> dict[str, Any]:
    """All three in one JSON-able dict: ``n``, ``ece``, ``brier``, ``bins``."""
    return {
        "n": len(probabilities),
        "ece": expected_calibration_error(probabilities, outcomes, bins=bins),
        "brier": brier_score(probabilities, outcomes),
        "bins": reliability_bins(probabilities, outcomes, bins=bins),
    }
