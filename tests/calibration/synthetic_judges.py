"""Synthetic judges with known accuracies, for the calibration tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from calibration.signals import JudgeSignals, PairSignals

#: A pair's judges, drawn with the rng from the gold label and the other label.
JudgesFor = Callable[[np.random.Generator, str, str], dict[str, JudgeSignals]]


def draw_pairs(
    n: int, judges_for: JudgesFor, *, seed: int = 0, prefix: str = "p"
) -> tuple[list[PairSignals], dict[str, str]]:
    """``n`` pairs with gold A/B (even odds) and the judges ``judges_for`` draws for each."""
    rng = np.random.default_rng(seed)
    signals: list[PairSignals] = []
    gold: dict[str, str] = {}
    for i in range(n):
        truth = "A" if rng.random() < 0.5 else "B"
        other = "B" if truth == "A" else "A"
        judges = judges_for(rng, truth, other)
        pid = f"{prefix}{i:05d}"
        signals.append(PairSignals(pair_id=pid, judges=judges, meta={"half": i % 2}))
        gold[pid] = truth
    return signals, gold


def synthesize(
    n: int,
    accuracies: Sequence[float],
    *,
    seed: int = 0,
    flip: float = 0.0,
    prefix: str = "p",
) -> tuple[list[PairSignals], dict[str, str]]:
    """``n`` pairs with gold A/B and one judge per accuracy, judged in both orders.

    Each judge is right with its accuracy in the A-first call; the B-first call repeats that
    verdict except with probability ``flip`` (then it gives the other label).
    """

    def judges_for(rng: np.random.Generator, truth: str, other: str) -> dict[str, JudgeSignals]:
        judges: dict[str, JudgeSignals] = {}
        for j, acc in enumerate(accuracies):
            ab = truth if rng.random() < acc else other
            ba = ab if rng.random() >= flip else ("B" if ab == "A" else "A")
            judges[f"j{j}"] = JudgeSignals(judge=f"j{j}", ab=ab, ba=ba)
        return judges

    return draw_pairs(n, judges_for, seed=seed, prefix=prefix)
