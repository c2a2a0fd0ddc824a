"""Scoring a list of pairs one at a time: the loop every per-pair scorer shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from calibration.signals import PairSignals

__all__ = ["score_each"]


def score_each(
    score_one: Callable[[PairSignals], tuple[str | None, float]], signals: Sequence[PairSignals]
) -> tuple[list[str | None], NDArray[np.float64]]:
    """``score_one`` of every pair, in order: the labels and a float array of the scores."""
    labels: list[str | None] = []
    scores = np.zeros(len(signals))
    for i, pair in enumerate(signals):
        label, scores[i] = score_one(pair)
        labels.append(label)
    return labels, scores
