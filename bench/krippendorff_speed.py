"""Krippendorff's alpha on 1,000,000 labels (200,000 items x 5 annotators): ours vs the package.

Prints, per level of measurement, the best-of-N wall time of ``calibration.krippendorff`` and of
the ``krippendorff`` package on the same data, the speed ratio (package / ours) and the largest
absolute difference of the values (must be <= 1e-9). Run:

    .venv/bin/python bench/krippendorff_speed.py [--items 200000] [--annotators 5] [--repeats 5]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial

import krippendorff
import numpy as np

from calibration.krippendorff import krippendorff_alpha


def best_time(fn: Callable[[], float], repeats: int) -> tuple[float, float]:
    """(best wall time in seconds, value) over ``repeats`` runs."""
    best, value = float("inf"), float("nan")
    for _ in range(repeats):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--annotators", type=int, default=5)
    parser.add_argument("--categories", type=int, default=4)
    parser.add_argument("--missing", type=float, default=0.0, help="share of labels missing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    # Correlated labels (a true class per item, each annotator right 70% of the time) so alpha
    # is far from 0 and differences are meaningful.
    truth = rng.integers(0, args.categories, size=args.items)
    noise = rng.integers(0, args.categories, size=(args.annotators, args.items))
    data = np.where(rng.random((args.annotators, args.items)) < 0.7, truth, noise).astype(float)
    data[rng.random(data.shape) < args.missing] = np.nan
    n_labels = int((~np.isnan(data)).sum())
    print(
        f"{n_labels:,} labels: {args.items:,} items x {args.annotators} annotators, "
        f"{args.categories} categories, {args.missing:.0%} missing; best of {args.repeats}"
    )
    print(f"{'level':<9} {'ours s':>8} {'package s':>10} {'ratio':>7} {'max |diff|':>11}  alpha")
    worst = 0.0
    for level in ("nominal", "ordinal", "interval"):
        ours_s, ours = best_time(partial(krippendorff_alpha, data, level), args.repeats)
        theirs_s, theirs = best_time(
            partial(krippendorff.alpha, data, level_of_measurement=level), args.repeats
        )
        diff = abs(ours - theirs)
        worst = max(worst, diff)
        print(
            f"{level:<9} {ours_s:>8.3f} {theirs_s:>10.3f} {theirs_s / ours_s:>6.1f}x "
            f"{diff:>11.1e}  {ours:.6f}"
        )
    verdict = "OK" if worst <= 1e-9 else "VALUES DIFFER"
    print(f"max |difference| over levels: {worst:.1e} ({verdict}, tolerance 1e-9)")


if __name__ == "__main__":
    main()
