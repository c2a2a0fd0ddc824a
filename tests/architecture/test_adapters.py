"""Adapters are thin (``docs/architecture.md``): a CLI command or an API handler parses its
input, calls one application function (``referee/app``, or a service of ``referee/review``),
and prints or answers. Two rules keep that true on every module of ``referee/cli`` and
``referee/api``:

* **no queries**: an adapter may hold the handles it passes on (an ``Engine``, a ``Session``,
  a ``Connection``) and translate the database's errors (``sqlalchemy.exc``), but imports no
  other SQLAlchemy name, neither the ORM models (``referee.db.models``) nor the tables
  (``referee.db.tables``), and calls no query (``select(...)``, ``session.execute(...)``, ...);
* **no unit of work**: an adapter opens no session, transaction or engine itself
  (``transaction(...)``, ``session_factory(...)``, ``make_engine(...)``, ``engine.connect()``...);
  the application function it calls does (``referee/app``; the API's per-request transactions:
  :mod:`referee.app.review_api`), given the engine. The exceptions are listed in
  :data:`OPENS_ITS_OWN`, each with its reason;
* **no CLI module imports another**, except the shared ones: ``referee.cli.common`` (settings,
  the database, JSON output, one-line errors), ``referee.cli.main`` (the app) and
  ``referee.cli.lazy`` (the command table).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ADAPTERS = ("referee/cli", "referee/api")
# being rewritten by #24/#22 (calibrate streams and moves to referee/app; ingest and review
# gain conversation options); the lead removes this exclusion at merge
BEING_REWRITTEN: set[str] = set()
MODULES = sorted(
    str(path.relative_to(REPO))
    for folder in ADAPTERS
    for path in (REPO / folder).rglob("*.py")
    if str(path.relative_to(REPO)) not in BEING_REWRITTEN
)
HANDLES = {"Engine", "Session", "Connection"}
NO_MODULES = ("referee.db.models", "referee.db.tables")
QUERY_CALLS = {"select", "insert", "update", "delete", "text", "exists"}
QUERY_METHODS = {"execute", "scalar", "scalars", "get_one", "query"}
SHARED_CLI = {"referee.cli.common", "referee.cli.main", "referee.cli.lazy"}
# what opens a session, a transaction or an engine (called by name or as a method)
OPENERS = {
    "transaction", "session_factory", "sessionmaker", "Session", "make_engine", "create_engine",
    "connect", "begin",
}  # fmt: skip
#: (module, opener) -> why that adapter may open it itself
OPENS_ITS_OWN: dict[tuple[str, str], str] = {
    ("referee/cli/common.py", "make_engine"): "open_database: the one place the CLI builds "
    "its engine from the settings, shared by every command",
}


def _imports(tree: ast.AST) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) of every import, lazy ones included."""
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.module, [alias.name for alias in node.names], node.lineno))
    return found


def _storage_problems(path: str, tree: ast.AST) -> list[str]:
    problems = []
    for module, names, line in _imports(tree):
        where = f"{path}:{line}"
        if module.startswith(NO_MODULES):
            problems.append(f"{where} imports {module}")
        elif module in ("sqlalchemy", "sqlalchemy.orm", "sqlalchemy.engine"):
            if not names or set(names) - HANDLES:
                problems.append(f"{where} imports {module} {sorted(set(names) - HANDLES)}")
        elif module.startswith("sqlalchemy") and not module.startswith("sqlalchemy.exc"):
            problems.append(f"{where} imports {module}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in QUERY_CALLS:
            problems.append(f"{path}:{node.lineno} calls {func.id}(...)")
        if isinstance(func, ast.Attribute) and func.attr in QUERY_METHODS:
            problems.append(f"{path}:{node.lineno} calls .{func.attr}(...)")
    return problems


@pytest.mark.parametrize("path", MODULES)
def test_adapter_runs_no_query(path: str) -> None:
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    assert _storage_problems(path, tree) == []


def _opened(path: str, tree: ast.AST) -> list[str]:
    """Where ``tree`` opens a session, transaction or engine that OPENS_ITS_OWN does not allow."""
    problems = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in OPENERS and (path, name) not in OPENS_ITS_OWN:
            problems.append(f"{path}:{node.lineno} calls {name}(...)")
    return problems


@pytest.mark.parametrize("path", MODULES)
def test_adapter_opens_no_session_or_engine(path: str) -> None:
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    assert _opened(path, tree) == []


def test_every_listed_exception_is_still_needed() -> None:
    """An exception a module no longer needs is taken off the list (it would hide a relapse)."""
    unused = [
        f"{path} {name}"
        for path, name in OPENS_ITS_OWN
        if f"calls {name}(" not in " ".join(_opened("?", ast.parse((REPO / path).read_text())))
    ]
    assert unused == []


@pytest.mark.parametrize("path", [m for m in MODULES if m.startswith("referee/cli/")])
def test_cli_module_imports_no_other_command(path: str) -> None:
    tree = ast.parse((REPO / path).read_text(encoding="utf-8"))
    others = [
        f"{path}:{line} imports {module}"
        for module, names, line in _imports(tree)
        for target in [module] + [f"{module}.{name}" for name in names if module == "referee.cli"]
        if target.startswith("referee.cli.") and target not in SHARED_CLI
    ]
    assert others == []


def test_the_rules_see_a_violation() -> None:
    """The checks above find what they look for (a check that finds nothing proves nothing)."""
    bad = ast.parse(
        "from sqlalchemy import Engine, select\nfrom referee.db.models import Pair\n"
        "def f(session):\n    return session.scalar(select(Pair))\n"
    )
    assert len(_storage_problems("x.py", bad)) == 4
    fine = ast.parse("from sqlalchemy import Engine\nfrom sqlalchemy.exc import SQLAlchemyError\n")
    assert _storage_problems("x.py", fine) == []
    opens = ast.parse(
        "def f(engine):\n    with transaction(engine) as s, session_factory(engine)() as t:\n"
        "        pass\n    engine.connect()\n    make_engine('sqlite://')\n"
    )
    assert len(_opened("x.py", opens)) == 4
    assert _opened("x.py", ast.parse("def f(engine):\n    return app_function(engine)\n")) == []
