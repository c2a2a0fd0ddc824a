"""What a release needs from the rows it freezes, gathered one row at a time.

:class:`KeptRows` is the release's single pass over its rows: the manifest's counts, versions
and time window, the gate's offending pair ids, and the rows' canonical JSON bodies with their
SHA-256 — spooled to a temporary file, so creating a release holds one row at a time (plus the
ids the gate would list), not the dataset.
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
    _digest: Any = field(default_factory=hashlib.sha256, repr=False)
    _spool: IO[bytes] = field(default_factory=tempfile.TemporaryFile, repr=False)

    def __enter__(self) -> KeptRows:
        return self

    def __exit__(self, *exc: object) -> None:
        self._spool.close()

    def add(self, row: LabeledPair) -> None:
        """Count ``row``, note what the gate needs, hash and spool its canonical body."""
        body = row_body(row).encode("utf-8")
        self.rows += 1
        self.size += len(body) + 1
        self._digest.update(body)
        self._digest.update(b"\n")
        self._spool.write(orjson.dumps([row.pair_id, body.decode("utf-8")]) + b"\n")
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
        """SHA-256 of the bodies, each followed by a newline (the ``rows.jsonl`` file)."""
        return str(self._digest.hexdigest())

    def bodies(self, batch: int = 1_000) -> Iterator[list[tuple[str, str]]]:
        """The spooled ``(pair_id, body)`` in the order added, ``batch`` at a time."""
        self._spool.flush()
        self._spool.seek(0)
        chunk: list[tuple[str, str]] = []
        for line in self._spool:
            pair_id, body = orjson.loads(line)
            chunk.append((pair_id, body))
            if len(chunk) >= batch:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
