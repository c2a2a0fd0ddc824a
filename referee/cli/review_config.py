"""``referee review-config`` (a dataset's annotation schema) and ``referee review-report``
(automation bias per reviewer).

The schema is :mod:`referee.review.schema`; the report is :mod:`referee.review.bias`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from referee.app.review_config import automation_bias, configure_schema
from referee.cli.common import emit_json, fail, open_database, stdout, user_errors
from referee.review.bias import FLAG_ACCEPTED_TRAPS, FLAG_ALPHA
from referee.review.errors import ReviewError
from referee.review.schema import RATIONALE_RULES, Schema, parse_dimensions

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
DatasetOpt = Annotated[str, typer.Option("--dataset", help="Dataset name.")]


def _print_schema(schema: Schema, changed: bool | None) -> None:
    scale = "5-point (A≫B, A>B, tie, B>A, B≫A)" if schema.scale == 5 else "3-point (A, tie, B)"
    head = {True: "updated to", False: "unchanged at", None: "at"}[changed]
    stdout.print(
        f"[bold]{schema.dataset}[/]: review schema {head} {schema.rubric_version} "
        f"(sha256 {schema.to_json()['sha256'][:12]})"
    )
    stdout.print(f"  scale: {scale}; labels A, B, tie, both_bad")
    dims = ", ".join(schema.dimensions) if schema.dimensions else "none"
    stdout.print(f"  rated 1-5: {dims}")
    stdout.print(f"  rationale required: {schema.require_rationale}")
    first = schema.guidelines.strip().splitlines()[0] if schema.guidelines.strip() else ""
    lines = len(schema.guidelines.splitlines())
    stdout.print(f"  guidelines: {lines} lines, starting {first[:70]!r}", markup=False)


def review_config(
    dataset: DatasetOpt,
    scale: Annotated[
        int | None, typer.Option("--scale", help="3 (A, tie, B) or 5 (A≫B, A>B, tie, B>A, B≫A).")
    ] = None,
    dimensions: Annotated[
        str | None,
        typer.Option(
            "--dimensions",
            help="Comma-separated names rated 1-5 on every answer ('' for none), "
            "e.g. helpfulness,safety.",
        ),
    ] = None,
    require_rationale: Annotated[
        str | None, typer.Option("--require-rationale", help="never, both_bad or always.")
    ] = None,
    guidelines: Annotated[
        Path | None,
        typer.Option("--guidelines", help="A UTF-8 text (markdown) file reviewers read ('?')."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show or set the dataset's annotation schema; any change makes a new rubric version."""
    if require_rationale is not None and require_rationale not in RATIONALE_RULES:
        fail(f"--require-rationale {require_rationale!r}: use {', '.join(RATIONALE_RULES)}")
    text = None
    if guidelines is not None:
        try:
            text = guidelines.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"--guidelines {guidelines}: cannot read it as UTF-8 text ({exc})")
    try:
        dims = parse_dimensions(dimensions) if dimensions is not None else None
    except ValueError as exc:
        fail(f"--dimensions: {exc}")
    asked = any(v is not None for v in (scale, dims, require_rationale, text))
    engine = open_database()
    try:
        schema, changed = configure_schema(
            engine,
            dataset,
            scale=scale,
            dimensions=dims,
            require_rationale=require_rationale,
            guidelines=text,
        )
    except (ValueError, ReviewError) as exc:
        fail(str(exc))
    if as_json:
        emit_json(schema.to_json() | ({"changed": changed} if asked else {}))
        return
    _print_schema(schema, changed if asked else None)


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.0%}"


def review_report(dataset: DatasetOpt, as_json: JsonOpt = False) -> None:
    """Automation bias per reviewer: override rate with the AI label shown vs hidden, traps."""
    engine = open_database()
    with user_errors():
        report = automation_bias(engine, dataset)
    rows = [r.to_json() for r in report.values()]
    if as_json:
        emit_json({"dataset": dataset, "reviewers": rows})
        return
    if not rows:
        stdout.print(f"No answered review items in {dataset!r} yet.")
        return
    table = Table(
        "reviewer",
        "override (shown)",
        "override (hidden)",
        "traps caught",
        "flag",
        title=f"Automation bias in {dataset}",
    )
    for r in report.values():
        table.add_row(
            r.reviewer,
            f"{_pct(r.override_revealed)} ({r.revealed_overrides}/{r.revealed})",
            f"{_pct(r.override_hidden)} ({r.hidden_overrides}/{r.hidden})",
            f"{_pct(r.trap_catch_rate)} ({r.traps_caught}/{r.traps})",
            "[bold red]flagged[/]: " + "; ".join(r.reasons) if r.flagged else "ok",
        )
    stdout.print(table)
    stdout.print(
        "override: share of answers unlike the AI label; traps: gold pairs shown with a wrong "
        f"pre-label. Flagged: {FLAG_ACCEPTED_TRAPS}+ traps accepted, or overriding less when "
        f"shown (one-sided Fisher exact p < {FLAG_ALPHA})."
    )


def register(app: typer.Typer) -> None:
    """Add ``review-config`` and ``review-report`` to ``app``."""
    app.command("review-config")(review_config)
    app.command("review-report")(review_report)
