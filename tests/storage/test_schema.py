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


def test_concurrent_first_start_creates_schema_once(db_url: str) -> None:
    """Three processes starting at once on an empty database (e.g. two workers and a CLI)."""
    import subprocess
    import sys

    from referee.db.engine import make_engine

    code = (
        "import sys; from referee.db.engine import make_engine, ensure_schema; "
        "ensure_schema(make_engine(sys.argv[1]))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url], stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0, 0, 0], results
    assert schema_is_current(make_engine(db_url))


def test_heads_read_from_the_files_are_alembics_heads(sqlite_engine: Engine) -> None:
    from alembic.script import ScriptDirectory

    from referee.db.engine import alembic_config, migration_heads

    script = ScriptDirectory.from_config(alembic_config(sqlite_engine))
    assert set(migration_heads()) == set(script.get_heads())
    assert len(migration_heads()) == 1
