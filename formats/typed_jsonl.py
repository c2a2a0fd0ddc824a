"""JSON Lines whose column types a reader can infer from the first rows.

``datasets.load_dataset("json", ...)`` infers every column's type from the first block of the
file (10 MB in ``datasets`` 5.x) and casts the rest to it: a column that is null in every row of
that block becomes type ``null``, and a later string fails with "Couldn't cast array of type
string to null". The same holds inside nested values: an answer's ``strength`` null in every
answer of the block, or a list empty in every row of it (``list<null>``). pandas and pyarrow
readers behave the same way.

:func:`write_typed_jsonl` writes every record as given (the caller writes the same keys in every
record, null where missing), in a first pass to a temporary file beside ``out``, noting for each
*type path* the first row where it has a value (its *witness*). A type path is a key, a key
inside a nested object (``answers[].strength``) or a list's items (``reasons[]``). The second
pass writes those witness rows first (at most one per path, in their original order) and then
every other row in its original order, so the first rows declare the type of every column and
nested field that has a value anywhere. Memory holds the witness rows only.
:func:`witness_order` gives the same order for records held in memory.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

__all__ = ["type_paths", "witness_order", "write_typed_jsonl"]


def type_paths(record: dict[str, Any], seen: set[str]) -> list[str]:
    """The type paths with a value in ``record`` that are not in ``seen`` yet."""
    found: list[str] = []
    _walk(record, "", seen, found)
    return found


def _walk(value: Any, path: str, seen: set[str], found: list[str]) -> None:
    if path and path not in seen and path not in found:
        found.append(path)
    if isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                _walk(item, f"{path}.{key}", seen, found)
        return
    if isinstance(value, list):
        for item in value:
            if item is not None:
                _walk(item, f"{path}[]", seen, found)


def witness_order(records: Sequence[dict[str, Any]]) -> list[int]:
    """Positions of ``records`` with each type path's first witness first (see module)."""
    seen: set[str] = set()
    first: list[int] = []
    for number, record in enumerate(records):
        new = type_paths(record, seen)
        if new:
            seen.update(new)
            first.append(number)
    chosen = set(first)
    return first + [n for n in range(len(records)) if n not in chosen]


def write_typed_jsonl(records: Iterable[dict[str, Any]], out: Path) -> int:
    """Write ``records`` to ``out`` as JSON Lines, witness rows first; returns rows written."""
    seen: set[str] = set()
    lines: dict[int, bytes] = {}
    count = 0
    handle, scratch_name = tempfile.mkstemp(prefix=".typed-", suffix=".jsonl", dir=out.parent)
    scratch = Path(scratch_name)
    try:
        with os.fdopen(handle, "wb") as first:
            for record in records:
                line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
                new = type_paths(record, seen)
                if new:
                    seen.update(new)
                    lines[count] = line
                first.write(line)
                count += 1
        with scratch.open("rb") as source, out.open("wb") as target:
            for number in sorted(lines):
                target.write(lines[number])
            for number, line in enumerate(source):
                if number not in lines:
                    target.write(line)
    finally:
        scratch.unlink(missing_ok=True)
    return count
