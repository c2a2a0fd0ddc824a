"""How many words two texts differ by: the absolute amount of changed content.

Pure functions on word sequences (:func:`formats.text_fold.words`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def _trim(x: Sequence[str], y: Sequence[str]) -> tuple[Sequence[str], Sequence[str]]:
    """``x`` and ``y`` without their common prefix and suffix (which never change the
    Levenshtein distance under unit costs)."""
    start, shortest = 0, min(len(x), len(y))
    while start < shortest and x[start] == y[start]:
        start += 1
    end = 0
    while end < shortest - start and x[len(x) - 1 - end] == y[len(y) - 1 - end]:
        end += 1
    return x[start : len(x) - end], y[start : len(y) - end]


def edits_lower_bound(x: Sequence[str], y: Sequence[str]) -> int:
    """A lower bound of the word edit distance, in linear time.

    Output: max(|x - y|, |y - x|) over the two texts' word multisets: each word of ``x``
    missing from ``y`` (with multiplicity) needs a deletion or substitution of its own, and
    each word of ``y`` missing from ``x`` an insertion or substitution.
    """
    cx, cy = Counter(x), Counter(y)
    return max((cx - cy).total(), (cy - cx).total())


def _banded(x: Sequence[str], y: Sequence[str], budget: int) -> int | None:
    """Levenshtein distance of ``x`` and ``y`` if at most ``budget``, else None: the dynamic
    programme restricted to the diagonal band |i - j| <= budget (Ukkonen 1985, "Algorithms for
    approximate string matching"), stopping as soon as a whole row exceeds ``budget``."""
    over = budget + 1
    previous = [j if j <= budget else over for j in range(len(y) + 1)]
    for i in range(1, len(x) + 1):
        low, high = max(1, i - budget), min(len(y), i + budget)
        current = [over] * (len(y) + 1)
        current[0] = i if i <= budget else over
        word = x[i - 1]
        for j in range(low, high + 1):
            cost = previous[j - 1] + (word != y[j - 1])
            current[j] = min(cost, previous[j] + 1, current[j - 1] + 1, over)
        if min(current[max(0, low - 1) : high + 1]) > budget:
            return None
        previous = current
    return previous[len(y)] if previous[len(y)] <= budget else None


def edits_within(x: Sequence[str], y: Sequence[str], budget: int) -> int | None:
    """The word-level Levenshtein distance of ``x`` and ``y`` when it is at most ``budget``,
    else None.

    Inputs: two word sequences and a budget >= 0. Output: the least number of word insertions,
    deletions and substitutions turning ``x`` into ``y`` (a typo, an inserted, deleted or
    replaced word each count 1), or None when more than ``budget`` are needed. The length
    difference and :func:`edits_lower_bound` rule most distinct texts out in linear time; the
    common prefix and suffix are trimmed, so one edit anywhere costs no alignment at all.
    """
    if abs(len(x) - len(y)) > budget:
        return None
    x, y = _trim(x, y)
    if not x or not y:
        return max(len(x), len(y))
    if edits_lower_bound(x, y) > budget:
        return None
    return _banded(x, y, budget)


def word_edits(x: Sequence[str], y: Sequence[str]) -> int:
    """The word-level Levenshtein distance of ``x`` and ``y`` (see :func:`edits_within`)."""
    most = max(len(x), len(y))  # the distance never exceeds the longer length
    found = edits_within(x, y, most)
    return most if found is None else found


__all__ = ["edits_lower_bound", "edits_within", "word_edits"]
