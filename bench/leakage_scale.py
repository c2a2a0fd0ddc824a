"""Near-duplicate leakage at scale: N training pairs against M frozen pairs (issue 20).

Builds the frozen index (formats.near_duplicates.FrozenIndex) over M synthetic frozen pairs
(a 25-word prompt, answers of 50-160 and 20-160 words, Zipf-distributed made-up words), then streams N
training pairs through ``match``. In every ``--leak-every`` training pairs:

* one is a **planted copy** of a frozen pair, edited in turn by: a zero-width space, fullwidth
  letters, upper case, a trailing period, a Cyrillic letter, a typo in the longer answer, a
  word inserted in it, a word replaced in it, markdown (numbered list, code fence, ``</s>``)
  and re-wrapped lines; responses swapped every other time. Each must be caught, by its pair;
* one is a **near miss**, a frozen pair with a different content that must not be flagged:
  one word changed in the prompt (25 words: must be equal), or one word in every 20 changed
  in the first answer (twice the 1-in-50 budget);
* ``--same-prompt`` of them (default 10%) ask a frozen prompt with other answers (the near
  path runs for them: the answers are looked up in the sketch index);
* the rest are distinct.

Prints the time of each phase, pairs per second, peak memory (ru_maxrss) after indexing and at
the end (flat memory: the end should be close to the index), recall on the planted copies (by
edit) and false alarms (near misses, same-prompt and distinct pairs).

    python bench/leakage_scale.py --train 1000000 --frozen 50000
    python bench/leakage_scale.py --train 100000 --frozen 50000   # a few minutes on 1 core
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from itertools import accumulate

import numpy as np

from formats.near_duplicates import FrozenIndex

_VOCAB_RNG = random.Random(7)
# 20,000 made-up words of 3-10 letters, Zipf-weighted: random texts share 3-grams as real ones do
WORDS = [
    "".join(_VOCAB_RNG.choices("abcdefghijklmnopqrstuvwxyz", k=_VOCAB_RNG.randint(3, 10)))
    for _ in range(20_000)
]
CUMULATIVE = np.array(list(accumulate(1 / (rank + 1) for rank in range(len(WORDS)))))
# a million Zipf draws: a text picks its words uniformly from them (fast, still Zipf)
POOL = [
    WORDS[r]
    for r in np.searchsorted(
        CUMULATIVE, np.random.default_rng(7).random(1_000_000) * CUMULATIVE[-1]
    ).tolist()
]
Pair = tuple[str, str, str]


def _text(rng: random.Random, words: int) -> str:
    chosen = rng.choices(POOL, k=words)
    sentences = [" ".join(chosen[i : i + 12]).capitalize() + "." for i in range(0, words, 12)]
    return "\n".join(sentences)


def _pair(seed: int) -> Pair:
    rng = random.Random(seed)
    return _text(rng, 25), _text(rng, rng.randint(50, 160)), _text(rng, rng.randint(20, 160))


def _change_words(text: str, every: int, rng: random.Random) -> str:
    """One word in each run of ``every`` words replaced by a word of another shape."""
    words = text.split(" ")
    for at in range(rng.randrange(min(every, len(words))), len(words), every):
        words[at] = "zzq" + words[at]
    return " ".join(words)


def _typo(text: str) -> str:
    at = text.find(" ", len(text) // 2) + 1
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def _markdown(text: str) -> str:
    lines = [f"{n}. {line}" for n, line in enumerate(text.split("\n"), 1)]
    return "```markdown\n" + "\n".join(lines) + "\n```</s>"


EVERYWHERE: dict[str, Callable[[str], str]] = {
    "zero-width space": lambda t: t[:10] + "\u200b" + t[10:],
    "fullwidth": lambda t: "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in t),
    "upper case": str.upper,
    "trailing period": lambda t: t + ".",
    "Cyrillic letter": lambda t: t.replace("a", "\u0430", 1),
}
LONGER_ANSWER: dict[str, Callable[[str], str]] = {
    "typo": _typo,
    "word inserted": lambda t: t.replace(" ", " indeed ", 1),
    "word replaced": lambda t: _change_words(t, 1_000, random.Random(len(t))),
    "markdown": _markdown,
    "re-wrapped": lambda t: textwrap.fill(t.replace("\n", " "), 37),
}
EDITS = [*EVERYWHERE, *LONGER_ANSWER]


def planted(pair: Pair, how: int) -> Pair:
    """``pair`` edited by edit number ``how`` (module docstring), swapped when ``how`` is odd."""
    prompt, a, b = pair
    name = EDITS[how % len(EDITS)]
    if name in EVERYWHERE:
        change = EVERYWHERE[name]
        prompt, a, b = change(prompt), change(a), change(b)
    elif len(a.split()) >= len(b.split()):
        a = LONGER_ANSWER[name](a)
    else:
        b = LONGER_ANSWER[name](b)
    return (prompt, b, a) if how % 2 else (prompt, a, b)


def near_miss(pair: Pair, how: int) -> Pair:
    """``pair`` with one prompt word changed, or one answer word in every 20 (over twice the
    budget)."""
    prompt, a, b = pair
    rng = random.Random(how)
    if how % 2:
        return _change_words(prompt, 1_000, rng), a, b
    return prompt, _change_words(a, 20, rng), b


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(frozen: int) -> tuple[FrozenIndex, float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    index = FrozenIndex()
    for i in range(frozen):
        index.add(f"f{i}", "frozen", *_pair(i))
    return index, time.perf_counter() - started, time.process_time() - cpu


def stream(index: FrozenIndex, args: argparse.Namespace) -> Counter[str]:
    """Every training pair matched; counts of each outcome."""
    counts: Counter[str] = Counter()
    same_prompt_every = round(1 / args.same_prompt) if args.same_prompt else 0
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(args.train):
        if i and i % 100_000 == 0:  # progress on stderr: wall and CPU so far, peak memory
            print(f"{i:,} checked: {time.perf_counter() - started:.0f} s, "
                  f"{time.process_time() - cpu:.0f} s CPU, peak {_peak_mb():,.0f} MB", file=sys.stderr, flush=True)  # fmt: skip
        slot, block = i % args.leak_every, i // args.leak_every
        target = (block * 7919) % args.frozen
        if slot == 0:
            found = index.match(*planted(_pair(target), block))
            name = EDITS[block % len(EDITS)]
            counts[f"planted {name}"] += 1
            counts[f"caught {name}"] += found is not None and found.frozen_pair_id == f"f{target}"
            continue
        if slot == args.leak_every // 2:
            pair, kind = near_miss(_pair(target), block), "near miss"
        elif same_prompt_every and i % same_prompt_every == 3:
            other = _pair(10_000_000 + i)
            pair, kind = (_pair(target)[0], other[1], other[2]), "same prompt"
        else:
            pair, kind = _pair(10_000_000 + i), "distinct"
        counts[kind] += 1
        counts[f"flagged {kind}"] += index.match(*pair) is not None
    return counts


def report(args: argparse.Namespace, phases: list[tuple[str, int, float, float]],
           memory: tuple[float, float, float], counts: Counter[str]) -> None:  # fmt: skip
    for what, n, wall, cpu in phases:
        print(f"{what}: {n:,} in {wall:.1f} s, {cpu:.1f} s CPU ({n / cpu:,.0f} pairs per CPU s)")
    _, n, wall, cpu = phases[-1]
    print(f"projected for 1,000,000 training pairs: {1_000_000 / n * wall / 60:.1f} min, "
          f"{1_000_000 / n * cpu / 60:.1f} min CPU")  # fmt: skip
    start, indexed, end = memory
    print(f"peak memory: start {start:,.0f} MB, after indexing {indexed:,.0f} MB, "
          f"end {end:,.0f} MB (end / after indexing = {end / indexed:.2f})")  # fmt: skip
    planted = sum(counts[f"planted {e}"] for e in EDITS)
    caught = sum(counts[f"caught {e}"] for e in EDITS)
    print(
        f"planted copies caught: {caught}/{planted} (recall {caught / max(planted, 1):.3f}): "
        + ", ".join(f"{e} {counts[f'caught {e}']}/{counts[f'planted {e}']}" for e in EDITS)
    )
    for kind in ("near miss", "same prompt", "distinct"):
        print(f"false alarms on {kind}: {counts[f'flagged {kind}']}/{counts[kind]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1_000_000, help="training pairs (N)")
    parser.add_argument("--frozen", type=int, default=50_000, help="frozen pairs (M)")
    parser.add_argument("--leak-every", type=int, default=1_000, help="one planted copy per K")
    parser.add_argument("--same-prompt", type=float, default=0.1, help="share of frozen prompts")
    args = parser.parse_args()
    start_mb = _peak_mb()
    index, indexed_wall, indexed_cpu = build(args.frozen)
    index_mb = _peak_mb()
    started, cpu = time.perf_counter(), time.process_time()
    counts = stream(index, args)
    phases = [
        ("frozen pairs indexed", args.frozen, indexed_wall, indexed_cpu),
        ("training pairs checked (making them included)", args.train,
         time.perf_counter() - started, time.process_time() - cpu),
    ]  # fmt: skip
    report(args, phases, (start_mb, index_mb, _peak_mb()), counts)


if __name__ == "__main__":
    main()
