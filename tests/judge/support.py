"""Plain helpers shared by the judge tests."""

from __future__ import annotations

from judge.types import PairText

FAKE_KEY = "sk-fake-test"
MARKER = "[BEST]"


def make_pairs(count: int, marker_in: str = "b") -> list[PairText]:
    """``count`` distinct pairs; the better response carries the marker ``[BEST]``."""
    pairs = []
    for i in range(count):
        good, bad = f"Answer {i}: correct and complete. [BEST]", f"Answer {i}: wrong."
        a, b = (good, bad) if marker_in == "a" else (bad, good)
        pairs.append(PairText(f"pair-{i}", f"Question number {i}?", a, b))
    return pairs
