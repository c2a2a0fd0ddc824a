"""Near-duplicate leakage at scale: N training pairs against M frozen pairs (issue 20).

Builds the frozen index (formats.near_duplicates.FrozenIndex) over M synthetic frozen
pairs, then streams N training pairs through ``match``; one training pair in every
``--leak-every`` is an edited frozen copy (zero-width space, fullwidth, upper case, trailing
period, Cyrillic letter, swapped responses) that must be caught, and one (offset by half) is a
*near miss*: a frozen pair with one word appended to a response, a different answer that must
not be flagged; the rest are distinct. Prints the time of each phase, pairs per second, peak
memory (ru_maxrss) after indexing and at the end (flat memory: the end should be close to the
index), the recall on the planted copies and the false alarms (near misses and distinct).

    python bench/leakage_scale.py --train 1000000 --frozen 50000
    python bench/leakage_scale.py --train 100000 --frozen 50000   # a few minutes on 1 core
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from itertools import accumulate

from formats.near_duplicates import FrozenIndex

_VOCAB_RNG = random.Random(7)
# 20,000 made-up words of 3-10 letters, Zipf-weighted: random texts share 5-grams as real ones do
WORDS = [
    "".join(_VOCAB_RNG.choices("abcdefghijklmnopqrstuvwxyz", k=_VOCAB_RNG.randint(3, 10)))
    for _ in range(20_000)
]
CUMULATIVE = list(accumulate(1 / (rank + 1) for rank in range(len(WORDS))))


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choices(WORDS, cum_weights=CUMULATIVE, k=words)).capitalize() + "."


def _pair(seed: int) -> tuple[str, str, str]:
    rng = random.Random(seed)
    return _text(rng, 25), _text(rng, 60), _text(rng, 60)


def _edit(pair: tuple[str, str, str], how: int) -> tuple[str, str, str]:
    prompt, a, b = pair
    edits = [
        lambda t: t[:10] + "\u200b" + t[10:],
        lambda t: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t),
        str.upper,
        lambda t: t + ".",
        lambda t: t.replace("a", "\u0430", 1),
    ]
    change = edits[how % len(edits)]
    return change(prompt), change(b), change(a)  # and the responses swapped


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1_000_000, help="training pairs (N)")
    parser.add_argument("--frozen", type=int, default=50_000, help="frozen pairs (M)")
    parser.add_argument("--leak-every", type=int, default=1_000, help="one planted copy per K")
    args = parser.parse_args()

    start_mb = _peak_mb()
    started, cpu = time.perf_counter(), time.process_time()
    index = FrozenIndex()
    for i in range(args.frozen):
        index.add(f"f{i}", "frozen", *_pair(i))
    indexed, indexed_cpu = time.perf_counter() - started, time.process_time() - cpu
    index_mb = _peak_mb()

    started, cpu = time.perf_counter(), time.process_time()
    planted = caught = false_alarms = near = 0
    for i in range(args.train):
        if i % args.leak_every == args.leak_every // 2:  # a near miss: one word more
            near += 1
            prompt, a, b = _pair((i // args.leak_every) % args.frozen)
            false_alarms += index.match(prompt, a, b + " indeed") is not None
        elif i % args.leak_every == 0:
            planted += 1
            target = (i // args.leak_every) % args.frozen
            found = index.match(*_edit(_pair(target), i // args.leak_every))
            caught += found is not None and found.frozen_pair_id == f"f{target}"
        else:
            false_alarms += index.match(*_pair(10_000_000 + i)) is not None
    matched, matched_cpu = time.perf_counter() - started, time.process_time() - cpu
    end_mb = _peak_mb()

    print(f"frozen pairs indexed: {args.frozen:,} in {indexed:.1f} s, {indexed_cpu:.1f} s CPU "
          f"({args.frozen / indexed_cpu:,.0f} pairs per CPU second)")  # fmt: skip
    print(f"training pairs checked: {args.train:,} in {matched:.1f} s, {matched_cpu:.1f} s CPU "
          f"({args.train / matched_cpu:,.0f} pairs per CPU second, making the pairs included)")  # fmt: skip
    print(f"projected for 1,000,000 training pairs: {1_000_000 / (args.train / matched) / 60:.1f} "
          f"min, {1_000_000 / (args.train / matched_cpu) / 60:.1f} min CPU")  # fmt: skip
    print(f"peak memory: start {start_mb:,.0f} MB, after indexing {index_mb:,.0f} MB, "
          f"end {end_mb:,.0f} MB (end / after indexing = {end_mb / index_mb:.2f})")  # fmt: skip
    print(f"planted copies caught: {caught}/{planted} (recall {caught / max(planted, 1):.3f}); "
          f"false alarms on near misses and distinct pairs: {false_alarms}/{args.train - planted} "
          f"({near} near misses)")  # fmt: skip


if __name__ == "__main__":
    main()
