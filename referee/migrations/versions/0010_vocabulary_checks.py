"""CHECK constraints on every enumerated string column (statuses, queues, labels, kinds, roles)

Revision ID: 0010
Revises: 0009

PostgreSQL gets real CHECK constraints. SQLite cannot add a constraint to an existing table
(``ALTER TABLE ... ADD CONSTRAINT`` does not exist) and a batch copy of these tables would break
the foreign keys of the tables that point at them, so on SQLite each constraint is two triggers
(before insert, before update of the column) that abort with ``CHECK constraint failed: NAME``,
as a real CHECK would; both raise ``IntegrityError``. NULL passes, as it does a CHECK.

Rows that already break a constraint stop the upgrade before anything changes, with every table,
column and offending value named: nothing has ever written other values, so such a row is
damage for a person to look at, not something to map silently.

The values are frozen here (a migration must mean the same thing forever); the models build the
same constraints from :mod:`referee.db.vocab`, and ``tests/storage/test_vocab.py`` checks that a
migrated database enforces exactly what the models declare.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from referee.errors import RuntimeFailure

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LABELS = ("A", "B", "tie", "both_bad")

CHECKS: dict[tuple[str, str], tuple[str, ...]] = {
    ("human_labels", "label"): _LABELS,
    ("human_labels", "kind"): ("gold", "review", "spot_check", "adjudication", "incident"),
    ("human_labels", "strength"): ("slight", "much"),
    ("judgments", "order"): ("AB", "BA"),
    ("judgments", "winner"): _LABELS,
    ("judgments", "status"): ("ok", "unparseable", "failed"),
    ("jobs", "kind"): ("prelabel",),
    ("jobs", "status"): (
        "pending",
        "running",
        "done",
        "partial",
        "failed",
        "cancelled",
        "interrupted",
    ),
    ("job_items", "status"): ("pending", "done", "failed"),
    ("routing_decisions", "decision"): ("auto_accept", "human_review", "spot_check", "frozen_eval"),
    ("routing_decisions", "label"): _LABELS,
    ("routing_decisions", "source"): ("ai", "human"),
    ("reviewers", "role"): ("reviewer", "lead", "expert", "incident"),
    ("review_assignments", "queue"): ("review", "spot_check", "adjudication", "incident", "gold"),
    ("review_assignments", "ai_label"): _LABELS,
    ("review_assignments", "ai_shown"): _LABELS,
    ("review_configs", "require_rationale"): ("never", "both_bad", "always"),
    ("escalations", "queue"): ("adjudication", "incident"),
    ("escalations", "status"): ("open", "resolved", "withdrawn"),
    ("escalations", "resolution"): _LABELS,
    ("review_queue_items", "queue"): ("review", "spot_check"),
}
"""(table, column) -> the values the column may hold (or NULL)."""

_SHOWN = 10  # offending values named per column


def _quoted(values: Sequence[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _condition(column: str, values: Sequence[str]) -> str:
    return f'"{column}" IN ({_quoted(values)})'


def _violations(bind: sa.Connection) -> list[str]:
    """One ``table.column holds 'x', 'y' (N rows)`` line per column with values outside its list."""
    found: list[str] = []
    for (table, column), values in CHECKS.items():
        rows = bind.execute(
            sa.text(
                f'SELECT "{column}", count(*) FROM "{table}" WHERE "{column}" IS NOT NULL '
                f'AND "{column}" NOT IN ({_quoted(values)}) GROUP BY "{column}" ORDER BY "{column}"'
            )
        ).all()
        if rows:
            bad = ", ".join(repr(str(value)) for value, _ in rows[:_SHOWN])
            more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
            n = sum(int(count) for _, count in rows)
            found.append(
                f"{table}.{column} holds {bad}{more} ({n} row{'s' * (n != 1)}; "
                f"allowed: {', '.join(values)})"
            )
    return found


def _sqlite_triggers(table: str, column: str, values: Sequence[str]) -> list[str]:
    name = f"ck_{table}_{column}"
    message = (
        f"CHECK constraint failed: {name} ({table}.{column} must be one of {', '.join(values)})"
    )
    raise_ = f"SELECT RAISE(ABORT, '{message}')"
    when = f'WHEN NEW."{column}" NOT IN ({_quoted(values)})'
    return [
        f'CREATE TRIGGER "{name}_insert" BEFORE INSERT ON "{table}" {when} BEGIN {raise_}; END',
        f'CREATE TRIGGER "{name}_update" BEFORE UPDATE OF "{column}" ON "{table}" {when} '
        f"BEGIN {raise_}; END",
    ]


def upgrade() -> None:
    bind = op.get_bind()
    bad = _violations(bind)
    if bad:
        raise RuntimeFailure(
            "cannot add the value checks of migration 0010: existing rows hold values outside "
            "their column's vocabulary; correct or delete them, then upgrade again: "
            + "; ".join(bad)
        )
    for (table, column), values in CHECKS.items():
        if bind.dialect.name == "sqlite":
            for statement in _sqlite_triggers(table, column, values):
                op.execute(statement)
        else:
            op.create_check_constraint(f"ck_{table}_{column}", table, _condition(column, values))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, column in reversed(list(CHECKS)):
        name = f"ck_{table}_{column}"
        if sqlite:
            op.execute(f'DROP TRIGGER IF EXISTS "{name}_update"')
            op.execute(f'DROP TRIGGER IF EXISTS "{name}_insert"')
        else:
            op.drop_constraint(name, table, type_="check")
