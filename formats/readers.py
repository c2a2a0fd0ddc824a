"""Stream records out of JSONL, CSV or Parquet files, one at a time, never the whole file.

Every record comes with its 1-based line number (the row number for Parquet; the line of the
record's first physical line for CSV). Lines that cannot be read become :class:`Problem` values in
the stream, so the caller decides what to do with them.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from formats.problems import Problem

Record = dict[str, Any]
Item = tuple[int, Record] | Problem

csv.field_size_limit(sys.maxsize)


def detect_format(path: Path) -> str:
    """``jsonl``, ``csv`` or ``parquet`` from the file name (JSON Lines may be gzipped)."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".json", ".jsonl.gz", ".json.gz")):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    raise ValueError(
        f"{path}: unknown file type; use .jsonl, .jsonl.gz, .csv or .parquet (JSON Lines, CSV "
        "or Parquet)"
    )


def read_records(path: Path) -> Iterator[Item]:
    """Records of ``path`` in file order; unreadable lines come out as problems."""
    fmt = detect_format(path)
    if fmt == "jsonl":
        yield from _read_jsonl(path)
    elif fmt == "csv":
        yield from _read_csv(path)
    else:
        yield from _read_parquet(path)


def _lines(path: Path) -> Iterator[bytes | Problem]:
    """The raw lines of ``path`` (gunzipped for ``.gz``); a damaged gzip stream ends in a
    fatal problem, since nothing after it can be read."""
    if not path.name.lower().endswith(".gz"):
        with path.open("rb") as handle:
            yield from handle
        return
    try:
        with gzip.open(path, "rb") as handle:
            yield from handle
    except (OSError, EOFError, zlib.error) as exc:
        yield Problem(str(path), 0, None, f"not a readable gzip file: {exc}", fatal=True)


def _read_jsonl(path: Path) -> Iterator[Item]:
    name = str(path)
    for number, raw in enumerate(_lines(path), start=1):
        if isinstance(raw, Problem):
            yield raw
            return
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Problem(name, number, None, f"not valid UTF-8 (byte {exc.start})")
            continue
        if number == 1 and text.startswith("\ufeff"):
            text = text[1:]
        if not text.strip():
            continue
        try:
            value = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            yield Problem(name, number, None, f"broken JSON: {exc.msg} at column {exc.pos + 1}")
            continue
        except RecursionError:
            yield Problem(name, number, None, "unreadable JSON: nested too deeply")
            continue
        except ValueError as exc:  # e.g. an integer with more digits than Python reads
            yield Problem(name, number, None, f"unreadable JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield Problem(name, number, None, "expected a JSON object on each line")
            continue
        yield number, value


def _read_csv(path: Path) -> Iterator[Item]:
    name = str(path)
    delimiter = "\t" if path.name.lower().endswith(".tsv") else ","
    with path.open("rb") as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            yield _bad_utf8(path)
            return
        except csv.Error as exc:
            yield Problem(name, 1, None, f"broken CSV: {exc}", fatal=True)
            return
        columns = [c.strip() for c in header]
        line = reader.line_num
        while True:
            start = line + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                yield _bad_utf8(path)
                return
            except csv.Error as exc:
                yield Problem(name, start, None, f"broken CSV: {exc}", fatal=True)
                return
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(columns):
                yield Problem(
                    name, start, None, f"expected {len(columns)} columns, found {len(row)}"
                )
                continue
            yield start, dict(zip(columns, row, strict=True))


def _bad_utf8(path: Path) -> Problem:
    """The problem at the first byte of ``path`` that is not UTF-8, with its physical line.

    The CSV reader decodes ahead in blocks, so the line it has reached when decoding fails is
    not the line of the bad byte; the file is scanned again, line by line, to find it.
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return Problem(
                    str(path),
                    number,
                    None,
                    f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                    "save the file as UTF-8",
                    fatal=True,
                )
    return Problem(str(path), 0, None, "not valid UTF-8; save the file as UTF-8")


def _read_parquet(path: Path) -> Iterator[Item]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        yield Problem(str(path), 0, None, "reading Parquet needs pyarrow: pip install pyarrow")
        return
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:
        yield Problem(str(path), 0, None, f"not a readable Parquet file: {exc}")
        return
    number = 0
    for batch in parquet.iter_batches(batch_size=4096):
        for row in batch.to_pylist():
            number += 1
            yield number, row
