"""What every CLI command shares: settings, the database, JSON output and one-line errors.

Conventions: reporting commands take ``--json`` and then print one JSON document on stdout and
nothing else; errors are one line on stderr, exit 2 for bad input, 1 for runtime failures.
"""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from referee.errors import EXIT_BAD_INPUT as EXIT_BAD_INPUT
from referee.errors import EXIT_RUNTIME as EXIT_RUNTIME
from referee.errors import RuntimeFailure as RuntimeFailure
from referee.errors import UserError as UserError
from referee.errors import exit_code_of as exit_code_of
from referee.settings import Settings, SettingsError
from referee.settings import load_settings as settings_from_environment

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from referee.review.final_labels import Aggregation
    from routing.embeddings import Embedder


JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AggregateOpt = Annotated[
    str,
    typer.Option(
        "--aggregate",
        help="How several people's answers become one label: majority (ties broken by gold-"
        "check accuracy, else unresolved), weighted (by gold-check accuracy) or dawid-skene.",
    ),
]

EmbedderChoice = Annotated[
    str,
    typer.Option(
        "--embedder",
        help="Embeddings for queue ordering: auto (MiniLM if installed, else TF-IDF), "
        "minilm or tfidf.",
    ),
]

stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def follow_terminal_width() -> None:
    """Size both consoles for this invocation: ``COLUMNS`` if set, else the terminal, else 80.

    rich reads ``COLUMNS`` once, when a console is built (here, at import), so a process that
    runs several commands (tests, the demo) would otherwise print every table at the first
    command's width."""
    columns = shutil.get_terminal_size((80, 24)).columns
    stdout.width = columns
    stderr.width = columns


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    stderr.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def parse_aggregate(value: str) -> Aggregation:
    """The ``--aggregate`` method, or a one-line error naming the methods there are."""
    from referee.review.final_labels import AGGREGATIONS

    if value not in AGGREGATIONS:
        fail(f"--aggregate {value!r}: use one of {', '.join(AGGREGATIONS)}")
    return value  # type: ignore[return-value]


def embedder_of(choice: str) -> Embedder:
    """The ``--embedder`` choice as an embedder (MiniLM loads on first use), or a one-line
    error naming the choices (or what MiniLM needs)."""
    from routing.embeddings import EmbeddingUnavailable, default_embedder

    try:
        return default_embedder(choice)
    except (ValueError, EmbeddingUnavailable) as exc:
        fail(str(exc))


def load_settings() -> Settings:
    """Settings from the environment; a refused value is a user error (one line per variable)."""
    try:
        return settings_from_environment()
    except SettingsError as exc:
        for line in exc.lines[:-1]:
            stderr.print(f"[bold red]error:[/] {line}", markup=True, highlight=False)
        fail(exc.lines[-1] if exc.lines else "invalid configuration")


def open_database(settings: Settings | None = None) -> Engine:
    """The configured database with its schema at the newest migration."""
    settings = settings or load_settings()
    try:
        from referee.db.engine import ensure_schema, make_engine  # not needed by `config`

        engine = make_engine(settings.database_url)
        ensure_schema(engine)
        if settings.vault_url and settings.vault_key:  # else the ORM stays unloaded (status)
            from referee.db.written_text import access_from_settings, enable_text_redaction

            # text written into a redacted dataset goes to the vault
            enable_text_redaction(
                engine, access_from_settings(settings.vault_url, settings.vault_key)
            )
    except OperationalError as exc:
        fail(
            f"cannot open database {settings.masked()['database_url']}: "
            f"{str(exc.orig).strip().splitlines()[0]} (check REFEREE_DATABASE_URL)",
            EXIT_RUNTIME,
        )
    except SQLAlchemyError as exc:
        fail(f"database error: {str(exc).splitlines()[0]}", EXIT_RUNTIME)
    except Exception as exc:  # e.g. unknown dialect in the URL
        fail(f"cannot use REFEREE_DATABASE_URL: {exc}", EXIT_BAD_INPUT)
    return engine


def emit_json(document: Any) -> None:
    """Print one JSON document on stdout (nothing else goes to stdout in --json mode)."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the errors raised inside into one-line exits (:data:`referee.errors.ERROR_TABLE`);
    a database error is a runtime failure. Anything else is a bug and propagates."""
    try:
        yield
    except SQLAlchemyError as exc:
        fail(f"database error: {str(exc).splitlines()[0]}", EXIT_RUNTIME)
    except Exception as exc:
        code = exit_code_of(exc)
        if code is None:
            raise
        fail(str(exc), code)


#: ``referee labels``: ``import`` comes from :mod:`referee.cli.ingest`, ``final`` from
#: :mod:`referee.cli.export`; each module adds its command here when imported.
labels_app = typer.Typer(help="Human labels.", no_args_is_help=True)


def add_labels_group(app: typer.Typer) -> None:
    """Add the ``labels`` group to ``app`` once, whichever module registers first."""
    if not any(group.typer_instance is labels_app for group in app.registered_groups):
        app.add_typer(labels_app, name="labels")
