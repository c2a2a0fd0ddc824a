"""``referee config``, ``referee db upgrade`` and ``referee status``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from referee.cli.common import (
    EXIT_RUNTIME,
    emit_json,
    fail,
    load_settings,
    open_database,
    stdout,
    user_errors,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


def config(as_json: JsonOpt = False) -> None:
    """Print the effective settings (secrets masked)."""
    shown = load_settings().masked()
    if as_json:
        emit_json(shown)
        return
    table = Table("setting", "environment variable", "value", title="Referee configuration")
    for name, value in shown.items():
        table.add_row(name, f"REFEREE_{name.upper()}", "(unset)" if value is None else str(value))
    stdout.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending schema migration (Alembic upgrade to head)."""
    settings = load_settings()
    try:
        from referee.app.database import upgrade_database

        upgrade_database(settings.database_url)
    except Exception as exc:
        fail(f"migration failed: {str(exc).splitlines()[0]}", EXIT_RUNTIME)
    stdout.print(f"database {settings.masked()['database_url']} is at the newest schema")


def status(
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="One dataset (default: all).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Counts of pairs, labels by kind, judgments by judge and order, and decisions."""
    from referee.app.status import status as status_counts

    engine = open_database()
    with user_errors():
        counts = status_counts(engine, dataset)
    if as_json:
        emit_json(counts)
        return
    scope = f"dataset '{dataset}'" if dataset else f"{len(counts['datasets'])} dataset(s)"
    stdout.print(
        f"[bold]{scope}[/]: {counts['pairs']:,} pairs ({counts['frozen_eval_pairs']:,} frozen eval)"
    )
    labels = ", ".join(f"{k} {v:,}" for k, v in counts["labels"].items()) or "none"
    stdout.print(f"human labels: {labels}")
    if counts["judgments"]:
        table = Table("judge", "AB", "BA", title="judgments")
        for judge, orders in counts["judgments"].items():
            table.add_row(judge, f"{orders.get('AB', 0):,}", f"{orders.get('BA', 0):,}")
        stdout.print(table)
    else:
        stdout.print("judgments: none")
    decisions = ", ".join(f"{k} {v:,}" for k, v in counts["decisions"].items()) or "none"
    stdout.print(f"routing decisions: {decisions}")
    spot = counts["spot_check"]
    if spot and spot["n"]:
        stdout.print(
            f"accepted AI labels, from {spot['n']} answered spot check(s): "
            f"{spot['accuracy']:.1%} ({spot['confidence']:.0%} CI {spot['lower']:.1%}-"
            f"{spot['upper']:.1%}, {spot['method']})"
        )
    if counts["alarm"]:
        stdout.print(f"[bold red]warning:[/] {counts['alarm']}")
    for alarm in counts["drift_alarms"]:
        stdout.print(f"[bold red]drift alarm:[/] {alarm} (see 'referee drift')")


def register(app: typer.Typer) -> None:
    """Add config, db and status commands to ``app``."""
    app.command("config")(config)
    app.command("status")(status)
    app.add_typer(db_app, name="db")
