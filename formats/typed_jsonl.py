"""JSON Lines whose column types a reader can infer from the first rows.

``datasets.load_dataset("json", ...)`` infers every column's type from the first block of the
file (10 MB in ``datasets`` 5.x) and casts the rest to it: a column that is null in every row of
that block becomes type ``null``, and a later string fails with "Couldn't cast array of type
string to null". pandas and pyarrow readers behave the same way.

:func:`write_typed_jsonl` writes every record with the same keys (null where a value is
missing), in a first pass to a temporary file beside ``out``, noting for each key the first row
where it is not null (its *witness*). The second pass writes those witness rows first (at most
one per key, in their original order) and then every other row in its original order, so the
first rows declare the type of every column that has a value anywhere. Memory holds the
witness rows only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

__all__ = ["write_typed_jsonl"]


def write_typed_jsonl(records: Iterable[dict[str, Any]], out: Path) -> int:
    """Write ``records`` to ``out`` as JSON Lines, witness rows first; returns rows written."""
    witnesses: dict[str, int] = {}
    lines: dict[int, bytes] = {}
    count = 0
    handle, scratch_name = tempfile.mkstemp(prefix=".typed-", suffix=".jsonl", dir=out.parent)
    scratch = Path(scratch_name)
    try:
        with os.fdopen(handle, "wb") as first:
            for record in records:
                line = orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
                for key, value in record.items():
                    if value is not None and key not in witnesses:
                        witnesses[key] = count
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
