from __future__ import annotations

from sqlalchemy import Engine, inspect

from referee.db.engine import ensure_schema, schema_is_current


def test_schema_created_on_both_backends(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"pairs", "judgments", "human_labels", "audit_log", "alembic_version"} <= tables
    assert schema_is_current(engine)
    ensure_schema(engine)  # idempotent
    assert schema_is_current(engine)
