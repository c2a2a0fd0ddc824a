"""``referee agreement`` (agreement among human annotators) and ``referee annotators``.

The numbers and the choices behind them are documented in
:mod:`referee.reports.human_agreement`; the maths lives in ``calibration/``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from calibration.annotators import PauseRule
from judge.labels import LABEL_KINDS
from referee.app import agreement as app
from referee.cli.common import emit_json, fail, open_database, stdout, user_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
DatasetOpt = Annotated[str, typer.Option("--dataset", help="Dataset name.")]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _interval(doc: dict[str, Any], key: str) -> str:
    ci = doc["ci"].get(key)
    if not ci or ci["low"] is None:
        return "-"
    return f"[{ci['low']:.3f}, {ci['high']:.3f}]"


def agreement(
    dataset: DatasetOpt,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="Label kind: gold, review or spot_check (default: every kind, pooled).",
        ),
    ] = None,
    resamples: Annotated[
        int, typer.Option("--resamples", min=1, help="Bootstrap resamples for the intervals.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Bootstrap seed.")] = 0,
    as_json: JsonOpt = False,
) -> None:
    """Agreement among human annotators: percent agreement, Krippendorff's alpha, kappas."""
    if kind is not None and kind not in LABEL_KINDS:
        fail(f"unknown label kind '{kind}'; use one of {', '.join(LABEL_KINDS)}")
    engine = open_database()
    with user_errors():
        doc = app.agreement(engine, dataset, kind, resamples=resamples, seed=seed)
    if as_json:
        emit_json(doc)
        return
    _print_agreement(doc)


def _print_agreement(doc: dict[str, Any]) -> None:
    stdout.print(
        f"[bold]{doc['dataset']}[/] ({doc['kind']} labels): {doc['items']:,} items, "
        f"{doc['comparable_items']:,} with 2+ labels, {doc['annotators']} annotators, "
        f"{doc['labels']:,} labels"
    )
    table = Table("measure", "value", "95% CI", "on", title="Agreement among annotators")
    table.add_row(
        "percent agreement",
        _fmt(doc["percent_agreement"]),
        _interval(doc, "percent_agreement"),
        f"{doc['comparable_items']:,} items",
    )
    table.add_row(
        "Krippendorff's alpha (nominal)",
        _fmt(doc["krippendorff_alpha"]),
        _interval(doc, "krippendorff_alpha"),
        f"{doc['comparable_items']:,} items",
    )
    table.add_row(
        "Fleiss' kappa",
        _fmt(doc["fleiss_kappa"]),
        _interval(doc, "fleiss_kappa"),
        f"{doc['fleiss_items']:,} items with {_fmt(doc['fleiss_raters_per_item'])} raters",
    )
    if doc["annotators"] == 2:
        table.add_row(
            "Cohen's kappa",
            _fmt(doc["cohen_kappa"]),
            _interval(doc, "cohen_kappa"),
            f"{doc['cohen_items']:,} items",
        )
    stdout.print(table)
    if doc["pairwise"]:
        pairs = Table("annotators", "items", "agreement", "Cohen's kappa", title="Pairwise")
        for p in doc["pairwise"]:
            pairs.add_row(
                " / ".join(p["annotators"]),
                f"{p['items']:,}",
                _fmt(p["percent_agreement"]),
                _fmt(p["cohen_kappa"]),
            )
        stdout.print(pairs)


def annotators(
    dataset: DatasetOpt,
    min_accuracy: Annotated[
        float, typer.Option("--min-accuracy", help="Pause below this gold accuracy.")
    ] = 0.7,
    min_kappa: Annotated[
        float, typer.Option("--min-kappa", help="Pause below this kappa with the majority.")
    ] = 0.5,
    min_gold: Annotated[
        int, typer.Option("--min-gold", min=1, help="Gold items needed before judging.")
    ] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Annotator quality: gold accuracy, kappa with the majority, pause rule, time outliers.

    The pause rule is :mod:`calibration.annotators`'; the review service applies the same rule
    as answers arrive and stops serving a paused reviewer (``referee reviewers unpause``)."""
    engine = open_database()
    rule = PauseRule(min_accuracy=min_accuracy, min_kappa=min_kappa, min_gold=min_gold)
    with user_errors():
        doc = app.annotators(engine, dataset, rule)
    if as_json:
        emit_json(doc)
        return
    _print_annotators(doc, rule)


def _print_annotators(doc: dict[str, Any], rule: PauseRule) -> None:
    timed = any(row["timed_items"] for row in doc["annotators"])
    columns = ["annotator", "items", "gold", "gold acc", "kappa"]
    columns += ["median s", "fast/slow"] if timed else []
    revealing = any(row["automation_bias"] for row in doc["annotators"])
    columns += ["overrides shown/hidden", "traps caught"] if revealing else []
    table = Table(*columns, "status", title=f"Annotators ({doc['gold_items']:,} gold items)")
    table.columns[0].no_wrap = True
    notes = []
    for row in doc["annotators"]:
        cells, row_notes = _annotator_cells(row, timed, revealing)
        table.add_row(*cells)
        notes += row_notes
    stdout.print(table)
    for note in notes:
        stdout.print(note if "follows shown labels" in note else f"paused {note}")
    stdout.print(
        f"{doc['paused']} paused of {len(doc['annotators'])} annotators (rule: gold accuracy "
        f"decides first: paused when its 95% upper bound is < {rule.min_accuracy}, or when it "
        f"is < {rule.min_accuracy} after {rule.min_gold} gold items; with fewer gold items, "
        f"kappa < {rule.min_kappa} with the majority on {rule.min_gold}+ items with 3+ answers)"
    )


def _annotator_cells(
    row: dict[str, Any], timed: bool, revealing: bool
) -> tuple[list[str], list[str]]:
    """One annotator's table row, and the notes under the table it calls for."""
    notes = []
    status = row["status"]
    cells = [
        str(row["annotator"]),
        f"{row['items_labeled']:,}",
        f"{row['gold_items']:,}",
        _fmt(row["gold_accuracy"]),
        _fmt(row["kappa_with_majority"]),
    ]
    if timed:
        cells.append(_fmt(row["median_duration_s"], 1))
        outlier = f" {row['time_outlier']}" if row["time_outlier"] else ""
        cells.append(f"{row['fast_items']}/{row['slow_items']}{outlier}")
    if revealing:
        b = row["automation_bias"] or {}
        flag = " [bold red]flagged[/]" if b.get("flagged") else ""
        cells.append(
            f"{_fmt(b.get('override_rate_revealed'))} / {_fmt(b.get('override_rate_hidden'))}"
        )
        caught = f"{b.get('traps_caught', 0)}/{b.get('traps', 0)}" if b.get("traps") else "-"
        cells.append(caught + flag)
        if b.get("flagged"):
            notes.append(f"{row['annotator']} follows shown labels: {'; '.join(b['reasons'])}")
    cells.append({"paused": "[bold red]paused[/]", "ok": "[green]ok[/]"}.get(status, status))
    if status == "paused":
        notes.append(f"{row['annotator']}: {'; '.join(row['reasons'])}")
    return cells, notes


def register(app: typer.Typer) -> None:
    """Add ``agreement`` and ``annotators`` to ``app``."""
    app.command("agreement")(agreement)
    app.command("annotators")(annotators)
