"""Candidate texts for a near-duplicate search: an inverted index of sampled word 3-grams.

Each indexed text keeps only its ``s`` smallest shingle hashes (a bottom-``s`` sketch, Broder
1997, "On the resemblance and containment of documents"): word 3-grams (the whole text when
shorter), hashed from the words' CRC-32s. A text and a copy of it differing in ``c``
shingles share at least ``min(s_1, s_2) - c`` sketch entries, whatever the hash: a shingle among the
``min(s) - c_added`` smallest of the first text that survived the edit is among the ``s``
smallest of the copy. One word replaced changes at most 3 shingles and adds at most 3, so
``s >= 6 * edits + 1`` guarantees a shared entry, and a lookup finds every copy within that many
edits (recall is exact; the hash only decides how many distinct texts come along, which the
caller verifies).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Sequence
from zlib import crc32

SHINGLE = 3  # words per shingle
SHINGLES_CHANGED_PER_EDIT = 2 * SHINGLE  # a replaced word: 3 removed, 3 added
_P, _MASK = 1_000_003, (1 << 48) - 1


def shingle_hashes(words: Sequence[str]) -> set[int]:
    """A 48-bit hash of each word 3-gram of ``words`` (of the whole text when shorter): the
    CRC-32 of each word, combined in order (``(h1 * P + h2) * P + h3`` modulo 2**48)."""
    h = [crc32(w.encode("utf-8")) for w in words]
    if len(h) < SHINGLE:
        return {crc32(" ".join(words).encode("utf-8"))}
    return {((a * _P + b) * _P + c) & _MASK for a, b, c in zip(h, h[1:], h[2:], strict=False)}


def sketch(words: Sequence[str], size: int) -> list[int]:
    """The ``size`` smallest shingle hashes of ``words`` (all of them when fewer)."""
    return heapq.nsmallest(size, shingle_hashes(words))


def sketch_size(edits: int) -> int:
    """Sketch entries guaranteeing a shared one between texts ``edits`` words apart:
    ``6 * edits + 1`` (module docstring)."""
    return SHINGLES_CHANGED_PER_EDIT * edits + 1


class SketchIndex:
    """Text ids by the entries of their sketches (module docstring)."""

    def __init__(self) -> None:
        self._postings: defaultdict[int, list[int]] = defaultdict(list)

    def add(self, text_id: int, words: Sequence[str], size: int) -> None:
        """Index ``text_id`` under its ``size`` smallest shingle hashes."""
        for entry in sketch(words, size):
            self._postings[entry].append(text_id)

    def candidates(self, words: Sequence[str], size: int) -> Iterable[int]:
        """Every indexed text sharing an entry with the ``size``-entry sketch of ``words``,
        most shared entries first."""
        hits: defaultdict[int, int] = defaultdict(int)
        for entry in sketch(words, size):
            for text_id in self._postings.get(entry, ()):
                hits[text_id] += 1
        return sorted(hits, key=hits.__getitem__, reverse=True)


__all__ = ["SHINGLE", "SketchIndex", "shingle_hashes", "sketch", "sketch_size"]
