"""Judge cascades: spend and certified coverage against the strongest judge on every pair.

For each cascade (cheap judge first, strong judge last) on the shared data and each seeded
split, the gold pairs are shuffled; ``--gold`` of them calibrate (every stage judged them) and
the rest are the pairs to label. Two routers are fitted on the same calibration gold:

* **strongest only**: :func:`calibration.policy.fit_policy` with the strong judge alone, which
  judges every test pair;
* **cascade**: :func:`calibration.cascade.fit_cascade`; the cheap judge judges every test pair
  and the strong judge only those the cheap stage does not accept.

Spend is priced from the recorded calls: input tokens ≈ (prompt + both responses + a
200-token rubric) / 4 characters per token, output tokens ≈ the recorded answer's length / 4,
both orders per pair, at the list prices below (dollars per million tokens; overridable with
``--price JUDGE=IN/OUT``). Printed per cascade: the cascade's spend as a share of
strongest-only spend, its coverage as a share of strongest-only coverage, and both routers'
guarantee-held rates (share of splits whose accepted test labels agree with gold at ≥ target;
accepting nothing holds). Target: spend ≤ 0.40 at coverage ≥ 0.95, held ≥ 0.90.

A synthetic cascade (:func:`synthetic_sets.cascade_panel`: a cheap judge stating probabilities,
sure and right on the easy 60% of pairs, then a strong judge) shows the mechanism where the
shared data cannot: on LLMBar every cheap judge agrees with gold less than GPT-4 does on its
*least* sure pairs, so no cheap stage certifies at 0.85 and the cascade costs about what GPT-4
alone does (the cheap calls add ~2%).

Usage: ``.venv/bin/python bench/cascade_spend.py [--splits 50] [--gold 200] [--workers 2]``
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import sys
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from guarantee_protocol import load
from synthetic_sets import cascade_panel

from calibration.cascade import fit_cascade
from calibration.policy import fit_policy
from calibration.signals import PairSignals

TARGET, DELTA = 0.85, 0.1  # --target changes the first
RUBRIC_TOKENS = 200
CHARS_PER_TOKEN = 4.0
#: List prices, dollars per million input/output tokens (OpenAI gpt-4-0613 and
#: gpt-3.5-turbo-0125; PaLM 2 text-bison and Llama-2-70B at typical hosted prices).
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4": (30.0, 60.0),
    "chatgpt": (0.5, 1.5),
    "chatgpt-0301": (0.5, 1.5),
    "palm2": (0.5, 1.5),
    "llama2": (0.9, 0.9),
    "falcon": (0.9, 0.9),
    "gpt-3.5": (0.5, 1.5),
}


@dataclass(frozen=True)
class Cascade:
    folder: str
    stages: tuple[str, ...]


CASCADES = (
    Cascade("llmbar", ("chatgpt/vanilla", "gpt-4/vanilla")),
    Cascade("llmbar", ("palm2/vanilla", "gpt-4/vanilla")),
    Cascade("llmbar", ("llama2/vanilla", "palm2/vanilla", "gpt-4/vanilla")),
    Cascade("llmfao", ("gpt-3.5/llmfao", "gpt-4/llmfao")),
    Cascade("synthetic", ("cheap", "strong")),
)
#: The synthetic cascade's calls: 1,000 tokens in and 100 out per call, at GPT-3.5 and GPT-4
#: list prices.
SYNTHETIC_PRICES = {"cheap": (0.5, 1.5), "strong": (30.0, 60.0)}


def price_of(judge: str, prices: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """Price of a judge set-up (``model/prompt``) from its model's list price."""
    model = judge.split("/")[0]
    if judge in prices:
        return prices[judge]
    if model not in prices:
        raise SystemExit(f"no price for {judge!r}: give --price {model}=IN/OUT")
    return prices[model]


def call_costs(
    data: Path, judges: set[str], prices: dict[str, tuple[float, float]]
) -> dict[str, dict[str, float]]:
    """Dollars per pair (both recorded orders) for each judge, estimated from text lengths."""
    text_chars: dict[str, int] = {}
    with (data / "pairs.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            pair = json.loads(line)
            text_chars[pair["id"]] = sum(
                len(str(pair[k])) for k in ("prompt", "response_a", "response_b")
            )
    cost: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    with (data / "judgments.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            judge = rec["judge"]
            if judge not in judges or rec["pair_id"] not in text_chars:
                continue
            price_in, price_out = price_of(judge, prices)
            tokens_in = text_chars[rec["pair_id"]] / CHARS_PER_TOKEN + RUBRIC_TOKENS
            tokens_out = len(rec.get("raw") or "") / CHARS_PER_TOKEN
            cost[judge][rec["pair_id"]] += (tokens_in * price_in + tokens_out * price_out) / 1e6
    return {j: dict(v) for j, v in cost.items()}


def _apply(accepts: list[bool], labels: list[str | None], gold: list[str]) -> tuple[float, float]:
    n = sum(accepts)
    right = sum(1 for a, lab, g in zip(accepts, labels, gold, strict=True) if a and lab == g)
    return n / len(accepts), right / n if n else math.nan


def one_split(
    args: tuple[
        list[PairSignals],
        dict[str, str],
        tuple[str, ...],
        dict[str, dict[str, float]],
        int,
        int,
        float,
    ],
) -> dict[str, float]:
    signals, gold, stages, costs, size, seed, target = args
    ids = sorted(gold)
    np.random.default_rng(seed).shuffle(ids)
    cal_ids = set(ids[:size])
    cal_gold = {p: gold[p] for p in cal_ids}
    test = [p for p in signals if p.pair_id in gold and p.pair_id not in cal_ids]
    truth = [gold[p.pair_id] for p in test]
    strong = stages[-1]
    single = fit_policy(
        signals,
        cal_gold,
        target_agreement=target,
        delta=DELTA,
        judges=[strong],
        seed=seed,
        reports=False,
    ).policy
    s_cov, s_agree = _apply(
        [single.accepts(p) for p in test], [single.score(p).label for p in test], truth
    )
    cascade = fit_cascade(
        signals,
        cal_gold,
        stages=[[s] for s in stages],
        target_agreement=target,
        delta=DELTA,
        seed=seed,
    ).policy
    first = [cascade.accepting_stage(p) for p in test]
    labels = [
        None if k is None else cascade.stages[k].score(p).label
        for k, p in zip(first, test, strict=True)
    ]
    c_cov, c_agree = _apply([k is not None for k in first], labels, truth)
    strong_spend = sum(costs[strong][p.pair_id] for p in test)
    spend = 0.0
    for k, p in zip(first, test, strict=True):
        reached = len(stages) if k is None else k + 1
        spend += sum(costs[stages[i]][p.pair_id] for i in range(reached))
    return {
        "strong_cov": s_cov,
        "strong_held": float(math.isnan(s_agree) or s_agree >= target),
        "cascade_cov": c_cov,
        "cascade_held": float(math.isnan(c_agree) or c_agree >= target),
        "spend_ratio": spend / strong_spend,
        "cheap_accepted": sum(1 for k in first if k is not None and k < len(stages) - 1)
        / len(test),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--splits", type=int, default=50)
    parser.add_argument("--gold", type=int, default=200, help="calibration gold per split")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--target", type=float, default=TARGET, help="target agreement")
    parser.add_argument("--only", default="", help="run only cascades whose name has this")
    parser.add_argument("--price", action="append", default=[], help="MODEL=IN/OUT per Mtok")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(__file__).resolve().parent.parent.parent / "shared" / "data",
    )
    args = parser.parse_args()
    prices = dict(PRICES)
    for item in args.price:
        name, _, value = item.partition("=")
        price_in, _, price_out = value.partition("/")
        prices[name] = (float(price_in), float(price_out))
    print(f"target={args.target} delta={DELTA} splits={args.splits} calibration gold={args.gold}")
    print(
        f"{'cascade':<52} | {'spend':>6} {'cov ratio':>9} | {'cascade cov':>11} {'held':>5} | "
        f"{'strong cov':>10} {'held':>5} | cheap accepts"
    )
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for cascade in CASCADES:
            name = f"{cascade.folder}: " + " -> ".join(cascade.stages)
            if args.only and args.only not in name:
                continue
            if cascade.folder == "synthetic":
                signals, gold = cascade_panel()
                costs = {
                    judge: {p.pair_id: 2 * (1000 * pin + 100 * pout) / 1e6 for p in signals}
                    for judge, (pin, pout) in SYNTHETIC_PRICES.items()
                }
            else:
                signals, gold = load(args.data, cascade.folder, list(cascade.stages))
                costs = call_costs(args.data / cascade.folder, set(cascade.stages), prices)
            jobs = [
                (signals, gold, cascade.stages, costs, args.gold, seed, args.target)
                for seed in range(args.splits)
            ]
            rows = list(pool.map(one_split, jobs, chunksize=max(1, args.splits // 8)))
            mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
            cov_ratio = mean["cascade_cov"] / mean["strong_cov"] if mean["strong_cov"] else math.nan
            print(
                f"{name:<52} | {mean['spend_ratio']:>6.3f} {cov_ratio:>9.3f} | "
                f"{mean['cascade_cov']:>11.3f} {mean['cascade_held']:>5.2f} | "
                f"{mean['strong_cov']:>10.3f} {mean['strong_held']:>5.2f} | "
                f"{mean['cheap_accepted']:.3f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
