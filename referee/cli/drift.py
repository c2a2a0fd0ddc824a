"""``referee drift``: accuracy and agreement over time windows, with a drift alarm.

The figures and the test are documented in :mod:`referee.reports.drift` and
:mod:`calibration.drift`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer
from rich.table import Table

from referee.app.drift import drift as drift_document
from referee.cli.common import emit_json, fail, open_database, stdout, user_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _rate(series: dict[str, Any]) -> str:
    if not series["n"]:
        return "-"
    return f"{series['rate']:.1%} ({series['successes']}/{series['n']})"


def _windows(series: dict[str, Any]) -> str:
    return (
        " → ".join(f"{w['rate']:.0%}" if w["rate"] is not None else "-" for w in series["windows"])
        or "-"
    )


def _test(series: dict[str, Any]) -> str:
    test = series["test"]
    if test is None:
        return "too few"
    return f"p={test['p_value']:.3f}" + (" [bold red]ALARM[/]" if test["alarm"] else "")


def drift(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset name.")],
    window: Annotated[
        int, typer.Option("--window", min=1, help="Outcomes per window (counted from the newest).")
    ] = 20,
    alpha: Annotated[
        float, typer.Option("--alpha", help="Level of the one-sided test of the latest window.")
    ] = 0.05,
    as_json: JsonOpt = False,
) -> None:
    """Each reviewer's gold accuracy and agreement, and accepted-AI accuracy, over time."""
    if math.isnan(alpha) or not 0.0 < alpha < 1.0:
        fail(f"--alpha {alpha}: use a level between 0 and 1 (e.g. 0.05)")
    engine = open_database()
    with user_errors():
        doc = drift_document(engine, dataset, window=window, alpha=alpha)
    if as_json:
        emit_json(doc)
        return
    stdout.print(
        f"[bold]drift[/] in '{dataset}': {doc['window_definition']}; {doc['test']}, "
        f"alarm at p < {alpha}"
    )
    table = Table("reviewer", "measure", "overall", "windows (oldest → newest)", "latest window")
    table.columns[0].no_wrap = True
    for row in doc["reviewers"]:
        for key, name in (("gold", "gold accuracy"), ("agreement", "agreement")):
            series = row[key]
            if series["n"]:
                table.add_row(row["reviewer"], name, _rate(series), _windows(series), _test(series))
    spot = doc["spot_check"]["over_time"]
    if spot["n"]:
        table.add_row("(AI labels)", "spot checks", _rate(spot), _windows(spot), _test(spot))
    stdout.print(table if table.rows else "no answers yet: nothing to track over time")
    est = doc["spot_check"]["estimate"]
    if est["n"]:
        stdout.print(
            f"accepted AI labels, from {est['n']} answered spot check(s): {est['accuracy']:.1%} "
            f"({est['confidence']:.0%} CI {est['lower']:.1%}-{est['upper']:.1%}, {est['method']})"
        )
    for alarm in doc["alarms"]:
        stdout.print(f"[bold red]drift alarm:[/] {alarm}")


def register(app: typer.Typer) -> None:
    """Add ``drift`` to ``app``."""
    app.command("drift")(drift)
