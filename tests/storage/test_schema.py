from __future__ import annotations

from sqlalchemy import Engine, inspect

from referee.db.engine import ensure_schema, schema_is_current


def test_schema_created_on_both_backends(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"pairs", "judgments", "human_labels", "audit_log", "alembic_version"} <= tables
    assert schema_is_current(engine)
    ensure_schema(engine)  # idempotent
    assert schema_is_current(engine)


def test_audit_log_is_append_only(engine: Engine) -> None:
    import pytest

    from referee.db.engine import transaction
    from referee.db.models import AuditEntry, AuditLogIsAppendOnly

    with transaction(engine) as session:
        session.add(AuditEntry(actor="t", action="a", entity="e", entity_id="1"))
    with pytest.raises(AuditLogIsAppendOnly), transaction(engine) as session:
        entry = session.query(AuditEntry).one()
        entry.action = "changed"
    with pytest.raises(AuditLogIsAppendOnly), transaction(engine) as session:
        session.delete(session.query(AuditEntry).one())
    with transaction(engine) as session:
        assert session.query(AuditEntry).one().action == "a"
