"""The edit distance and the sketch index behind near-duplicate leakage (issue 20), checked
against a plain dynamic programme and against the recall guarantee."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from formats.shingle_sketch import SketchIndex, sketch_size
from formats.word_edits import edits_lower_bound, edits_within, word_edits


def _levenshtein(x: list[str], y: list[str]) -> int:
    """The textbook full-table Levenshtein distance (Wagner-Fischer), as the reference."""
    previous = list(range(len(y) + 1))
    for i, a in enumerate(x, 1):
        current = [i]
        for j, b in enumerate(y, 1):
            current.append(min(previous[j - 1] + (a != b), previous[j] + 1, current[j - 1] + 1))
        previous = current
    return previous[-1]


WORD_LISTS = st.lists(st.sampled_from("abcde"), max_size=14)


@settings(max_examples=300, deadline=None)
@given(WORD_LISTS, WORD_LISTS, st.integers(0, 6))
def test_edits_within_is_the_levenshtein_distance_or_none_beyond_the_budget(
    x: list[str], y: list[str], budget: int
) -> None:
    distance = _levenshtein(x, y)
    assert word_edits(x, y) == distance
    assert edits_within(x, y, budget) == (distance if distance <= budget else None)
    assert edits_lower_bound(x, y) <= distance


def test_one_typo_in_a_long_text_costs_one_edit() -> None:
    text = [f"w{i % 37}" for i in range(400)]  # repeated words: alignment is not trivial
    typo = [*text[:200], "wx", *text[201:]]
    inserted = [*text[:123], "new", *text[123:]]
    assert edits_within(text, typo, 1) == 1
    assert edits_within(text, inserted, 1) == 1
    assert edits_within(text, [*typo[:300], *typo[301:]], 1) is None  # two edits
    assert edits_within(text, [*typo[:300], *typo[301:]], 2) == 2


def test_the_sketch_index_finds_every_copy_within_its_edit_budget() -> None:
    """A copy with up to ``edits`` words replaced, inserted or deleted always shares a sketch
    entry with the original (``sketch_size(edits)`` entries on both sides), whatever words."""
    rng = random.Random(5)
    vocabulary = [f"v{i}" for i in range(300)]
    for edits in (1, 2, 5):
        index = SketchIndex()
        texts = [rng.choices(vocabulary, k=rng.randint(60, 300)) for _ in range(40)]
        for text_id, text in enumerate(texts):
            index.add(text_id, text, sketch_size(edits))
        for text_id, text in enumerate(texts):
            copy = list(text)
            for _ in range(edits):
                at = rng.randrange(len(copy))
                kind = rng.randrange(3)
                if kind == 0:
                    copy[at] = "changed"
                elif kind == 1:
                    copy.insert(at, "inserted")
                else:
                    del copy[at]
            assert text_id in list(index.candidates(copy, sketch_size(edits)))
