"""One valid row in every table with an enumerated column, written with plain Core inserts so
the same rows go into a database at 0009 (before the checks) and at head."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, inspect, text

from referee.db.models import Base


def seed(conn: Connection) -> None:
    """Insert one row per table, every enumerated column set to an allowed value."""
    now = datetime.now(UTC)
    rows: list[tuple[str, dict[str, Any]]] = [
        ("datasets", {"id": 1, "name": "d"}),
        (
            "pairs",
            {
                "id": "p1",
                "dataset_id": 1,
                "prompt": "q",
                "response_a": "a",
                "response_b": "b",
                "content_hash": "h",
            },
        ),
        (
            "human_labels",
            {
                "id": 1,
                "pair_id": "p1",
                "annotator": "ann",
                "label": "A",
                "kind": "gold",
                "strength": "slight",
            },
        ),
        (
            "judgments",
            {
                "id": 1,
                "pair_id": "p1",
                "judge": "j",
                "order": "AB",
                "prompt_version": "v",
                "winner": "A",
                "status": "ok",
            },
        ),
        ("jobs", {"id": 1, "dataset_id": 1, "kind": "prelabel", "status": "running"}),
        ("job_items", {"job_id": 1, "pair_id": "p1", "status": "pending"}),
        ("policies", {"id": 1, "dataset_id": 1, "version": 1, "body": {}}),
        (
            "routing_decisions",
            {
                "id": 1,
                "pair_id": "p1",
                "policy_id": 1,
                "decision": "spot_check",
                "label": "A",
                "source": "ai",
            },
        ),
        ("reviewers", {"id": 1, "name": "ann", "token_hash": "x", "role": "lead"}),
        (
            "review_assignments",
            {
                "id": 1,
                "pair_id": "p1",
                "reviewer_id": 1,
                "queue": "spot_check",
                "lease_expires_at": now,
                "ai_label": "A",
                "ai_shown": "B",
            },
        ),
        (
            "review_configs",
            {
                "dataset_id": 1,
                "require_rationale": "both_bad",
                "guidelines": "g",
                "version": 1,
                "sha256": "s",
            },
        ),
        (
            "escalations",
            {
                "id": 1,
                "dataset_id": 1,
                "pair_id": "p1",
                "queue": "adjudication",
                "status": "resolved",
                "flagged_by": "ann",
                "resolution": "B",
            },
        ),
        (
            "review_queue_items",
            {
                "id": 1,
                "decision_id": 1,
                "dataset_id": 1,
                "pair_id": "p1",
                "queue": "spot_check",
                "rank": 0,
                "uncertainty": 0.5,
            },
        ),
    ]
    for table, values in rows:
        conn.execute(insert(Base.metadata.tables[table]).values(**values))


def set_value(engine: Engine, table: str, column: str, value: str | None) -> None:
    """``UPDATE table SET column = value`` (every seeded table has one row), in its own
    transaction."""
    with engine.begin() as conn:
        conn.execute(text(f'UPDATE "{table}" SET "{column}" = :v'), {"v": value})


_VALUES = re.compile(r"'((?:[^']|'')*)'")


def enforced_checks(engine: Engine) -> dict[str, frozenset[str]]:
    """The value checks the database enforces: constraint name -> allowed values.

    PostgreSQL: its CHECK constraints. SQLite: the triggers of migration 0010
    (``<name>_insert`` and ``<name>_update``, which must agree) or, in a database made by
    ``create_all``, the CHECK clauses of the tables' own SQL.
    """
    found: dict[str, frozenset[str]] = {}
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            triggers = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            tables = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL")
            ).all()
        for name, sql in triggers:
            base, _, event = str(name).rpartition("_")
            assert event in ("insert", "update"), name
            when = str(sql).split("NOT IN", 1)[1].split(")", 1)[0]
            values = frozenset(v.replace("''", "'") for v in _VALUES.findall(when))
            assert found.setdefault(base, values) == values, f"{name} disagrees with its twin"
        for (sql,) in tables:
            for name, body in re.findall(r"CONSTRAINT (ck_\w+) CHECK \((.*?\))\)", str(sql)):
                found[name] = frozenset(_VALUES.findall(body))
        return found
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        for check in inspector.get_check_constraints(table):
            found[str(check["name"])] = frozenset(_VALUES.findall(str(check["sqltext"])))
    return found
