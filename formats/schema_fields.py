"""A final label's strength, ratings and rubric version, from the answers that decided it.

The deciding answers of a human-labeled pair are its answers whose label equals the final label
(for a gold pair: its gold labels; an AI label has none). From them:

* ``strength``: the most common strength (``much`` / ``slight``) among those that carry one; a
  tie between the two gives ``slight``, the weaker claim. None when none carries one (a tie or
  both-bad final label, a 3-point dataset, imported labels).
* ``ratings``: per dimension, the mean of the deciding answers' ratings, rounded half up to a
  whole number (so 1-5 stays 1-5: 3.5 -> 4, 2.49 -> 2). None when no deciding answer rated.
* ``rubric_version``: the distinct rubric versions (``v3``) of the deciding answers, sorted and
  joined by ``,``; None when none recorded one.

:class:`ExportSchema` is the part of a dataset's annotation schema (:mod:`referee.review.schema`)
that the export formats lay out as columns, controls or questions: the scale (strength on the
5-point scale) and the rated dimensions. The built-in schema (3 points, no dimensions) adds
nothing, so such a dataset exports exactly as before the schema existed.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from formats.rows import Vote


@dataclass(frozen=True, slots=True)
class SchemaFields:
    """What :func:`deciding_fields` found (see the module docstring)."""

    strength: str | None = None
    ratings: dict[str, int] | None = None
    rubric_version: str | None = None


@dataclass(frozen=True, slots=True)
class ExportSchema:
    """What answers carry beyond label and rationale, as an export lays it out.

    ``scale``: 3 or 5 (on 5, ``A``/``B`` answers carry a strength, ``slight`` or ``much``).
    ``dimensions``: the names rated 1-5, in the dataset's order.
    """

    scale: int = 3
    dimensions: tuple[str, ...] = ()

    @property
    def has_strength(self) -> bool:
        """Whether answers carry a strength (the 5-point scale)."""
        return self.scale == 5

    def widened(self, strength: bool, dimensions: Iterable[str]) -> ExportSchema:
        """This schema plus a strength and the dimensions answers were found to carry.

        A release's answers may have been given under an older schema (say, before a dimension
        was dropped); widening keeps every value they carry representable in the export.
        """
        extra = tuple(d for d in dict.fromkeys(dimensions) if d not in self.dimensions)
        scale = 5 if strength or self.has_strength else self.scale
        if not extra and scale == self.scale:
            return self
        return ExportSchema(scale, self.dimensions + tuple(sorted(extra)))


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def deciding_fields(label: str | None, source: str | None, votes: Sequence[Vote]) -> SchemaFields:
    """Strength, ratings and rubric version of a final label (see the module docstring)."""
    if label is None or source not in ("human", "gold"):
        return SchemaFields()
    kinds = ("gold",) if source == "gold" else None
    deciding = [v for v in votes if v.label == label and (kinds is None or v.kind in kinds)]
    strengths = Counter(v.strength for v in deciding if v.strength is not None)
    strength = None
    if strengths:
        much, slight = strengths.get("much", 0), strengths.get("slight", 0)
        strength = "much" if much > slight else "slight"
    sums: dict[str, list[int]] = defaultdict(list)
    for v in deciding:
        for name, value in (v.ratings or {}).items():
            if isinstance(value, int) and not isinstance(value, bool):
                sums[name].append(value)
    ratings = {k: _round_half_up(sum(vs) / len(vs)) for k, vs in sorted(sums.items())} or None
    versions = sorted({v.rubric_version for v in deciding if v.rubric_version})
    return SchemaFields(strength, ratings, ",".join(versions) if versions else None)


__all__ = ["ExportSchema", "SchemaFields", "deciding_fields"]
