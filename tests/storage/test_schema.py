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


def test_upgrading_a_database_with_data_keeps_it(db_url: str) -> None:
    """A database made at 0003 (releases) with rows everywhere upgrades to head intact."""
    from alembic import command
    from sqlalchemy import text

    from referee.db.engine import alembic_config, make_engine

    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0003")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO datasets (id, name, created_at) VALUES (1, 'd', CURRENT_TIMESTAMP)")
        )
        conn.execute(
            text(
                "INSERT INTO pairs (id, dataset_id, prompt, response_a, response_b, meta, "
                "content_hash, frozen_eval, created_at) VALUES ('p1', 1, 'q', 'a', 'b', '{}', "
                "'h', false, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO reviewers (id, name, token_hash, active, created_at) "
                "VALUES (1, 'ann', 'x', true, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO review_assignments (pair_id, reviewer_id, queue, leased_at, "
                "lease_expires_at) VALUES ('p1', 1, 'review', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO human_labels (pair_id, annotator, label, kind, created_at) "
                "VALUES ('p1', 'ann', 'A', 'gold', CURRENT_TIMESTAMP)"
            )
        )
    ensure_schema(engine)
    assert schema_is_current(engine)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pairs")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM review_assignments")).scalar() == 1
        assert conn.execute(text("SELECT redaction_version FROM pairs")).scalar() is None
        assert conn.execute(text("SELECT redaction_required FROM datasets")).scalar() in (0, False)
    engine.dispose()
