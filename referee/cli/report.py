"""``referee report cost``: spend, cost per final label against people alone, and quality."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from referee.app.cost_report import cost_report
from referee.cli.common import emit_json, fail, open_database, stderr, stdout, user_errors
from referee.reports.cost_html import render_cost_html

report_app = typer.Typer(help="Reports.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _money(x: float | None) -> str:
    if x is None:
        return "-"
    return f"${x:,.4f}" if 0 < abs(x) < 1 else f"${x:,.2f}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _interval(doc: dict[str, Any]) -> str:
    if doc.get("estimate") is None:
        return "-"
    if doc.get("lower") is None:
        return _share(doc["estimate"])
    return f"{_share(doc['estimate'])} [{_share(doc['lower'])}, {_share(doc['upper'])}]"


def _count(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def _print(doc: dict[str, Any]) -> None:
    stdout.print(
        f"[bold]cost report[/] for '{doc['dataset']}': human label {_money(doc['human_cost'])}, "
        f"{doc['reviewers_per_item']} reviewer(s) per item"
    )
    _print_spend(doc)
    _print_per_label(doc)
    _print_quality(doc["quality"])
    if doc["frontier"]["points"]:
        _print_frontier(doc["frontier"])


def _print_spend(doc: dict[str, Any]) -> None:
    c = doc["cost"]
    spend = Table(
        "source", "items", "labels planned", "labels done", "planned", "spent", title="spend"
    )
    names = {
        "judges": "judges",
        "gold_checks": "people: hidden gold checks",
        "second_looks": "people: adjudications and incidents",
    }
    for line in c["lines"]:
        spend.add_row(
            names.get(line["source"], f"people: {line['source']}"),
            _count(line["items"]),
            _count(line["planned_labels"]),
            _count(line["labels_done"]),
            _money(line["planned"]),
            _money(line["spent"]),
        )
    spend.add_row("[bold]total[/]", "", "", "", _money(c["hybrid_total"]), _money(c["spent_total"]))
    stdout.print(spend)
    paid = doc["paid_items"]
    if paid["gold_pairs_not_queued"]:
        stdout.print(
            f"[dim]{paid['gold_pairs_not_queued']:,} routed pairs have gold labels: their final "
            "label is the gold one, never a paid review or spot check; gold is bought once "
            "(one price per gold label, whatever --reviewers-per-item)[/]"
        )


def _print_per_label(doc: dict[str, Any]) -> None:
    c, q = doc["cost"], doc["quality"]
    per = Table("pipeline", "final labels", "total", "per label", "quality", title="per label")
    per.add_row(
        "hybrid",
        f"{c['final_labels']:,}",
        _money(c["hybrid_total"]),
        _money(c["hybrid_per_label"]),
        _interval(q["hybrid_expected_agreement"]),
    )
    per.add_row(
        "people only",
        f"{c['final_labels']:,}",
        _money(c["human_only_total"]),
        _money(c["human_only_per_label"]),
        _interval(q["human_agreement"]),
    )
    stdout.print(per)
    ratio = c["hybrid_over_human_only"]
    if ratio is not None:
        stdout.print(
            f"hybrid costs {ratio:.1%} of people-only; auto-labeled share {_share(c['auto_share'])}"
        )


def _print_quality(q: dict[str, Any]) -> None:
    s = q["spot_check"]
    stdout.print(
        f"accepted AI labels, from {s['n']} answered spot check(s): "
        f"{_interval(q['accepted_ai_accuracy'])} ({s['method']})"
    )
    stdout.print(
        f"human agreement over {q['human_agreement_items']} multiply-labelled pair(s): "
        f"{_interval(q['human_agreement'])}"
    )
    if not q["human_agreement_items"]:
        stdout.print(
            "[dim]quality of human labels not measured: no pair has two labels of one kind. "
            "Review some items with --reviewers-per-item 2, or import a second annotator's "
            "labels, to measure it.[/]"
        )


def _print_frontier(f: dict[str, Any]) -> None:
    table = Table(
        "threshold",
        "coverage",
        "agreement (95% CI)",
        "cost/label",
        "expected quality",
        title=f"cost vs quality on {f['gold_items']} gold items (policy v{f['policy_version']})",
    )
    for p in f["points"]:
        agreement = (
            "-"
            if p["agreement"] is None
            else f"{p['agreement']:.1%} [{p['agreement_lower']:.1%}, {p['agreement_upper']:.1%}]"
        )
        chosen = f.get("policy_threshold") is not None and (
            abs(p["threshold"] - f["policy_threshold"]) < 1e-12
        )
        table.add_row(
            (f"{p['threshold']:.4f}" if p["accepted"] else "accept none")
            + (" ◀ policy" if chosen else ""),
            _share(p["coverage"]),
            agreement,
            _money(p["cost_per_label"]),
            _share(p["expected_quality"]),
        )
    stdout.print(table)
    stdout.print(f"[dim]{f['basis']}[/]")


@report_app.command("cost")
def cost(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to report on.")],
    human_cost: Annotated[
        float, typer.Option("--human-cost", help="Cost of one human label, in dollars.")
    ] = 1.00,
    reviewers_per_item: Annotated[
        int, typer.Option("--reviewers-per-item", help="People who label each item (k).")
    ] = 1,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report with a plot.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Judge and human spend, hybrid vs people-only cost per label, quality, and the frontier."""
    if math.isnan(human_cost) or human_cost < 0:
        fail(f"--human-cost {human_cost}: use a non-negative amount in dollars (e.g. 1.00)")
    if reviewers_per_item < 1:
        fail(f"--reviewers-per-item {reviewers_per_item}: use 1 or more")
    if html is not None and not html.parent.is_dir():
        fail(f"--html {html}: folder {html.parent} does not exist")
    engine = open_database()
    with user_errors():
        doc = cost_report(
            engine, dataset, human_cost=human_cost, reviewers_per_item=reviewers_per_item
        )
    if html is not None:
        try:
            html.write_text(render_cost_html(doc), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {html}: {exc.strerror}")
        doc["html"] = str(html)
    for warning in doc["warnings"]:
        stderr.print(f"[bold yellow]warning:[/] {warning}", markup=True, highlight=False)
    if as_json:
        emit_json(doc)
        return
    _print(doc)
    if html is not None:
        stdout.print(f"wrote {html}")


def register(app: typer.Typer) -> None:
    """Add the ``report`` group to ``app``."""
    app.add_typer(report_app, name="report")
