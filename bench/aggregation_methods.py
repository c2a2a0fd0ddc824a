"""How often majority, gold-weighted and Dawid-Skene labels agree with held-out gold on the
llmfao crowd votes, as more workers turn noisy.

LLMFAO has crowd votes (8,931 by 124 workers, A/B/tie, 1-5 per pair) and no expert gold, so
the protocol builds gold from votes that are then kept away from the methods:

1. **Held-out gold.** For each pair with 5 votes, 3 votes drawn at random (seeded) are the
   *reference raters*; when the 3 agree, their label is the pair's held-out gold and those 3
   votes are removed from the data the methods see (the other 2 stay: a pair reviewed by two
   people, as ``--reviewers-per-item 2`` does). Pairs whose 3 disagree are dropped.
2. **Calibration gold.** Every other pair with 3+ votes and a label holding at least 75% of
   them: that label is its gold, known to the methods (the hidden gold checks of the review
   queue). Its votes stay in the data.
3. **Noisy workers.** A share ``rate`` of the workers (seeded) turn noisy in the data the
   methods see, everywhere (calibration gold included; the reference votes are never touched):
   ``random`` answers uniformly among A, B and tie (a click-through spammer); ``flip`` swaps A
   and B and answers tie as A or B at random (a saboteur).
4. **Methods** (the ones behind ``referee labels final --aggregate``):

   * ``majority``: plurality vote, ties abstain (``calibration.aggregation.majority_vote``);
   * ``majority+tb``: the tie policy of ``referee labels final --aggregate majority``: a tie
     goes to the tied label whose voters score best on gold checks (plain accuracy on
     calibration gold, 0 without any), and abstains when that is still a tie;
   * ``weighted``: votes weighted by each worker's smoothed accuracy on calibration gold,
     ``(right + 1) / (checked + 2)`` (``referee.review.final_labels.smoothed_accuracy``), exact
     ties abstain;
   * ``dawid-skene``: ``calibration.dawid_skene.DawidSkene`` with calibration gold clamped.

Agreement = share of held-out gold pairs whose aggregated label equals the gold (an abstention
counts as a miss; the abstention share is printed too), mean over ``--seeds`` seeds (the split,
the noisy workers and their answers change with the seed). Run:

    .venv/bin/python bench/aggregation_methods.py [--rates 0 0.1 0.2 0.3 0.4] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calibration.aggregation import majority_vote
from calibration.dawid_skene import DawidSkene
from referee.review.final_labels import smoothed_accuracy
from referee.review.quality import AnnotatorQuality

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "llmfao" / "labels.jsonl"
LABELS = ("A", "B", "tie")
METHODS = ("majority", "majority+tb", "weighted", "dawid-skene")

Vote = tuple[str, str, str]  # (pair, worker, label)


@dataclass(frozen=True)
class Split:
    """Votes the methods see, the calibration gold they know and the held-out gold."""

    votes: list[Vote]
    calibration: dict[str, str]
    held_out: dict[str, str]


def split(votes: Sequence[Vote], seed: int, reference_raters: int = 3) -> Split:
    """Held-out and calibration gold as in the module docstring."""
    rng = np.random.default_rng(seed)
    by_pair: dict[str, list[Vote]] = defaultdict(list)
    for v in votes:
        by_pair[v[0]].append(v)
    seen: list[Vote] = []
    held_out: dict[str, str] = {}
    calibration: dict[str, str] = {}
    for pair in sorted(by_pair):
        pv = by_pair[pair]
        if len(pv) == 5:
            order = rng.permutation(len(pv))
            reference = [pv[i] for i in order[:reference_raters]]
            labels = {v[2] for v in reference}
            if len(labels) == 1:
                held_out[pair] = labels.pop()
                seen += [pv[i] for i in order[reference_raters:]]
                continue
        seen += pv
        counts = Counter(v[2] for v in pv).most_common()
        if len(pv) >= 3 and counts[0][1] / len(pv) >= 0.75:
            calibration[pair] = counts[0][0]
    return Split(seen, calibration, held_out)


def add_noise(votes: Sequence[Vote], rate: float, kind: str, seed: int) -> list[Vote]:
    """Turn a share ``rate`` of the workers noisy (``random`` or ``flip``)."""
    rng = np.random.default_rng(seed + 10_000)
    workers = sorted({v[1] for v in votes})
    noisy = set(rng.choice(workers, size=round(rate * len(workers)), replace=False).tolist())
    out: list[Vote] = []
    for pair, worker, label in votes:
        if worker in noisy:
            if kind == "random":
                label = str(rng.choice(LABELS))
            elif label == "tie":
                label = str(rng.choice(("A", "B")))
            else:
                label = "B" if label == "A" else "A"
        out.append((pair, worker, label))
    return out


def _gold_record(votes: Sequence[Vote], gold: dict[str, str]) -> dict[str, AnnotatorQuality]:
    checked: Counter[str] = Counter()
    right: Counter[str] = Counter()
    for pair, worker, label in votes:
        if pair in gold:
            checked[worker] += 1
            right[worker] += int(label == gold[pair])
    return {w: AnnotatorQuality(w, checked[w], right[w]) for w in checked}


def majority_tie_break(votes: Sequence[Vote], gold: dict[str, str]) -> dict[str, str | None]:
    """Plurality; ties broken by the tied voters' summed gold accuracy (else abstain)."""
    accuracy = {w: q.accuracy or 0.0 for w, q in _gold_record(votes, gold).items()}
    by_pair: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pair, worker, label in votes:
        by_pair[pair].append((worker, label))
    out: dict[str, str | None] = {}
    for pair, pv in by_pair.items():
        counts = Counter(lab for _, lab in pv).most_common()
        top = [lab for lab, n in counts if n == counts[0][1]]
        if len(top) == 1:
            out[pair] = top[0]
            continue
        weight = {lab: sum(accuracy.get(w, 0.0) for w, x in pv if x == lab) for lab in top}
        best = max(weight.values())
        winners = [lab for lab in top if weight[lab] == best]
        out[pair] = winners[0] if len(winners) == 1 else None
    return out


def weighted_labels(votes: Sequence[Vote], gold: dict[str, str]) -> dict[str, str | None]:
    """Votes weighted by each worker's smoothed accuracy on the gold pairs they answered."""
    weight = {w: smoothed_accuracy(q) for w, q in _gold_record(votes, gold).items()}
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for pair, worker, label in votes:
        totals[pair][label] += weight.get(worker, 0.5)
    out: dict[str, str | None] = {}
    for pair, t in totals.items():
        best = max(t.values())
        winners = [lab for lab, w in t.items() if abs(w - best) < 1e-12]
        out[pair] = winners[0] if len(winners) == 1 else None
    return out


def aggregate(method: str, votes: Sequence[Vote], gold: dict[str, str]) -> dict[str, str | None]:
    """Pair -> label (None: abstained) by ``method``."""
    tasks = [v[0] for v in votes]
    workers = [v[1] for v in votes]
    labels = [v[2] for v in votes]
    if method == "majority":
        got: dict[Hashable, Hashable | None] = majority_vote(tasks, labels)
        return {str(k): None if v is None else str(v) for k, v in got.items()}
    if method == "majority+tb":
        return majority_tie_break(votes, gold)
    if method == "weighted":
        return weighted_labels(votes, gold)
    if method == "dawid-skene":
        clamp: dict[Hashable, Hashable] = dict(gold)
        fitted = DawidSkene().fit(tasks, workers, labels, gold=clamp).labels_
        return {str(k): str(v) for k, v in fitted.items()}
    raise ValueError(f"unknown method {method!r}")


def score(labels: dict[str, str | None], held_out: dict[str, str]) -> tuple[float, float]:
    """(agreement with held-out gold, abstention share); abstentions count as misses."""
    agree = sum(labels.get(p) == g for p, g in held_out.items())
    abstain = sum(labels.get(p) is None for p in held_out)
    return agree / len(held_out), abstain / len(held_out)


def run(
    votes: Sequence[Vote], rates: Sequence[float], kinds: Sequence[str], seeds: int
) -> dict[tuple[str, float, str], list[tuple[float, float]]]:
    """(noise kind, rate, method) -> per-seed (agreement, abstention)."""
    results: dict[tuple[str, float, str], list[tuple[float, float]]] = defaultdict(list)
    for seed in range(seeds):
        base = split(votes, seed)
        for kind in kinds:
            for rate in rates:
                noisy = add_noise(base.votes, rate, kind, seed)
                for method in METHODS:
                    labels = aggregate(method, noisy, base.calibration)
                    results[(kind, rate, method)].append(score(labels, base.held_out))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DATA)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.0, 0.1, 0.2, 0.3, 0.4])
    parser.add_argument("--kinds", nargs="+", default=["random", "flip"])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    rows = [json.loads(line) for line in args.labels.read_text().splitlines() if line.strip()]
    votes = [(r["pair_id"], r["annotator"], r["label"]) for r in rows]
    first = split(votes, 0)
    print(
        f"llmfao: {len(votes):,} votes, {len({v[1] for v in votes})} workers; seed 0: "
        f"{len(first.held_out)} held-out gold pairs (3 agreeing reference votes removed, 2 "
        f"left), {len(first.calibration)} calibration gold pairs, {len(first.votes):,} votes "
        f"seen; mean over {args.seeds} seeds"
    )
    results = run(votes, args.rates, args.kinds, args.seeds)
    for kind in args.kinds:
        print(f"\nnoisy workers: {kind}")
        print(f"{'noisy share':>11}  " + "  ".join(f"{m:>26}" for m in METHODS))
        for rate in args.rates:
            cells = []
            for method in METHODS:
                got = np.array(results[(kind, rate, method)])
                cells.append(
                    f"{got[:, 0].mean():6.1%} ±{got[:, 0].std():5.1%} ({got[:, 1].mean():4.1%} abst.)"
                )
            print(f"{rate:>11.0%}  " + "  ".join(f"{c:>26}" for c in cells))
    print("\nagreement with held-out gold (± sd over seeds; abstentions count as misses)")


if __name__ == "__main__":
    main()
