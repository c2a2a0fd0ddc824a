"""Light descriptions of the tables and columns that read-only reports query.

``referee status``, ``referee jobs`` and ``referee job ID`` count and list rows; importing the
ORM models (``referee.db.models``, which brings in ``sqlalchemy.orm``) costs more than the
queries. These are SQLAlchemy Core ``table()`` / ``column()`` clauses: names and types of the
columns queried, nothing else. The schema itself is defined once, in :mod:`referee.db.models`
and the migrations; ``tests/storage/test_light_tables.py`` checks every name here against it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, column, table
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp read back timezone-aware in UTC (SQLite hands back naive UTC values), as
    :func:`referee.db.models.as_utc` makes the ORM's."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        """``value`` aware, in UTC."""
        if not isinstance(value, datetime):
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


datasets = table("datasets", column("id", Integer), column("name", String))
pairs = table(
    "pairs",
    column("id", String),
    column("dataset_id", Integer),
    column("frozen_eval", Boolean),
)
human_labels = table("human_labels", column("pair_id", String), column("kind", String))
judgments = table(
    "judgments",
    column("pair_id", String),
    column("judge", String),
    column("order", String),
    column("status", String),
    column("job_id", Integer),
    column("tokens_in", Integer),
    column("tokens_out", Integer),
    column("latency_ms", Float),
)
routing_decisions = table(
    "routing_decisions",
    column("pair_id", String),
    column("decision", String),
    column("current", Boolean),
)
jobs = table(
    "jobs",
    column("id", Integer),
    column("dataset_id", Integer),
    column("kind", String),
    column("status", String),
    column("params", JSON),
    column("total_items", Integer),
    column("error", Text),
    column("created_at", UtcDateTime),
    column("updated_at", UtcDateTime),
)
job_items = table(
    "job_items",
    column("job_id", Integer),
    column("pair_id", String),
    column("status", String),
    column("attempts", Integer),
    column("error", Text),
    column("cost", Float),
)

__all__ = [
    "UtcDateTime",
    "datasets",
    "human_labels",
    "job_items",
    "jobs",
    "judgments",
    "pairs",
    "routing_decisions",
]
