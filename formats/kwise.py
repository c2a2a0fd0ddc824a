"""k responses to one prompt (UltraFeedback-style) as pairs, by a stated design.

A record ``{"id", "prompt", "responses": [...]}`` holds k ≥ 2 responses; a *design* says which
of the k(k-1)/2 unordered pairs are compared:

- ``all``: every pair, k(k-1)/2 of them.
- ``round-robin:R``: a circulant graph on the k responses (response i meets i±1, i±2, ...,
  i±⌈R/2⌉ around a circle), so that every response is in at least R pairs with about kR/2 pairs
  in all instead of k(k-1)/2. For even R the design is R-regular (kR/2 pairs). For odd R and
  even k the "diameter" pairs (i, i+k/2) are added, which again gives exactly R per response.
  For odd R and odd k no R-regular graph exists (k·R would be odd), so each response is in R+1
  pairs. R ≥ k-1 is the same as ``all``. (Circulant graphs as regular designs for paired
  comparisons: David, *The Method of Paired Comparisons*, 2nd ed., 1988, §1.3 and §5.)

The design depends only on k and the responses' order in the record, so it is deterministic.
Pair ids are derived from the record id and the two responses' refs (their ``id`` or, without
one, their 0-based index), and which response is A from a hash of the same, never file order.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from kernel.errors import UserError

MAX_RESPONSES = 64
"""Most responses in one record (64 responses give 2,016 pairs under ``all``)."""


class DesignError(UserError, ValueError):
    """A ``--pairs`` value that is not a design."""


@dataclass(frozen=True)
class Design:
    """Which pairs of a record's responses become pairs: ``all`` or ``round-robin`` with ``r``."""

    name: str
    r: int | None = None

    def __str__(self) -> str:
        return self.name if self.r is None else f"{self.name}:{self.r}"


ALL = Design("all")
_ROUND_ROBIN = re.compile(r"^round-robin:(\d{1,4})$")


def parse_design(spec: str) -> Design:
    """``all`` or ``round-robin:R`` (R ≥ 1) as a :class:`Design`."""
    text = spec.strip()
    if text == "all":
        return ALL
    found = _ROUND_ROBIN.match(text)
    if found is None or int(found.group(1)) < 1:
        raise DesignError(
            f"--pairs '{spec}': use all or round-robin:R with R ≥ 1 (e.g. round-robin:2)"
        )
    return Design("round-robin", int(found.group(1)))


def design_pairs(k: int, design: Design) -> list[tuple[int, int]]:
    """The unordered pairs (i, j), i < j, of k responses that ``design`` compares, sorted."""
    if design.r is None or design.r >= k - 1:
        return [(i, j) for i in range(k) for j in range(i + 1, k)]
    r = design.r
    offsets = set(range(1, r // 2 + 1))
    if r % 2 == 1:
        offsets.add(k // 2 if k % 2 == 0 else r // 2 + 1)
    edges = {tuple(sorted((i, (i + d) % k))) for i in range(k) for d in offsets}
    return sorted((a, b) for a, b in edges)


def pair_id(record_id: str, ref_x: str, ref_y: str, limit: int = 200) -> str:
    """``record|ref|ref`` (refs sorted), or a hash of it when that would pass ``limit`` chars."""
    low, high = sorted((ref_x, ref_y))
    readable = f"{record_id}|{low}|{high}"
    if len(readable) <= limit:
        return readable
    digest = _digest("id", record_id, low, high)[:20]
    return f"{record_id[: limit - 22]}|{digest}"


def first_is_a(record_id: str, ref_x: str, ref_y: str) -> bool:
    """Whether ``ref_x`` becomes response A: one bit of a SHA-256 of the record id and refs."""
    low, high = sorted((ref_x, ref_y))
    x_is_low = ref_x == low
    low_is_a = int(_digest("a/b", record_id, low, high)[:8], 16) % 2 == 0
    return low_is_a == x_is_low


def _digest(*parts: str) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode("utf-8")).hexdigest()


__all__ = [
    "ALL",
    "MAX_RESPONSES",
    "Design",
    "DesignError",
    "design_pairs",
    "first_is_a",
    "pair_id",
    "parse_design",
]
