"""``referee route``: one routing decision per pair from the calibrated policy."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from referee.app.route import route_command
from referee.cli.common import emit_json, fail, open_database, stdout, user_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def route(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset whose pairs to route.")],
    policy: Annotated[
        str, typer.Option("--policy", help="Policy version to apply: latest or a number.")
    ] = "latest",
    spot_check_rate: Annotated[
        float,
        typer.Option("--spot-check-rate", help="Share of auto-accepted pairs sent to spot check."),
    ] = 0.05,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the spot-check draw.")] = 0,
    stratify: Annotated[
        bool,
        typer.Option(
            "--stratify/--no-stratify",
            help="Stratify spot checks by confidence (more checks where it is lower).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write one JSON line per pair to this file.", dir_okay=False),
    ] = None,
    recalibrate: Annotated[
        bool,
        typer.Option(
            "--recalibrate",
            help="Tighten the threshold first if spot checks show accuracy below the target.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Route every pair: auto_accept, human_review (with reasons), spot_check or frozen_eval."""
    if math.isnan(spot_check_rate) or not 0.0 <= spot_check_rate <= 1.0:
        fail(f"--spot-check-rate {spot_check_rate}: use a share between 0 and 1 (e.g. 0.05)")
    if out is not None and not out.parent.is_dir():
        fail(f"--out {out}: folder {out.parent} does not exist")
    engine = open_database()
    with user_errors():
        summary = route_command(
            engine,
            dataset,
            policy=policy,
            spot_check_rate=spot_check_rate,
            seed=seed,
            stratify=stratify,
            recalibrate=recalibrate,
            out=out,
        )
    recal = summary["recalibration"]
    if as_json:
        emit_json(summary)
        return
    _print_summary(summary, recal)


def _print_summary(summary: dict[str, Any], recal: dict[str, Any] | None) -> None:
    if recal is not None:
        if recal["new_version"] is not None:
            stdout.print(
                f"[bold]recalibrated:[/] policy v{recal['from_version']} -> "
                f"v{recal['new_version']} (threshold {recal['new_threshold']:.4f}): {recal['why']}"
            )
        else:
            stdout.print(f"[bold]recalibration:[/] no change ({recal['why']})")
    threshold = summary["threshold"]
    shown = f"{threshold:.4f}" if threshold is not None else "none certified (accept nothing)"
    if summary["cascade"]:
        shown = "cascade " + " -> ".join(
            f"{'+'.join(s['judges'])} "
            + (f"≥ {s['threshold']:.4f}" if s["threshold"] is not None else "accepts nothing")
            for s in summary["cascade"]
        )
    stdout.print(
        f"routed {summary['pairs']:,} pairs of '{summary['dataset']}' with policy "
        f"v{summary['policy_version']} (threshold {shown})"
    )
    table = Table("decision", "pairs", "share", title="decisions")
    total = max(summary["pairs"], 1)
    for kind, n in summary["decisions"].items():
        table.add_row(kind, f"{n:,}", f"{n / total:.1%}")
    stdout.print(table)
    reasons = Table(
        "reason",
        "sent to people",
        "flag only",
        title="reasons (a pair may have several; a flag describes a pair without gating it)",
    )
    for reason in summary["reasons"]:
        gate, flag = summary["gates"][reason], summary["flags"][reason]
        if gate or flag:
            reasons.add_row(reason, f"{gate:,}", f"{flag:,}")
    stdout.print(reasons)
    stdout.print(
        "[dim]tie: AI label tie, or the panel's verdicts tied in both orders (A first and B "
        "first)[/]"
    )
    gold = summary["gold_pairs"]
    if gold["total"]:
        review = gold["by_decision"].get("human_review", 0)
        stdout.print(
            f"{gold['total']:,} pairs have gold labels: never paid review or spot-check items "
            f"({review:,} of them routed to human_review are not queued)"
        )
    if summary["out"]:
        stdout.print(f"wrote {summary['out']}")


def register(app: typer.Typer) -> None:
    """Add ``route`` to ``app``."""
    app.command("route")(route)
