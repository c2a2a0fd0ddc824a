"""Benchmark: review-queue ordering, incremental nearest distances against the naive loop.

Target (issue 6): choose 1,000 of 100,000 items with 384-dimensional embeddings in seconds.
The naive loop recomputes the distance from every item to every taken item each round
(O(n·k²·d)); at full size it would take hours, so it runs on a smaller ``n`` and ``k`` and its
full-size time is extrapolated by that complexity (stated as an extrapolation in the output).
Selections are compared on the shared size, where both run.

    .venv/bin/python bench/active_selection.py [--n 100000] [--k 1000] [--dim 384]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from routing.active_selection import select_diverse_uncertain, select_diverse_uncertain_naive


def data(n: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return rng.random(n), x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=1_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--naive-n", type=int, default=10_000)
    parser.add_argument("--naive-k", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    u, x = data(args.n, args.dim, args.seed)
    t0 = time.perf_counter()
    fast = select_diverse_uncertain(u, x, args.k)
    fast_full = time.perf_counter() - t0
    print(f"incremental: {args.k} of {args.n} items, dim {args.dim}: {fast_full:.2f} s")

    # same-size comparison on a size the naive loop can finish
    us, xs = u[: args.naive_n], x[: args.naive_n]
    t0 = time.perf_counter()
    fast_small = select_diverse_uncertain(us, xs, args.naive_k)
    fast_small_t = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive_small = select_diverse_uncertain_naive(us, xs, args.naive_k)
    naive_small_t = time.perf_counter() - t0
    same = fast_small == naive_small
    print(
        f"naive vs incremental, {args.naive_k} of {args.naive_n}: naive {naive_small_t:.2f} s, "
        f"incremental {fast_small_t:.3f} s, ratio {naive_small_t / fast_small_t:.1f}x, "
        f"selections identical: {same}"
    )
    # naive cost ~ n * k^2 (round t scans n items against t taken ones)
    scale = (args.n / args.naive_n) * (args.k / args.naive_k) ** 2
    naive_full_est = naive_small_t * scale
    print(
        f"naive at full size (EXTRAPOLATED by n*k^2 from the run above, not measured): "
        f"~{naive_full_est:.0f} s (~{naive_full_est / 3600:.1f} h); "
        f"ratio ~{naive_full_est / fast_full:.0f}x"
    )
    # also check the start of the full-size selection against the naive loop
    check_k = min(args.k, 20)
    naive_prefix = select_diverse_uncertain_naive(u, x, check_k)
    print(f"full-size first {check_k} picks identical to naive: {naive_prefix == fast[:check_k]}")
    if not same or naive_prefix != fast[:check_k]:
        raise SystemExit("selections differ")


if __name__ == "__main__":
    main()
