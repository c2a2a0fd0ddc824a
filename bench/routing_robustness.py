"""Auto-accept robustness: Referee against the two simple routers on the same random splits.

Matrix: shared data by judge subsets by calibration gold sizes (100, 200, half of the gold),
plus synthetic panels shaped like what users bring (:mod:`synthetic_sets`), among them the
three rows of issue #23: three LLM judges stating probabilities of similar accuracy; four
hard-label judges, one clearly best; one strong judge without probabilities beside five weaker
reward models with probabilities that share a backbone (target 0.75).
For every cell and split (seeded), the gold pairs are shuffled, the first ``size`` calibrate
and every other gold pair is the test set; all pairs' signals are visible (as ``referee
calibrate`` sees the whole dataset). Three routers are fitted on the calibration gold and
applied to the test pairs:

* **Referee**: :func:`calibration.policy.fit_policy` (every candidate, the simple routers'
  scores among them, certified on all the calibration gold at its share of δ, the label model
  on a selection split at its share, the best kept; :mod:`calibration.union`).
* **ref-judge**: the single judge whose vote agrees most with the calibration gold, its vote
  share as the score; threshold by fixed-sequence testing or Learn-then-Test (Bonferroni over
  20 steps), exact Clopper-Pearson bounds (:mod:`calibration.simple_routers`), the better of
  the two per split by calibration gold accepted (what a router that never sees the test
  pairs can do; the column *oracle* is the better method by test coverage, the better of the
  two routers per split, a reading no router can reach).
* **ref-panel**: the panel's vote share, the same tests.

Printed per cell: guarantee held (share of splits whose accepted test labels agree with the
human labels at ≥ target; a split accepting nothing holds) and mean test coverage, for the
three routers, Referee's margin over the better simple router, and the scores Referee chose.

Usage: ``.venv/bin/python bench/routing_robustness.py [--splits 30] [--only llmbar] [--sizes
100,200,half] [--workers 2] [--data ../shared/data]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread per worker process
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import sys
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from guarantee_protocol import load
from synthetic_sets import (
    correlated_reward_panel,
    hard_label_panel,
    probability_panel,
    reward_panel,
    similar_probability_panel,
    single_probability_judge,
    strong_judge_panel,
    vote_panel,
)

from calibration.policy import fit_policy
from calibration.scores import VoteScorer, judge_orders
from calibration.signals import PairSignals
from calibration.simple_routers import (
    best_judge,
    fixed_sequence_threshold,
    learn_then_test_threshold,
)

TARGET, DELTA = 0.85, 0.1
ACCEPT = ("A", "B")


@dataclass(frozen=True)
class Cell:
    name: str
    folder: str
    judges: tuple[str, ...] | None
    target: float = TARGET


CELLS = (
    Cell(
        "llmbar / 4 vanilla_norules",
        "llmbar",
        (
            "gpt-4/vanilla_norules",
            "chatgpt/vanilla_norules",
            "palm2/vanilla_norules",
            "llama2/vanilla_norules",
        ),
    ),
    Cell("llmbar / gpt-4 vanilla", "llmbar", ("gpt-4/vanilla",)),
    Cell("llmbar / all 18", "llmbar", None),
    Cell("pandalm / gpt-3.5 (maj. 3)", "pandalm", None),
    Cell("llmfao / gpt-4 + gpt-3.5", "llmfao", ("gpt-4/llmfao", "gpt-3.5/llmfao")),
    Cell("synthetic / 4 judges, votes only", "synthetic:vote_panel", None),
    Cell("synthetic / 3 judges, probabilities", "synthetic:probability_panel", None),
    Cell("synthetic / 1 strong + 2 weak, prob.", "synthetic:strong_judge_panel", None),
    Cell("synthetic / 6 incl. reward, t=0.75", "synthetic:reward_panel", None, 0.75),
    Cell("synthetic / 1 judge, prob., ties", "synthetic:single_probability_judge", None),
    Cell("row 1: 3 similar, prob.", "synthetic:similar_probability_panel", None),
    Cell("row 2: 4 hard-label, 1 best", "synthetic:hard_label_panel", None),
    Cell("row 3: 1 strong + 5 corr. RMs", "synthetic:correlated_reward_panel", None, 0.75),
)
SYNTHETIC = {
    "vote_panel": vote_panel,
    "probability_panel": probability_panel,
    "strong_judge_panel": strong_judge_panel,
    "reward_panel": reward_panel,
    "single_probability_judge": single_probability_judge,
    "similar_probability_panel": similar_probability_panel,
    "hard_label_panel": hard_label_panel,
    "correlated_reward_panel": correlated_reward_panel,
}


def _vote(
    scorer: VoteScorer, pairs: Sequence[PairSignals], gold: dict[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    labels, scores = scorer.score_many(pairs)
    acceptable = np.asarray(
        [lab in ACCEPT and not p.injection_suspected for p, lab in zip(pairs, labels, strict=True)]
    )
    correct = np.asarray([lab == gold[p.pair_id] for p, lab in zip(pairs, labels, strict=True)])
    return scores, acceptable, correct


def _reference(
    scorer: VoteScorer,
    cal: list[PairSignals],
    test: list[PairSignals],
    gold: dict[str, str],
    target: float,
) -> tuple[float, float, float]:
    """The fixed sequence or Learn-then-Test threshold, each picked on the calibration gold,
    whichever accepts more calibration gold (as :mod:`calibration.simple_routers` and
    ``referee calibrate`` do): (test coverage, test agreement, the better test coverage of
    the two, an oracle reading that looks at the test pairs)."""
    s, acc, ok = _vote(scorer, cal, gold)
    ts, tacc, tok = _vote(scorer, test, gold)
    results = []
    for find in (fixed_sequence_threshold, learn_then_test_threshold):
        t = find(s[acc].tolist(), ok[acc].tolist(), target=target, delta=DELTA)
        mask = tacc & (ts >= t)
        results.append(
            (
                int((acc & (s >= t)).sum()),
                mask.sum() / len(test),
                float(tok[mask].mean()) if mask.any() else math.nan,
            )
        )
    chosen = max(results, key=lambda r: r[0])  # first (fixed sequence) on ties
    return chosen[1], chosen[2], max(r[1] for r in results)


def one_split(
    args: tuple[list[PairSignals], dict[str, str], list[str], int, int, float],
) -> dict[str, object]:
    signals, gold, panel, size, seed, target = args
    ids = sorted(gold)
    np.random.default_rng(seed).shuffle(ids)
    cal_ids, test_ids = set(ids[:size]), set(ids[size:])
    cal = [p for p in signals if p.pair_id in cal_ids]
    test = [p for p in signals if p.pair_id in test_ids]
    out: dict[str, object] = {}
    fit = fit_policy(
        signals,
        {p: gold[p] for p in cal_ids},
        target_agreement=target,
        delta=DELTA,
        judges=panel,
        seed=seed,
        reports=False,
    )
    accepted = [p for p in test if fit.policy.accepts(p)]
    right = sum(fit.policy.score(p).label == gold[p.pair_id] for p in accepted)
    out["referee"] = (len(accepted) / len(test), right / len(accepted) if accepted else math.nan)
    out["score"] = fit.report["score_kind"]
    orders = judge_orders(signals, panel)
    best = best_judge(cal, gold, panel, orders)
    out["ref-judge"] = _reference(VoteScorer((best,), orders), cal, test, gold, target)
    out["ref-panel"] = _reference(VoteScorer(tuple(panel), orders), cal, test, gold, target)
    return out


def summarise(rows: list[dict[str, object]], key: str, target: float) -> tuple[float, float]:
    """(held rate, mean coverage) of one router over the splits."""
    pairs = [r[key] for r in rows]
    held = [math.isnan(a) or a >= target for _, a, *_ in pairs]  # type: ignore[misc]
    return float(np.mean(held)), float(np.mean([c for c, *_ in pairs]))  # type: ignore[misc]


def oracle(rows: list[dict[str, object]]) -> float:
    """Mean over splits of the better simple router's better-method test coverage."""
    return float(np.mean([max(r["ref-judge"][2], r["ref-panel"][2]) for r in rows]))  # type: ignore[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--splits", type=int, default=30)
    parser.add_argument("--sizes", default="100,200,half")
    parser.add_argument("--only", default="", help="run only cells whose name contains this")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parent.parent.parent / "shared" / "data",
    )
    args = parser.parse_args()
    print(f"target={TARGET} (unless a cell says) delta={DELTA} splits={args.splits}")
    print(
        f"{'cell':<30} {'gold':>5} | {'Referee held':>12} {'cov':>6} | {'ref-judge held':>14} "
        f"{'cov':>6} | {'ref-panel held':>14} {'cov':>6} | {'margin':>6} | Referee's score"
    )
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for cell in CELLS:
            if args.only and args.only not in cell.name:
                continue
            if cell.folder.startswith("synthetic:"):
                signals, gold = SYNTHETIC[cell.folder.split(":", 1)[1]]()
            else:
                signals, gold = load(args.data, cell.folder, list(cell.judges or ()))
            panel = list(cell.judges or sorted({j for p in signals for j in p.judges}))
            for token in args.sizes.split(","):
                size = len(gold) // 2 if token == "half" else int(token)
                jobs = [
                    (signals, gold, panel, size, seed, cell.target) for seed in range(args.splits)
                ]
                rows = list(pool.map(one_split, jobs, chunksize=max(1, args.splits // 8)))
                ours, ref_j, ref_p = (
                    summarise(rows, k, cell.target) for k in ("referee", "ref-judge", "ref-panel")
                )
                kinds = Counter(str(r["score"]) for r in rows).most_common()
                print(
                    f"{cell.name:<30} {size:>5} | {ours[0]:>12.2f} {ours[1]:>6.3f} | "
                    f"{ref_j[0]:>14.2f} {ref_j[1]:>6.3f} | {ref_p[0]:>14.2f} {ref_p[1]:>6.3f} | "
                    f"{ours[1] - max(ref_j[1], ref_p[1]):>+6.3f} | {oracle(rows):>6.3f} | "
                    + ", ".join(f"{k} {n}" for k, n in kinds),
                    flush=True,
                )


if __name__ == "__main__":
    main()
