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

import math

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


def _latent_pairs(
    n: int,
    gold_items: int,
    seed: int,
    judges: tuple[tuple[str, float, float, str], ...],
    human_noise: float,
    tie_share: float = 0.0,
    backbone_sd: float = 0.0,
) -> Data:
    """Pairs with a latent preference strength ``d`` (heavy-tailed: most pairs clear, some
    close) that every judge sees through noise of its own.

    ``judges``: (name, noise sd, position bias, kind) with kind ``llm`` (verdict by sign in each
    order, a stated probability ``sigmoid(2.5·|x|)``, overconfident), ``llm-votes`` (the same
    without probabilities) or ``reward`` (one order, probability ``sigmoid(|r|)`` of the
    reward difference ``r``, as reward-model scores are turned into probabilities). People
    label by the sign of ``d`` but disagree with it on close pairs (``human_noise`` scales how
    often); with ``tie_share`` the closest pairs' gold is ``tie``. ``backbone_sd``: noise every
    reward model shares on a pair (one backbone), so their errors are correlated."""
    rng = np.random.default_rng(seed)
    strength = rng.standard_t(3, size=n) * 0.9
    cut = np.quantile(np.abs(strength), tie_share) if tie_share > 0 else -1.0
    signals: list[PairSignals] = []
    gold: dict[str, str] = {}
    for i in range(n):
        d = float(strength[i])
        backbone = rng.normal(0.0, backbone_sd) if backbone_sd > 0 else 0.0
        flip = rng.random() < human_noise * math.exp(-abs(d))
        truth = ("A" if d > 0 else "B") if not flip else ("B" if d > 0 else "A")
        if abs(d) <= cut:
            truth = "tie"
        out: dict[str, JudgeSignals] = {}
        for name, sigma, bias, kind in judges:
            x = d + rng.normal(0.0, sigma)
            if kind == "reward":
                x += backbone
                verdict = "A" if x > 0 else "B"
                prob = float(1.0 / (1.0 + math.exp(-abs(x))))
                out[name] = JudgeSignals(name, verdict, None, confidence_ab=prob)
                continue
            calls = []
            for sign in (1.0, -1.0):  # A shown first, then B shown first
                seen = x + rng.normal(0.0, sigma * 0.4) + sign * bias
                calls.append(
                    ("A" if seen > 0 else "B", float(1 / (1 + math.exp(-2.5 * abs(seen)))))
                )
            (ab, conf_ab), (ba, conf_ba) = calls
            if kind == "llm":
                out[name] = JudgeSignals(name, ab, ba, confidence_ab=conf_ab, confidence_ba=conf_ba)
            else:
                out[name] = JudgeSignals(name, ab, ba)
        pid = f"l{i:05d}"
        signals.append(PairSignals(pid, out))
        if i < gold_items:
            gold[pid] = truth
    return signals, gold


def strong_judge_panel(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """Three judges stating probabilities, one much stronger than the others."""
    judges = (
        ("strong", 0.4, 0.1, "llm"),
        ("mid", 1.3, 0.3, "llm"),
        ("weak", 1.8, 0.4, "llm"),
    )
    return _latent_pairs(n, gold_items, seed, judges, human_noise=0.2)


def reward_panel(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """Six judges: two LLM judges stating probabilities, two without, two reward models (one
    order, probabilities from reward differences); hard data (objective labels, target 0.75)."""
    judges = (
        ("llm-1", 1.0, 0.2, "llm"),
        ("llm-2", 1.4, 0.3, "llm"),
        ("llm-3", 1.2, 0.4, "llm-votes"),
        ("llm-4", 1.8, 0.5, "llm-votes"),
        ("rm-1", 0.9, 0.0, "reward"),
        ("rm-2", 1.5, 0.0, "reward"),
    )
    return _latent_pairs(n, gold_items, seed, judges, human_noise=0.2)


def single_probability_judge(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """One judge stating probabilities, both orders; gold with 10% ties."""
    return _latent_pairs(
        n, gold_items, seed, (("judge", 0.7, 0.2, "llm"),), human_noise=0.3, tie_share=0.1
    )


def similar_probability_panel(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """Three LLM judges stating probabilities, of similar accuracy (the issue's first row)."""
    judges = (("llm-a", 0.8, 0.2, "llm"), ("llm-b", 0.9, 0.3, "llm"), ("llm-c", 1.0, 0.3, "llm"))
    return _latent_pairs(n, gold_items, seed, judges, human_noise=0.15)


def hard_label_panel(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """Four LLM judges in both orders without probabilities, one clearly better than the
    rest (the issue's second row); noisy human labels, target 0.85."""
    judges = (
        ("best", 0.5, 0.2, "llm-votes"),
        ("llm-2", 1.5, 0.4, "llm-votes"),
        ("llm-3", 1.7, 0.5, "llm-votes"),
        ("llm-4", 2.0, 0.6, "llm-votes"),
    )
    return _latent_pairs(n, gold_items, seed, judges, human_noise=0.3)


def correlated_reward_panel(n: int = 240, gold_items: int = 240, seed: int = 0) -> Data:
    """One strong LLM judge in both orders without probabilities and five weaker reward models
    with probabilities sharing one backbone (correlated errors; the issue's third row); hard
    data, target 0.75."""
    rms = tuple((f"rm-{k}", 0.45, 0.0, "reward") for k in range(1, 6))
    judges = (("strong", 0.3, 0.2, "llm-votes"), *rms)
    return _latent_pairs(n, gold_items, seed, judges, human_noise=0.4, backbone_sd=1.0)
