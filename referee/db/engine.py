"""Engines, sessions and schema creation (Alembic upgrade to head) for SQLite and PostgreSQL.

Importing this module costs SQLAlchemy Core only: the ORM (sessions) and Alembic (migrating) are
imported by the functions that use them, so ``referee status`` checks the schema and counts rows
without either.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_REVISION = re.compile(r'^revision: str = "([^"]+)"', re.MULTILINE)
_DOWN_REVISION = re.compile(r'^down_revision: str \| None = "([^"]+)"', re.MULTILINE)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` and ``postgres://`` URLs; leave others alone."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys and a busy timeout on every connection."""
    url = normalise_url(url)
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at the packaged migrations, bound to ``engine``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


@cache
def migration_heads() -> frozenset[str]:
    """Head revisions of the packaged migrations, read from the files' text (no import).

    Every migration file declares ``revision: str = "..."`` and ``down_revision: str | None =
    "..."``; the heads are the revisions no other file names as its down revision. Reading the
    text keeps Alembic out of commands that only check the schema (``status`` starts faster).
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        body = path.read_text(encoding="utf-8")
        revision = _REVISION.search(body)
        if revision is None:
            continue
        revisions.add(revision.group(1))
        parents.update(_DOWN_REVISION.findall(body))
    return frozenset(revisions - parents)


def schema_is_current(engine: Engine) -> bool:
    """True when the database is at the newest migration."""
    try:
        with engine.connect() as conn:
            current = {
                row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))
            }
    except SQLAlchemyError:  # no alembic_version table yet: an empty database
        return False
    return current == set(migration_heads())


def upgrade_schema(engine: Engine) -> None:
    """Run every pending Alembic migration (creates the schema on an empty database)."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


_SCHEMA_LOCK_KEY = 0x5245_4645  # "REFE": PostgreSQL advisory lock held while migrating


def ensure_schema(engine: Engine) -> None:
    """Upgrade to head unless the database is already there (cheap check first).

    Safe when several processes start at once on a fresh database (two workers, say): on
    PostgreSQL they queue on an advisory lock and re-check; on SQLite a loser of the race finds
    the schema created by the winner and carries on.
    """
    if schema_is_current(engine):
        return
    if engine.dialect.name == "postgresql":
        with engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
            try:
                if not schema_is_current(engine):
                    upgrade_schema(engine)
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _SCHEMA_LOCK_KEY})
                lock.commit()
        return
    try:
        upgrade_schema(engine)
    except Exception:
        # another process may be creating the same schema: give it time to commit
        for _ in range(60):
            time.sleep(0.5)
            try:
                if schema_is_current(engine):
                    return
            except Exception:  # its transaction may still hold the file
                continue
        raise


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit; every flush redacts the text
    written into a redacted dataset (:mod:`referee.db.written_text`) and notes changes of what
    a review queue holds (:mod:`referee.db.queue_generation`)."""
    from sqlalchemy.orm import sessionmaker

    # registered by importing: the queue generation hooks and the redaction flush hook
    import referee.db.queue_generation
    import referee.db.written_text  # noqa: F401

    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session in one transaction: committed on success, rolled back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session
