"""The auto-accept guarantee, checked the way the product is judged.

For each setting (LLMBar with all 18 judge set-ups, LLMBar with GPT-4 ``vanilla`` alone,
PandaLM with gold = strict majority of its 3 annotators): split the gold pairs 50/50 at random
(seeded), fit the policy on the calibration half's gold (target 0.85, δ = 0.1) with every
pair's signals visible (as ``referee calibrate`` sees the whole dataset), apply it to the test
half and compare the auto-accepted labels with the held-back human labels.

Prints, per setting: the share of splits whose empirical test agreement is ≥ the target (a split
accepting nothing holds vacuously; the share among non-empty splits is printed too), mean test
coverage, mean test agreement (over non-empty splits), mean certified coverage and bound on the
calibration half.

Usage: ``.venv/bin/python bench/guarantee_protocol.py [--splits 200] [--data ../shared/data]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one BLAS thread per worker process
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from calibration.policy import fit_policy
from calibration.signals import PairSignals, majority_label, signals_from_records

TARGET, DELTA = 0.85, 0.1


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def majority_gold(labels: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Strict majority per pair (several annotators); pairs without one are left out."""
    by_pair: dict[str, list[str]] = {}
    for row in labels:
        by_pair.setdefault(str(row["pair_id"]), []).append(str(row["label"]))
    gold = {pair_id: majority_label(values) for pair_id, values in by_pair.items()}
    return {pair_id: label for pair_id, label in gold.items() if label is not None}


def load(
    data: Path, name: str, judges: Sequence[str] | None
) -> tuple[list[PairSignals], dict[str, str]]:
    judgments = read_jsonl(data / name / "judgments.jsonl")
    if judges:
        judgments = [j for j in judgments if j["judge"] in judges]
    signals = signals_from_records(judgments, read_jsonl(data / name / "pairs.jsonl"))
    return signals, majority_gold(read_jsonl(data / name / "labels.jsonl"))


def one_split(args: tuple[list[PairSignals], dict[str, str], int, bool]) -> dict[str, float]:
    signals, gold, seed, predictive = args
    rng = np.random.default_rng(seed)
    ids = sorted(gold)
    rng.shuffle(ids)
    cal = {p: gold[p] for p in ids[: len(ids) // 2]}
    test = {p: gold[p] for p in ids[len(ids) // 2 :]}
    fit = fit_policy(
        signals, cal, target_agreement=TARGET, delta=DELTA, seed=seed, predictive=predictive
    )
    accepted = right = 0
    for pair in signals:
        if pair.pair_id in test and fit.policy.accepts(pair):
            accepted += 1
            right += fit.policy.score(pair).label == test[pair.pair_id]
    return {
        "coverage": accepted / len(test),
        "agreement": right / accepted if accepted else math.nan,
        "cert_coverage": float(fit.report["certified_coverage"]),
        "bound": float(fit.report["bound"] or math.nan),
    }


def run(
    name: str, signals: list[PairSignals], gold: dict[str, str], splits: int, predictive: bool
) -> None:
    jobs = [(signals, gold, seed, predictive) for seed in range(splits)]
    with ProcessPoolExecutor() as pool:
        rows = list(pool.map(one_split, jobs, chunksize=4))
    agreement = np.array([r["agreement"] for r in rows])
    nonempty = ~np.isnan(agreement)
    held = np.where(nonempty, agreement >= TARGET, True)
    bound = np.array([r["bound"] for r in rows])
    print(
        f"{name:<28} splits={splits} "
        f"held={held.mean():.3f} held_nonempty={held[nonempty].mean() if nonempty.any() else math.nan:.3f} "
        f"(nonempty {int(nonempty.sum())}) "
        f"coverage={np.mean([r['coverage'] for r in rows]):.3f} "
        f"agreement={np.nanmean(agreement) if nonempty.any() else math.nan:.3f} "
        f"cert_coverage={np.mean([r['cert_coverage'] for r in rows]):.3f} "
        f"bound={np.nanmean(bound) if (~np.isnan(bound)).any() else math.nan:.3f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--splits", type=int, default=200)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parent.parent.parent / "shared" / "data",
    )
    parser.add_argument("--only", default="", help="run only settings whose name contains this")
    parser.add_argument(
        "--no-predictive", action="store_true", help="population bound only (no test-noise check)"
    )
    args = parser.parse_args()
    settings: list[tuple[str, str, list[str] | None]] = [
        ("llmbar / all 18 judges", "llmbar", None),
        ("llmbar / gpt-4 vanilla", "llmbar", ["gpt-4/vanilla"]),
        ("pandalm / gpt-3.5 (maj. 3)", "pandalm", None),
    ]
    print(f"target={TARGET} delta={DELTA}")
    for name, folder, judges in settings:
        if args.only and args.only not in name:
            continue
        signals, gold = load(args.data, folder, judges)
        run(name, signals, gold, args.splits, not args.no_predictive)


if __name__ == "__main__":
    main()
