"""What a release needs from the rows it freezes, gathered one row at a time.

:class:`KeptRows` is the release's single pass over its rows: the manifest's counts, versions
and time window, the gate's offending pair ids, and the rows' canonical JSON bodies with their
SHA-256 — spooled to a temporary file, so creating a release holds one row at a time (plus the
ids the gate would list and the few witness rows below), not the dataset.

The rows file is type-stable for ``datasets`` (issue 20): the rows that first give a column (or
nested field) a value are written first (:mod:`formats.typed_jsonl`), then every other row in
pair-id order. Those witness rows (at most one per type path) stay in memory; the rest spool.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from formats.rows import LabeledPair
from formats.rules import UNSAFE_REASONS
from formats.typed_jsonl import type_paths
from referee.export.pii_gate import pii_findings

__all__ = ["KeptRows", "row_body"]


def row_body(row: LabeledPair) -> str:
    """The canonical JSON text of one release row (what ``rows_sha256`` hashes)."""
    return json.dumps(row.to_json(), ensure_ascii=False, sort_keys=False)


def _unsafe_preference(row: LabeledPair) -> bool:
    """An AI preference (A or B) on a pair routing flagged unsafe, or a person answered both-bad."""
    return (
        row.label in ("A", "B")
        and row.source == "ai"
        and (
            any(reason in UNSAFE_REASONS for reason in row.reasons)
            or any(a.label == "both_bad" for a in row.answers)
        )
    )


@dataclass
class KeptRows:
    """The rows a release keeps, summarised as they stream past (:meth:`add`).

    ``check_pii``: run the personal-data detectors (only datasets that require redaction).
    Use as a context manager: the spooled bodies live in a temporary file until closed.
    """

    check_pii: bool = False
    rows: int = 0
    size: int = 0  # bytes of the rows file
    labels: Counter[str | None] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    policy_versions: set[int] = field(default_factory=set)
    redaction_versions: set[str] = field(default_factory=set)
    judge_versions: set[str] = field(default_factory=set)
    labeled_from: str | None = None
    labeled_to: str | None = None
    people: bool = False
    ai: bool = False
    unsafe: list[str] = field(default_factory=list)
    unredacted: list[str] = field(default_factory=list)
    pii: list[dict[str, Any]] = field(default_factory=list)
    spot_checked: list[str] = field(default_factory=list)
    _spool: IO[bytes] = field(default_factory=tempfile.TemporaryFile, repr=False)
    _seen: set[str] = field(default_factory=set, repr=False)  # type paths with a value so far
    _witnesses: list[tuple[str, str]] = field(default_factory=list, repr=False)
    _sha256: str | None = field(default=None, repr=False)

    def __enter__(self) -> KeptRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self._spool.close()

    def add(self, row: LabeledPair) -> None:
        """Count ``row``, note what the gate needs, hash and spool its canonical body."""
        doc = row.to_json()
        body = json.dumps(doc, ensure_ascii=False, sort_keys=False)
        self.rows += 1
        self.size += len(body.encode("utf-8")) + 1
        self._sha256 = None
        new = type_paths(doc, self._seen)
        if new:  # the first row giving these columns a value: written first
            self._seen.update(new)
            self._witnesses.append((row.pair_id, body))
        else:
            self._spool.write(orjson.dumps([row.pair_id, body]) + b"\n")
        self.labels[row.label] += 1
        self.sources[str(row.source)] += 1
        self._note_versions(row)
        if row.labeled_at:
            self.labeled_from = min(self.labeled_from or row.labeled_at, row.labeled_at)
            self.labeled_to = max(self.labeled_to or row.labeled_at, row.labeled_at)
        self.people = self.people or row.source in ("human", "gold")
        self.ai = self.ai or row.source == "ai"
        if _unsafe_preference(row):
            self.unsafe.append(row.pair_id)
        if row.decision == "spot_check":
            self.spot_checked.append(row.pair_id)
        if self.check_pii:
            if row.redaction_version is None:
                self.unredacted.append(row.pair_id)
            self.pii.extend(pii_findings([row]))

    def _note_versions(self, row: LabeledPair) -> None:
        if row.policy_version is not None:
            self.policy_versions.add(row.policy_version)
        if row.redaction_version:
            self.redaction_versions.add(row.redaction_version)
        if row.source == "ai":
            self.judge_versions.update(j.prompt_version for j in row.judges)

    @property
    def rows_sha256(self) -> str:
        """SHA-256 of the bodies in file order, each followed by a newline (``rows.jsonl``)."""
        if self._sha256 is None:
            digest = hashlib.sha256()
            for _, body in self._ordered():
                digest.update(body.encode("utf-8"))
                digest.update(b"\n")
            self._sha256 = digest.hexdigest()
        return self._sha256

    def _ordered(self) -> Iterator[tuple[str, str]]:
        """``(pair_id, body)`` in file order: witness rows, then the spool in the order added."""
        yield from self._witnesses
        self._spool.flush()
        self._spool.seek(0)
        for line in self._spool:
            pair_id, body = orjson.loads(line)
            yield pair_id, body
        self._spool.seek(0, 2)  # back to the end: more rows may still be added

    def bodies(self, batch: int = 1_000) -> Iterator[list[tuple[str, str]]]:
        """The ``(pair_id, body)`` in file order, ``batch`` at a time."""
        chunk: list[tuple[str, str]] = []
        for item in self._ordered():
            chunk.append(item)
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
