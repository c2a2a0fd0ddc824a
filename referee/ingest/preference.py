"""Rows of other tools' preference files (``--format trl``, ``--format hh-rlhf``) as pairs.

The readers in :mod:`formats.trl` and :mod:`formats.hh_rlhf` turn a row into a prompt, a chosen
and a rejected reply; :func:`formats.preference.to_pair` places them as A and B by a hash; the
result is then checked exactly like a pair in Referee's own format (sizes, text, turns), and
carries the file's preference for the importer to keep as a human label, or not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

from formats.hh_rlhf import read_hh_row
from formats.preference import PreferenceRow, RowErrors, to_pair
from formats.trl import read_trl_row
from referee.ingest.records import Errors, PairRecord, validate_pair

PREFERENCE_FORMATS: Final[dict[str, Callable[[dict[str, Any]], PreferenceRow | RowErrors]]] = {
    "trl": read_trl_row,
    "hh-rlhf": read_hh_row,
}
_ID_PREFIX: Final = {"trl": "trl", "hh-rlhf": "hh"}


def validate_preference(
    raw: dict[str, Any], source: str, *, max_field_bytes: int
) -> PairRecord | Errors:
    """A pair with ``preference`` set from a row of ``source``'s layout, or the row's errors.

    Problems with a reply name the file's field (``chosen``/``rejected``), not A or B.
    """
    row = PREFERENCE_FORMATS[source](raw)
    if isinstance(row, list):
        return row
    pair = to_pair(row, _ID_PREFIX[source])
    result = validate_pair(pair.as_record(), max_field_bytes=max_field_bytes)
    if isinstance(result, list):
        a, b = ("chosen", "rejected") if pair.preference == "A" else ("rejected", "chosen")
        names = {"response_a": a, "response_b": b, "meta": "(other columns)"}
        return [(names.get(name, name), message) for name, message in result]
    return replace(result, preference=pair.preference)


__all__ = ["PREFERENCE_FORMATS", "validate_preference"]
