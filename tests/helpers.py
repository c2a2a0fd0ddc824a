"""Helpers shared by tests: running the CLI and snapshotting a database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, select
from typer.testing import CliRunner, Result

from referee.cli.main import app


def run_cli(db_url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke ``referee ARGS`` in-process against the database at ``db_url``."""
    runner = CliRunner()
    return runner.invoke(
        app, list(args), env={"REFEREE_DATABASE_URL": db_url, **(env or {})}, catch_exceptions=False
    )


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but Alembic's), sorted: equal snapshots = unchanged database."""
    meta = MetaData()
    meta.reflect(engine)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            if name == "alembic_version":
                continue
            rows = conn.execute(select(table)).all()
            out[name] = sorted(tuple(map(repr, row)) for row in rows)
    return out


def grant_every_dataset(session: Any, reviewer: Any) -> None:
    """Make ``reviewer`` a member of every dataset that exists now (tests that are not about
    dataset membership; :mod:`referee.review.membership`)."""
    from referee.db.models import Dataset, DatasetMember

    for dataset_id in session.scalars(select(Dataset.id)):
        if session.get(DatasetMember, (reviewer.id, dataset_id)) is None:
            session.add(DatasetMember(reviewer_id=reviewer.id, dataset_id=dataset_id))
    session.flush()
