"""The SQL helpers every storage module of a job shares: the clock, batching, and a dialect
insert that can skip conflicts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

#: rows per statement when a job's items or judgments are written or matched in bulk
BATCH = 500


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def insert_for(engine: Engine, table: Any) -> Any:
    """A dialect insert that supports ``on_conflict_do_nothing`` (PostgreSQL or SQLite).

    The dialect modules are imported here: the engine has already loaded its own, and readers
    of jobs (``referee jobs``) need neither.
    """
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table)
    raise NotImplementedError(f"database {engine.dialect.name!r} is not supported")


def batches(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
