"""Where distinct pairs end and edited copies begin: the data behind the leakage threshold (#20).

Over every pair of the shared real data (LLMBar, PandaLM, LLMFAO together), prints:

1. how many pairs are the same content after folding (formats.text_fold: the old fold, and
   the new one that also strips tokenizer artefacts and markdown syntax), with examples of
   pairs the new fold merges;
2. for each *distinct* pair (different content key) its closest other pair: per field (prompt,
   and the responses in the better order) the words changed (formats.word_edits) and the
   field's length, the pair's similarity ``min over fields of 1 - edits / words`` and its word
   3-gram containment; the closest of all are listed with their differences;
3. the same figures for copies of every pair altered as a contaminator would (the issue's
   edits, a typo, a word inserted, deleted or replaced in the longest response, markdown
   reformatted, lines re-wrapped, swapped responses);
4. for candidate rules ``similarity >= T and total edits <= K`` the false alarms among distinct
   pairs and the recall on altered copies (all, and those whose edited response is long).

    python bench/leakage_threshold.py            # about a minute
    python bench/leakage_threshold.py --data /work/shared/data --show 25
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from formats.near_duplicates import MAX_EDITS, THRESHOLD, FrozenIndex, pair_similarity
from formats.text_fold import canonical, words
from formats.word_edits import edits_within

WORD = re.compile(r"(?<!\S)[A-Za-z]{3,}(?=[ \n])")
CAP = 12  # words: a neighbour further than this on any field is not "close"
Fields = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]


@dataclass(frozen=True)
class Near:
    """A pair's distance to another: per field (edits, words), best response order."""

    other: str
    fields: tuple[tuple[int, int], ...]

    @property
    def edits(self) -> int:
        return sum(e for e, _ in self.fields)

    @property
    def similarity(self) -> float:
        return pair_similarity(self.fields)


def load(root: Path) -> list[dict[str, str]]:
    rows = []
    for name in ("llmbar", "pandalm", "llmfao"):
        for line in (root / name / "pairs.jsonl").open(encoding="utf-8"):
            r = json.loads(line)
            rows.append({"id": r["id"], "prompt": r["prompt"], "a": str(r["response_a"]),
                         "b": str(r["response_b"])})  # fmt: skip
    return rows


def key(p: dict[str, str]) -> tuple[str, str, str]:
    first, second = sorted((canonical(p["a"]), canonical(p["b"])))
    return canonical(p["prompt"]), first, second


def fields_of(p: dict[str, str]) -> Fields:
    return words(p["prompt"]), words(p["a"]), words(p["b"])


class Distances:
    """Field distances (edits, words) within CAP, cached by the two texts' word tuples."""

    def __init__(self) -> None:
        self.cache: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[int, int] | None] = {}

    def field(self, x: tuple[str, ...], y: tuple[str, ...]) -> tuple[int, int] | None:
        if (x, y) not in self.cache:
            found = edits_within(x, y, CAP)
            self.cache[x, y] = None if found is None else (found, max(len(x), len(y)))
        return self.cache[x, y]

    def pair(self, p: Fields, q: Fields) -> tuple[tuple[int, int], ...] | None:
        """Per-field (edits, words) of p against q in the better response order, or None."""
        prompt = self.field(p[0], q[0])
        if prompt is None:
            return None
        best: tuple[tuple[int, int], ...] | None = None
        for a, b in ((q[1], q[2]), (q[2], q[1])):
            da, db = self.field(p[1], a), self.field(p[2], b)
            if da is None or db is None:
                continue
            if best is None or da[0] + db[0] < best[1][0] + best[2][0]:
                best = (prompt, da, db)
        return best


def distinct_neighbours(pairs: list[dict[str, str]], distances: Distances) -> dict[str, list[Near]]:
    """For each distinct pair every pair with another content key within CAP words per field."""
    distinct = list({key(p): p for p in pairs}.values())
    folded = {p["id"]: fields_of(p) for p in distinct}
    by_prompt: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for p in distinct:
        by_prompt[folded[p["id"]][0]].append(p["id"])
    prompts = list(by_prompt)
    near_prompts = {x: [y for y in prompts if distances.field(x, y) is not None] for x in prompts}
    neighbours: dict[str, list[Near]] = defaultdict(list)
    for pid, fp in folded.items():
        for prompt in near_prompts[fp[0]]:
            for other in by_prompt[prompt]:
                found = None if other == pid else distances.pair(fp, folded[other])
                if found is not None:
                    neighbours[pid].append(Near(other, found))
    return dict(neighbours)


def _middle_word(text: str) -> tuple[int, int]:
    """Start and end of the first word of letters only at or after the middle (else before)."""
    found = WORD.search(text, len(text) // 2) or WORD.search(text)
    return (found.start(), found.end()) if found else (len(text), len(text))


def typo(text: str) -> str:
    start, end = _middle_word(text)
    word = text[start:end]
    if len(word) < 2:
        return text[:start] + "x" + text[start:]
    return text[:start] + word[1] + word[0] + word[2:] + text[end:]


def insert_word(text: str) -> str:
    start, _ = _middle_word(text)
    return text[:start] + "really " + text[start:]


def delete_word(text: str) -> str:
    start, end = _middle_word(text)
    return text[:start] + text[end + 1 :] if end < len(text) else text[:start]


def replace_word(text: str) -> str:
    start, end = _middle_word(text)
    return text[:start] + "something" + text[end:]


def markdown(text: str) -> str:
    """Bullets numbered (or numbers made bullets), a heading mark, emphasis, the last paragraph
    fenced as code: the words unchanged."""
    lines, n = text.split("\n"), 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("- ", "* ", "• ")):
            n += 1
            lines[i] = f"{n}. {stripped[2:]}"
        elif re.match(r"\d+[.)] ", stripped):
            lines[i] = "- " + stripped.split(" ", 1)[1]
    lines[0] = "## " + lines[0]
    body = "\n".join(lines)
    head, _, last = body.rpartition("\n\n")
    return f"{head}\n\n```text\n{last}\n```" if head else f"**{body}**"


def rewrap(text: str) -> str:
    return "\n\n".join(
        textwrap.fill(part, 40, break_long_words=False, break_on_hyphens=False)
        for part in text.split("\n\n")
    )


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


ALL_FIELDS: dict[str, Callable[[str], str]] = {
    "zero-width space": lambda t: t[: len(t) // 2] + "\u200b" + t[len(t) // 2 :],
    "fullwidth": _fullwidth,
    "upper case": str.upper,
    "trailing period": lambda t: t + ".",
    "one Cyrillic a": lambda t: t.replace("a", "\u0430", 1),
    "re-wrapped lines": rewrap,
    "</s> appended": lambda t: t + "</s>",
}
LONGEST_RESPONSE: dict[str, Callable[[str], str]] = {
    "typo": typo,
    "word inserted": insert_word,
    "word deleted": delete_word,
    "word replaced": replace_word,
    "markdown reformatted": markdown,
}


def altered_copies(pairs: list[dict[str, str]], distances: Distances) -> dict[str, list[Near]]:
    """Per alteration, each distinct pair's copy against the pair (``other`` = its length)."""
    out: dict[str, list[Near]] = defaultdict(list)
    for n, p in enumerate({key(p): p for p in pairs}.values()):
        original = fields_of(p)
        for name, change in ALL_FIELDS.items():
            a, b = change(p["a"]), change(p["b"])
            swapped = {"prompt": change(p["prompt"]), "a": b, "b": a} if n % 2 else None
            copy = swapped or {"prompt": change(p["prompt"]), "a": a, "b": b}
            found = distances.pair(fields_of(copy), original)
            out[name].append(Near(str(max(len(original[1]), len(original[2]))), found or ()))
        longer = "a" if len(original[1]) >= len(original[2]) else "b"
        for name, change in LONGEST_RESPONSE.items():
            copy = {**p, longer: change(p[longer])}
            found = distances.pair(fields_of(copy), original)
            out[name].append(Near(str(len(original[1 if longer == "a" else 2])), found or ()))
    return dict(out)


def flagged(near: Near, threshold: float, most: int) -> bool:
    return bool(near.fields) and near.similarity >= threshold and near.edits <= most


def report_sets(pairs: list[dict[str, str]]) -> None:
    keys = Counter(key(p) for p in pairs)
    print(
        f"pairs: {len(pairs):,}; distinct after folding: {len(keys):,} "
        f"({sum(n - 1 for n in keys.values()):,} repeat a content key)"
    )


def report_index(pairs: list[dict[str, str]]) -> None:
    """The implementation itself: every distinct pair frozen, every pair matched; a match to
    another content key is a false alarm."""
    index, owner = FrozenIndex(), {}
    for p in pairs:
        if key(p) not in owner:
            owner[key(p)] = p["id"]
            index.add(p["id"], "frozen", p["prompt"], p["a"], p["b"])
    alarms = [
        (p["id"], found.frozen_pair_id, found.similarity)
        for p in pairs
        if (found := index.match(p["prompt"], p["a"], p["b"])) is not None
        and found.frozen_pair_id != owner[key(p)]
    ]
    print(
        f"FrozenIndex (threshold {THRESHOLD}, at most {MAX_EDITS} words): every distinct pair "
        f"frozen, every pair matched: {len(alarms)} matched another content {alarms[:5]}"
    )


def report_distinct(neighbours: dict[str, list[Near]], show: int) -> None:
    closest = sorted(((max(ns, key=lambda n: n.similarity), pid) for pid, ns in neighbours.items()),
                     key=lambda t: -t[0].similarity)  # fmt: skip
    print(f"distinct pairs with another within {CAP} words on every field: {len(closest):,}")
    print(f"max similarity among distinct pairs: {closest[0][0].similarity:.4f}")
    fewest = min((n.edits for ns in neighbours.values() for n in ns), default=None)
    print(f"fewest words changed between distinct pairs: {fewest}")
    for near, pid in closest[:show]:
        fields = ", ".join(f"{e}/{n}" for e, n in near.fields)
        print(f"  {pid} ~ {near.other}: similarity {near.similarity:.4f}, edits {near.edits} "
              f"(prompt, a, b: edits/words {fields})")  # fmt: skip


def report_altered(copies: dict[str, list[Near]]) -> None:
    print("altered copies (every distinct pair): min similarity, max edits, not within CAP")
    for name, found in copies.items():
        close = [n for n in found if n.fields]
        print(f"  {name:22} min {min(n.similarity for n in close):.4f}  max edits "
              f"{max(n.edits for n in close)}  beyond CAP {len(found) - len(close)}")  # fmt: skip


def report_rules(neighbours: dict[str, list[Near]], copies: dict[str, list[Near]]) -> None:
    word_edits_copies = [n for name in LONGEST_RESPONSE for n in copies[name]]
    print(
        "rule: similarity >= T and edits <= K   false alarms (distinct pairs flagged) / "
        "recall on all copies / on word edits in responses of >= 50, 100, 200 words"
    )
    for threshold in (0.95, 0.97, 0.98, 0.99, 0.995):
        for most in (1, 2, 3, 5):
            alarms = sum(any(flagged(n, threshold, most) for n in ns) for ns in neighbours.values())
            every = [n for found in copies.values() for n in found]
            recall = sum(flagged(n, threshold, most) for n in every) / len(every)
            by_length = []
            for least in (50, 100, 200):
                long = [n for n in word_edits_copies if int(n.other) >= least]
                by_length.append(sum(flagged(n, threshold, most) for n in long) / max(len(long), 1))
            print(
                f"  T {threshold:<5} K {most}: alarms {alarms:4}  recall {recall:.3f} / "
                + " ".join(f"{r:.3f}" for r in by_length)
            )


def report_chosen(copies: dict[str, list[Near]]) -> None:
    print(f"chosen: similarity >= {THRESHOLD} and edits <= {MAX_EDITS}; caught per alteration")
    for name, found in copies.items():
        long = [n for n in found if int(n.other) >= 50] if name in LONGEST_RESPONSE else found
        caught = sum(flagged(n, THRESHOLD, MAX_EDITS) for n in long)
        scope = "edited response >= 50 words" if name in LONGEST_RESPONSE else "all"
        print(f"  {name:22} {caught}/{len(long)} ({scope})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    parser.add_argument("--show", type=int, default=20, help="closest distinct pairs listed")
    args = parser.parse_args()
    pairs = load(args.data)
    distances = Distances()
    report_sets(pairs)
    neighbours = distinct_neighbours(pairs, distances)
    report_distinct(neighbours, args.show)
    copies = altered_copies(pairs, distances)
    report_altered(copies)
    report_rules(neighbours, copies)
    report_chosen(copies)
    report_index(pairs)


if __name__ == "__main__":
    main()
