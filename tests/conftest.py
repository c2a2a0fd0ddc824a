"""Shared fixtures: databases (SQLite and a throw-away PostgreSQL database), Redis, real data.

Tests that need PostgreSQL or Redis skip when the service is unreachable, unless the environment
says ``REQUIRE_SERVICES=1`` (CI does), in which case they fail.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
# The CLI's rich consoles take their width from COLUMNS, else from whatever terminal the test
# process happens to have (none under CI's </dev/null or an xdist worker: 80). One fixed width
# makes table output the same in every run (120: wide enough for every table the tests read).
# (Tables that fit 80 columns are issue #25's own item, not this pin's.)
os.environ["COLUMNS"] = "120"

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis  # noqa: F401  (see below)
import pytest
from sqlalchemy import Engine, text

from referee.db.engine import ensure_schema, make_engine

# hypothesis is imported here, before any test runs: its pytest plugin otherwise imports it at the
# end of a run that used no hypothesis test, and on CPython 3.11 that late import (rewritten by
# pytest, so parsed with ast) can fail with "AST constructor recursion depth mismatch" after
# litellm's logging worker is torn down, turning a green run red.

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
PG_ADMIN_URL = os.environ.get("REFEREE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("REFEREE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    """True when missing services must fail the run instead of skipping tests."""
    return os.environ.get("REQUIRE_SERVICES", "") == "1"


def service_missing(what: str) -> None:
    """Skip the calling test, or fail it under REQUIRE_SERVICES=1."""
    if services_required():
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but unreachable")
    pytest.skip(f"{what} unreachable")


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real preference data beside the repository (../shared/data)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} not present")
    return SHARED_DATA


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file URL."""
    return f"sqlite:///{tmp_path / 'referee.db'}"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    if not port_open("127.0.0.1", 5432):
        service_missing("PostgreSQL at 127.0.0.1:5432")
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    name = f"referee_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # pragma: no cover - depends on the machine
        admin.dispose()
        service_missing(f"PostgreSQL ({exc.__class__.__name__}: {exc})")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'referee.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database (SQLite and PostgreSQL) with the schema at head."""
    eng = make_engine(db_url)
    ensure_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """An engine on a fresh SQLite file with the schema at head."""
    eng = make_engine(sqlite_url)
    ensure_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def redis_url() -> str:
    """The local Redis, skipped (or failed under REQUIRE_SERVICES=1) when unreachable."""
    if not port_open("127.0.0.1", 6379):
        service_missing("Redis at 127.0.0.1:6379")
    return REDIS_URL


# -- the run as a whole: no stray processes, no hang after the last test -------------------------

from tests.session_guard import arm_exit_watchdog, kill_strays, mark_session  # noqa: E402

_SESSION_MARK = mark_session()


@pytest.hookimpl(trylast=True)  # after session fixtures are torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Kill processes the tests left behind (reported), and bound the interpreter's exit."""
    strays = kill_strays(_SESSION_MARK)
    if strays:
        print("\nkilled processes the tests left running:\n  " + "\n  ".join(strays))
    arm_exit_watchdog(int(exitstatus))
