"""Synthetic judge panels shaped like the data users bring, for the routing benchmarks.

Both sets have easy and hard pairs (40% hard): on a hard pair every judge is less accurate and
flips its verdict between orders more often, so the judges' errors are correlated, as on real
data. Gold labels are A/B; the first ``gold`` pairs have gold.

* :func:`vote_panel`: four judges in both orders, no probabilities (accuracies 0.80, 0.72,
  0.68, 0.62 on average; order flips 10-30%).
* :func:`probability_panel`: three judges in both orders stating probabilities that are
  informative but miscalibrated (higher on easy pairs, overconfident everywhere).
"""

from __future__ import annotations

import numpy as np

from calibration.signals import JudgeSignals, PairSignals

Data = tuple[list[PairSignals], dict[str, str]]


def _pairs(
    n: int,
    gold_items: int,
    seed: int,
    accuracies: tuple[float, ...],
    flips: tuple[float, ...],
    probabilities: bool,
) -> Data:
    rng = np.random.default_rng(seed)
    signals: list[PairSignals] = []
    gold: dict[str, str] = {}
    for i in range(n):
        truth = "A" if rng.random() < 0.5 else "B"
        other = "B" if truth == "A" else "A"
        hard = rng.random() < 0.4
        judges: dict[str, JudgeSignals] = {}
        for j, (accuracy, flip) in enumerate(zip(accuracies, flips, strict=True)):
            right = accuracy - 0.15 if hard else min(0.98, accuracy + 0.10)
            ab = truth if rng.random() < right else other
            swapped = "B" if ab == "A" else "A"
            ba = ab if rng.random() >= flip * (1.5 if hard else 0.7) else swapped
            conf_ab = conf_ba = None
            if probabilities:
                base = rng.uniform(0.55, 0.8) if hard else rng.uniform(0.75, 0.99)
                conf_ab = float(base)
                conf_ba = float(min(0.99, max(0.5, base + rng.normal(0, 0.05))))
            judges[f"j{j}"] = JudgeSignals(
                f"j{j}", ab, ba, confidence_ab=conf_ab, confidence_ba=conf_ba
            )
        pid = f"s{i:05d}"
        lengths = rng.integers(50, 500, size=2)
        signals.append(PairSignals(pid, judges, length_a=int(lengths[0]), length_b=int(lengths[1])))
        if i < gold_items:
            gold[pid] = truth
    return signals, gold


def vote_panel(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """Four judges, both orders, no probabilities."""
    return _pairs(n, gold_items, seed, (0.80, 0.72, 0.68, 0.62), (0.10, 0.20, 0.25, 0.30), False)


def probability_panel(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """Three judges, both orders, stating probabilities."""
    return _pairs(n, gold_items, seed, (0.82, 0.75, 0.70), (0.08, 0.15, 0.20), True)


def cascade_panel(n: int = 1000, gold_items: int = 419, seed: int = 0) -> Data:
    """A cheap judge ``cheap`` (stating probabilities: 0.8-1.0 and right 97% on the easy 60% of
    pairs, 0.5-0.8 and right 60% on the rest) and a strong judge ``strong`` (right 93% on
    easy pairs, 85% on hard ones, no probabilities), both orders."""
    rng = np.random.default_rng(seed)
    signals: list[PairSignals] = []
    gold: dict[str, str] = {}
    for i in range(n):
        truth = "A" if rng.random() < 0.5 else "B"
        other = "B" if truth == "A" else "A"
        easy = rng.random() < 0.6
        cheap = truth if rng.random() < (0.97 if easy else 0.6) else other
        conf = float(rng.uniform(0.8, 1.0) if easy else rng.uniform(0.5, 0.8))
        strong = truth if rng.random() < (0.93 if easy else 0.85) else other
        strong_ba = strong if rng.random() >= 0.05 else ("B" if strong == "A" else "A")
        pid = f"c{i:05d}"
        signals.append(
            PairSignals(
                pid,
                {
                    "cheap": JudgeSignals("cheap", cheap, cheap, conf, conf),
                    "strong": JudgeSignals("strong", strong, strong_ba),
                },
            )
        )
        if i < gold_items:
            gold[pid] = truth
    return signals, gold
