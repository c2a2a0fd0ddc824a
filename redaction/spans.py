"""Spans, the detector interface, and the deterministic resolution of overlapping spans."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["Detector", "Intervals", "Span", "resolve_overlaps"]


@dataclass(frozen=True, slots=True)
class Span:
    """One detected value: ``text[start:end]`` is ``value``.

    ``kind`` names the token class (``EMAIL`` becomes ``<EMAIL_1>``); ``normalised`` is the
    form two spellings of one value share (an email in lower case, a phone number in E.164, a
    card number's digits), from which the pseudonym is keyed; ``detector`` says which rule fired
    (``aws_access_key``, ``ssn``...) and ``priority`` ranks overlapping spans. The value is kept
    out of ``repr`` so that a logged span never leaks it.
    """

    start: int
    end: int
    kind: str
    value: str = field(repr=False)
    detector: str = ""
    priority: int = 0
    normalised: str = field(default="", repr=False)

    @property
    def key(self) -> str:
        """The normalised value (the raw value when no normal form was given)."""
        return self.normalised or self.value

    def __len__(self) -> int:
        return self.end - self.start


@runtime_checkable
class Detector(Protocol):
    """Finds spans of one family of values in a text. Detectors are pure and thread-safe."""

    name: str

    def find(self, text: str) -> Iterable[Span]:
        """Every span found in ``text`` (they may overlap; the redactor resolves overlaps)."""
        ...


class Intervals:
    """Non-overlapping half-open intervals, with overlap tests in O(log n)."""

    __slots__ = ("_ends", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect.bisect_left(self._starts, end)  # intervals starting before ``end``
        return i > 0 and self._ends[i - 1] > start

    def add(self, start: int, end: int) -> None:
        i = bisect.bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)


def resolve_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Keep a set of non-overlapping spans, deterministically, in text order.

    Candidates are taken by descending priority, then descending length, then ascending start
    (then kind and detector, so equal spans resolve the same way every time); a candidate that
    overlaps one already kept is dropped.
    """
    ranked: Sequence[Span] = sorted(
        spans, key=lambda s: (-s.priority, -(s.end - s.start), s.start, s.kind, s.detector)
    )
    kept: list[Span] = []
    taken = Intervals()
    for span in ranked:
        if span.end <= span.start or taken.overlaps(span.start, span.end):
            continue
        kept.append(span)
        taken.add(span.start, span.end)
    kept.sort(key=lambda s: s.start)
    return kept
