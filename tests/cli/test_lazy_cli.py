"""Commands load on demand: ``--help`` and light commands import no heavy library."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import typer

from referee.cli.lazy import COMMANDS

MODULES = sorted({m for modules, _ in COMMANDS.values() for m in modules})
HEAVY = ("sklearn", "litellm", "instructor", "celery", "scipy", "torch", "openai", "aiohttp")


def test_the_table_lists_exactly_the_commands_the_modules_register() -> None:
    app = typer.Typer()
    for name in MODULES:
        importlib.import_module(f"referee.cli.{name}").register(app)
    group = typer.main.get_group(app)
    assert set(group.commands) == set(COMMANDS)
    assert set(group.commands["labels"].commands) >= {"import", "final"}  # type: ignore[attr-defined]


def _imported_after(tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    script = (
        "import sys\n"
        "from referee.cli.main import app\n"
        "from typer.testing import CliRunner\n"
        f"result = CliRunner().invoke(app, {list(args)!r})\n"
        "print(result.exit_code)\n"
        "import json\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"REFEREE_DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    code, modules = done.stdout.strip().splitlines()[-2:]
    return int(code), json.loads(modules)


def test_help_imports_no_command_module(tmp_path: Path) -> None:
    code, modules = _imported_after(tmp_path, "--help")
    assert code == 0
    assert not [m for m in modules if m.startswith("referee.cli.") and m not in (
        "referee.cli.main", "referee.cli.lazy",
    )]  # fmt: skip
    assert not [m for m in modules if m.split(".")[0] in (*HEAVY, "sqlalchemy")]


def test_status_and_config_import_no_heavy_library(tmp_path: Path) -> None:
    for command in ("status", "config", "jobs"):
        code, modules = _imported_after(tmp_path, command)
        assert code == 0
        heavy = sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})
        assert heavy == [], (command, heavy)


def test_job_show_imports_no_heavy_library(tmp_path: Path) -> None:
    code, modules = _imported_after(tmp_path, "job", "1")
    assert code == 2  # no such job: bad input
    heavy = sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})
    assert heavy == []
    assert not [m for m in modules if m.startswith(("judge.pipeline", "workers.chunk"))]


#: what the read-only commands do without: the ORM and the models (their queries use the light
#: ``referee.db.tables``), Alembic (the schema check reads the migrations' text), the settings
#: library (``referee.settings`` checks values itself) and the job machinery (no job is running)
LIGHT_PATH_SKIPS = (
    "sqlalchemy.orm",
    "referee.db.models",
    "alembic",
    "pydantic_settings",
    "dotenv",
    "workers.jobs",
    "referee.jobs.store",
    "numpy",
)


def test_read_only_commands_load_no_orm_alembic_or_settings_library(tmp_path: Path) -> None:
    assert _imported_after(tmp_path, "db", "upgrade")[0] == 0  # a new database migrates first
    for args in (["status"], ["status", "--json"], ["config"], ["jobs"], ["job", "1"]):
        code, modules = _imported_after(tmp_path, *args)
        assert code == (2 if args[0] == "job" else 0), args
        loaded = sorted(
            m for m in modules if any(m == s or m.startswith(s + ".") for s in LIGHT_PATH_SKIPS)
        )
        assert loaded == [], (args, loaded)


def test_the_cli_default_chunk_size_is_the_workers_one() -> None:
    from referee.cli.jobs import DEFAULT_CHUNK_SIZE
    from workers.jobs import DEFAULT_CHUNK_SIZE as WORKERS_DEFAULT

    assert DEFAULT_CHUNK_SIZE == WORKERS_DEFAULT


def test_unknown_command_is_refused(tmp_path: Path) -> None:
    code, _ = _imported_after(tmp_path, "nope")
    assert code == 2
