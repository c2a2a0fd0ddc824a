"""Enumerated string columns (statuses, queues, labels, kinds, roles) refuse unknown values, on
SQLite and PostgreSQL, whether the schema was migrated or made by ``create_all``."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from types import ModuleType
from typing import Any, get_args

import pytest
from alembic import command
from sqlalchemy import CheckConstraint, Engine, insert, text
from sqlalchemy.exc import IntegrityError

from referee.db import vocab
from referee.db.engine import MIGRATIONS_DIR, alembic_config, make_engine, schema_is_current
from referee.db.models import Base
from referee.errors import RuntimeFailure
from tests.storage.vocab_data import enforced_checks, seed, set_value

DECLARED = {c.name: frozenset(c.values) for c in vocab.ENUMERATED_COLUMNS}


def load_migration_0010() -> ModuleType:
    path = MIGRATIONS_DIR / "versions" / "0010_vocabulary_checks.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["migrated", "create_all"])
def seeded(request: pytest.FixtureRequest, db_url: str) -> Iterator[Engine]:
    """A database with one valid row per table, its schema made by Alembic or by the models."""
    engine = make_engine(db_url)
    if request.param == "migrated":
        command.upgrade(alembic_config(engine), "head")
    else:
        Base.metadata.create_all(engine)
    with engine.begin() as conn:
        seed(conn)
    yield engine
    engine.dispose()


def test_models_declare_one_check_per_enumerated_column() -> None:
    declared = {
        (table.name, c.name): str(c.sqltext)
        for table in Base.metadata.tables.values()
        for c in table.constraints
        if isinstance(c, CheckConstraint)
    }
    assert declared == {(c.table, c.name): c.condition for c in vocab.ENUMERATED_COLUMNS}
    for c in vocab.ENUMERATED_COLUMNS:  # every listed column exists
        assert c.column in Base.metadata.tables[c.table].c, c


def test_vocabularies_agree_with_the_domain_ones() -> None:
    from routing import decisions

    assert vocab.DECISION_KINDS == decisions.DECISION_KINDS
    assert get_args(vocab.Source) == get_args(decisions.Source)
    assert vocab.LABELS == ("A", "B", "tie", "both_bad")
    assert set(vocab.LABEL_KINDS) < set(vocab.HUMAN_LABEL_KINDS)
    queues = {*vocab.REVIEW_QUEUES, *vocab.ESCALATION_QUEUES, "gold"}
    assert set(get_args(vocab.AssignmentQueue)) == queues == set(vocab.ASSIGNMENT_QUEUES)
    assert vocab.quoted(("it's",)) == "'it''s'"


def test_migration_0010_freezes_the_same_values_as_the_models() -> None:
    """Widening a vocabulary needs a new migration: this fails until there is one."""
    frozen = load_migration_0010().CHECKS
    assert frozen == {(c.table, c.column): c.values for c in vocab.ENUMERATED_COLUMNS}


def test_migrated_database_enforces_what_the_models_declare(engine: Engine) -> None:
    assert enforced_checks(engine) == DECLARED


def test_create_all_database_enforces_what_the_models_declare(db_url: str) -> None:
    engine = make_engine(db_url)
    Base.metadata.create_all(engine)
    try:
        assert enforced_checks(engine) == DECLARED
    finally:
        engine.dispose()


def test_every_enumerated_column_refuses_an_unknown_value(seeded: Engine) -> None:
    for c in vocab.ENUMERATED_COLUMNS:
        with pytest.raises(IntegrityError, match=c.name):
            set_value(seeded, c.table, c.column, "x")  # short: fits String(2)
        with seeded.connect() as conn:  # the refused update changed nothing
            stored = conn.execute(text(f'SELECT "{c.column}" FROM "{c.table}"')).scalar_one()
        assert stored in c.values, (c, stored)


def test_every_allowed_value_and_null_is_accepted(seeded: Engine) -> None:
    for c in vocab.ENUMERATED_COLUMNS:
        for value in c.values:
            set_value(seeded, c.table, c.column, value)
        column = Base.metadata.tables[c.table].c[c.column]
        if column.nullable:
            set_value(seeded, c.table, c.column, None)
    with seeded.connect() as conn:
        assert conn.execute(text("SELECT status FROM jobs")).scalar_one() == "interrupted"
        assert conn.execute(text("SELECT winner FROM judgments")).scalar_one() is None


@pytest.mark.parametrize(
    ("table", "values", "constraint"),
    [
        ("jobs", {"id": 2, "dataset_id": 1, "status": "finished"}, "ck_jobs_status"),
        (
            "human_labels",
            {"pair_id": "p1", "annotator": "bob", "label": "A", "kind": "expert"},
            "ck_human_labels_kind",
        ),
        (
            "judgments",
            {"pair_id": "p1", "judge": "k", "order": "ab", "prompt_version": "v"},
            "ck_judgments_order",
        ),
    ],
)
def test_inserting_an_unknown_value_is_refused(
    seeded: Engine, table: str, values: dict[str, Any], constraint: str
) -> None:
    with pytest.raises(IntegrityError, match=constraint), seeded.begin() as conn:
        conn.execute(insert(Base.metadata.tables[table]).values(**values))
    with seeded.begin() as conn:  # the same row with an allowed value goes in
        fixed = {**values, **{k: v for k, v in _ALLOWED.items() if k in values}}
        conn.execute(insert(Base.metadata.tables[table]).values(**fixed))


_ALLOWED = {"status": "done", "kind": "review", "order": "BA"}


def test_upgrading_a_0009_database_with_data_adds_the_checks(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config(engine)
    command.upgrade(config, "0009")
    with engine.begin() as conn:
        seed(conn)
    command.upgrade(config, "head")
    try:
        assert schema_is_current(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM jobs")).scalar_one() == "running"
            assert conn.execute(text("SELECT queue FROM review_assignments")).scalar_one() == (
                "spot_check"
            )
        assert enforced_checks(engine) == DECLARED
        with pytest.raises(IntegrityError, match="ck_job_items_status"):
            set_value(engine, "job_items", "status", "running")
        command.downgrade(config, "0009")  # and back: the checks go, the data stays
        assert enforced_checks(engine) == {}
        set_value(engine, "job_items", "status", "running")
    finally:
        engine.dispose()


def test_upgrade_refuses_existing_rows_outside_the_vocabulary(db_url: str) -> None:
    engine = make_engine(db_url)
    config = alembic_config(engine)
    command.upgrade(config, "0009")
    with engine.begin() as conn:
        seed(conn)
        conn.execute(
            insert(Base.metadata.tables["jobs"]).values(
                [{"id": 2, "dataset_id": 1, "status": "bogus"}, {"id": 3, "dataset_id": 1}]
            )
        )
        conn.execute(text("UPDATE jobs SET status = 'bogus' WHERE id = 3"))
        conn.execute(text("UPDATE review_assignments SET queue = 'triage'"))
    try:
        with pytest.raises(RuntimeFailure) as refused:
            command.upgrade(config, "head")
        message = str(refused.value)
        assert "jobs.status holds 'bogus' (2 rows;" in message
        assert "review_assignments.queue holds 'triage' (1 row;" in message
        assert "allowed: review, spot_check, adjudication, incident, gold" in message
        assert "human_labels" not in message  # clean columns are not named
        with engine.connect() as conn:  # nothing changed: still at 0009, no checks
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == (
                "0009"
            )
        assert enforced_checks(engine) == {}
    finally:
        engine.dispose()
