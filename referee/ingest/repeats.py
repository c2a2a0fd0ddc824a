"""Repeated keys inside one imported file: reported, or resolved with ``--dedupe`` and
``--on-conflict first|last|error``.

Keys already seen in the file live in a temporary table of the import's connection
(``referee_ingest_seen``), not in memory, so a file of any size is checked in bounded memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from formats.problems import Problem, ProblemLog
from referee.ingest.record_kind import R, RecordKind

OnConflict = Literal["first", "last", "error"]
ON_CONFLICT: tuple[OnConflict, ...] = ("first", "last", "error")
MAX_LISTED = 20


def create_seen_table(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    session.execute(text("DROP TABLE IF EXISTS referee_ingest_seen"))
    suffix = " ON COMMIT DROP" if dialect == "postgresql" else ""
    session.execute(
        text(
            "CREATE TEMPORARY TABLE referee_ingest_seen "
            f"(k TEXT PRIMARY KEY, line INTEGER, f TEXT, g TEXT, ins INTEGER){suffix}"
        )
    )


def drop_seen_table(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("DROP TABLE IF EXISTS referee_ingest_seen"))


@dataclass
class Repeats:
    """Repeated keys inside one file (``--dedupe``): how they are resolved, what was folded."""

    on_conflict: OnConflict = "first"
    folded: int = 0
    disagreeing: int = 0
    replaced: int = 0
    listed: list[str] = field(default_factory=list)

    def disagree(self, description: str, first_line: int, line: int) -> None:
        self.disagreeing += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(f"{description} (lines {first_line} and {line})")


@dataclass
class _Seen:
    line: int
    content: str
    group: str
    inserted: bool


def check_file_duplicates(
    session: Session,
    file: str,
    kind: RecordKind[R],
    batch: list[tuple[int, R]],
    log: ProblemLog,
    repeats: Repeats | None,
) -> list[tuple[int, R]]:
    """Drop records whose key appeared earlier in the file: reported, or resolved with dedupe.

    Identical repeats are folded into the first record. Repeats with different content are
    problems without ``--dedupe``; with it, ``on_conflict`` keeps the first record, keeps the
    last (replacing a row this import inserted from an earlier batch) or refuses the file.
    """
    candidates = [
        (line, record, kind.key(record), kind.fingerprint(record), kind.fold_group(record))
        for line, record in batch
    ]
    earlier = _earlier(session, list({c[2] for c in candidates}))
    new: dict[str, _Seen] = {}
    moved: set[str] = set()
    kept: dict[str, tuple[int, R]] = {}
    for line, record, key, content, group in candidates:
        seen = new.get(key) or earlier.get(key)
        if seen is None:
            new[key] = _Seen(line, content, group, False)
            kept[key] = (line, record)
            continue
        same_content = seen.content == content
        if repeats is None or seen.group != group:
            log.add(_duplicate(file, kind, line, record, seen, same_content, group, repeats))
            continue
        repeats.folded += 1
        if same_content:
            continue
        repeats.disagree(kind.describe_key(record), seen.line, line)
        if repeats.on_conflict == "error":
            log.add(_refused(file, kind, line, record, seen))
        elif repeats.on_conflict == "last":
            if key not in kept and seen.inserted:
                kind.delete(session, record)
                repeats.replaced += 1
            kept[key] = (line, record)
            if key in new:
                new[key] = _Seen(line, content, group, False)
            else:
                earlier[key] = _Seen(line, content, group, False)
                moved.add(key)
    _save_seen(session, new, earlier, moved)
    return list(kept.values())


def _earlier(session: Session, keys: list[str]) -> dict[str, _Seen]:
    """The keys among ``keys`` seen in earlier batches of the file, as first seen (or kept)."""
    return {
        k: _Seen(line, f, g, bool(ins))
        for k, line, f, g, ins in session.execute(
            text("SELECT k, line, f, g, ins FROM referee_ingest_seen WHERE k IN :keys").bindparams(
                bindparam("keys", expanding=True)
            ),
            {"keys": keys},
        ).all()
    }


def _duplicate(
    file: str,
    kind: RecordKind[R],
    line: int,
    record: R,
    seen: _Seen,
    same_content: bool,
    group: str,
    repeats: Repeats | None,
) -> Problem:
    """The problem of a repeated key that is not folded (no ``--dedupe``, or other texts)."""
    note = (
        ", same content"
        if same_content
        else (f", {kind.different_note}" if seen.group == group else "")
    )
    hint = ""
    if repeats is None and seen.group == group:
        hint = "; pass --dedupe to keep the first record of each repeated key"
    return Problem(
        file,
        line,
        kind.key_field,
        f"duplicate {kind.describe_key(record)} inside the file "
        f"(first on line {seen.line}{note}){hint}",
    )


def _refused(file: str, kind: RecordKind[R], line: int, record: R, seen: _Seen) -> Problem:
    """The problem of a repeat with different content under ``--on-conflict error``."""
    return Problem(
        file,
        line,
        kind.key_field,
        f"{kind.describe_key(record)} is repeated with {kind.different_note} "
        f"(first on line {seen.line}); --on-conflict error refuses it: keep one "
        "of them, or pass --on-conflict first|last",
    )


def _save_seen(
    session: Session, new: dict[str, _Seen], earlier: dict[str, _Seen], moved: set[str]
) -> None:
    """Store the batch's new keys, and the earlier keys whose kept record moved to this batch."""
    if new:
        session.execute(
            text("INSERT INTO referee_ingest_seen (k, line, f, g, ins) VALUES (:k, :l, :f, :g, 0)"),
            [{"k": k, "l": s.line, "f": s.content, "g": s.group} for k, s in new.items()],
        )
    if moved:
        session.execute(
            text("UPDATE referee_ingest_seen SET line = :l, f = :f, ins = 0 WHERE k = :k"),
            [{"k": k, "l": earlier[k].line, "f": earlier[k].content} for k in moved],
        )


def mark_inserted(session: Session, keys: list[str]) -> None:
    """Note the keys this import inserted (``--on-conflict last`` may replace them later)."""
    if keys:
        session.execute(
            text("UPDATE referee_ingest_seen SET ins = 1 WHERE k IN :keys").bindparams(
                bindparam("keys", expanding=True)
            ),
            {"keys": keys},
        )


__all__ = [
    "MAX_LISTED",
    "ON_CONFLICT",
    "OnConflict",
    "Repeats",
    "check_file_duplicates",
    "create_seen_table",
    "drop_seen_table",
    "mark_inserted",
]
