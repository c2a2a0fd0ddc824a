"""``referee calibrate``: judges against gold, and a new versioned auto-accept policy."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer
from rich.table import Table

from referee.app.calibrate import JUDGE_SUMMARY_KEYS, CalibrateRequest, calibrate_dataset
from referee.cli.common import emit_json, load_settings, open_database, stdout, user_errors

__all__ = ["JUDGE_SUMMARY_KEYS", "calibrate", "judge_table", "register"]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


#: The judge table's number columns: heading (two lines at most) and key in the summary.
TABLE_COLUMNS = (
    ("n", "n"),
    ("agree", "agreement"),
    ("w/o\nties", "agreement_without_ties"),
    ("kappa", "kappa"),
    ("pos.\ncons.", "position_consistency"),
    ("1st\npos.", "first_position_preference"),
    ("longer", "chose_longer"),
    ("gold\nlonger", "gold_chose_longer"),
)
PANEL_ROW = "panel (plurality)"


def _table_width(names: list[str], cells: list[list[str]]) -> int:
    """Columns the table needs: every column's widest line plus one space either side (the
    outer edges have none; no borders)."""
    widths = [max(len(n) for n in names)]
    for i, (heading, _) in enumerate(TABLE_COLUMNS):
        widths.append(max([len(line) for line in heading.split("\n")] + [len(r[i]) for r in cells]))
    return sum(widths) + 2 * len(widths) - 2


def judge_table(doc: dict[str, Any], width: int) -> tuple[Table, list[str]]:
    """The judges against gold, fit for ``width`` columns: numbers and names never wrap. When
    the names are too long for that, the rows are keyed ``j1``, ``j2``... and the second value
    lists what each key stands for (``docs/calibrate.md`` explains the columns)."""
    rows = [*doc["judges"].items(), (PANEL_ROW, doc["panel"])]
    cells = [[_fmt(s[key]) for _, key in TABLE_COLUMNS] for _, s in rows]
    names = [name for name, _ in rows]
    legend: list[str] = []
    if _table_width(names, cells) > width:
        keys = [f"j{i}" for i in range(1, len(names))]
        legend = [f"{k} = {name}" for k, name in zip(keys, names, strict=False)]
        names = [*keys, "panel"]
    table = Table(
        title=f"Judges against gold ({doc['gold_items']} gold items)",
        box=None,
        padding=(0, 1),
        pad_edge=False,
        header_style="bold underline",
    )
    table.add_column("judge", no_wrap=True)
    for heading, _ in TABLE_COLUMNS:
        table.add_column(heading, justify="right", no_wrap=True)
    for name, row in zip(names, cells, strict=True):
        table.add_row(name, *row)
    return table, legend


def _print_simple_routers(doc: dict[str, Any]) -> None:
    """What each simple router would certify on the same gold, and the policy's margin."""
    ours = doc["certified_coverage"] if doc["certified"] else 0.0
    for r in doc.get("simple_routers") or []:
        if r["certified"]:
            what = (
                f"{r['certified_coverage']:.1%} of the {r['gold_items']} gold items "
                f"({r['method']}, score ≥ {r['threshold']:.4g})"
            )
        else:
            what = "nothing"
        stdout.print(
            f"Simple router '{r['router']}' ({r['score']}) would certify {what}; "
            f"this policy's margin {ours - r['certified_coverage']:+.1%}."
        )


def _print_report(doc: dict[str, Any]) -> None:
    table, legend = judge_table(doc, stdout.width)
    stdout.print(table)
    for line in legend:
        stdout.print(line, overflow="ignore", crop=False)
    target, delta = doc["target_agreement"], doc["delta"]
    if doc["route"] == "default":
        how = (
            f"no gold label chose it; certified on all {doc['certification_items']} gold items "
            f"at level {doc['level']:.3g}"
        )
    else:
        how = (
            f"chosen on {doc['selection_items']} gold items, certified on the other "
            f"{doc['certification_items']} at level {doc['level']:.3g}"
        )
    stdout.print(f"Score: {doc['score']} ({how}). Why: {doc['why_this_score']}.")
    if doc["certified"]:
        stdout.print(
            f"Policy v{doc['policy_version']}: auto-accept at score ≥ {doc['threshold']:.4f}. "
            f"Certified coverage {doc['certified_coverage']:.1%} of the certification gold "
            f"({doc['n_accepted_on_gold']} items, agreement "
            f"{doc['agreement_on_accepted_gold']:.3f}, lower bound {doc['bound']:.3f} ≥ "
            f"{target} with probability ≥ {1 - delta:.2f})."
        )
        _print_simple_routers(doc)
        if doc["expected_coverage_on_ungold"] is not None:
            stdout.print(
                f"On the {doc['ungold_pairs']} pairs without gold it accepts "
                f"{doc['expected_coverage_on_ungold']:.1%}."
            )
    else:
        more = doc["more_gold_needed"]
        need = (
            f"{doc['why_not_certified']}: about {more} more gold labels would be needed at the "
            "current judge accuracy"
            if more is not None
            else doc["why_not_certified"]
        )
        stdout.print(
            f"Policy v{doc['policy_version']}: nothing can be certified at agreement ≥ {target} "
            f"with probability ≥ {1 - delta:.2f}; every pair goes to people ({need})."
        )
        _print_simple_routers(doc)


def calibrate(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset name.")],
    judge: Annotated[
        list[str] | None,
        typer.Option("--judge", help="Judge in the panel (repeatable; default: every judge)."),
    ] = None,
    target_agreement: Annotated[
        float, typer.Option("--target-agreement", help="Agreement the accepted labels must reach.")
    ] = 0.85,
    delta: Annotated[
        float, typer.Option("--delta", help="Allowed probability that the guarantee fails.")
    ] = 0.1,
    gold_kind: Annotated[
        str, typer.Option("--gold-kind", help="Kind of human labels used as gold.")
    ] = "gold",
    seed: Annotated[
        int,
        typer.Option(
            "--seed", help="Seed of the selection/certification split of the gold and of the folds."
        ),
    ] = 0,
    cascade: Annotated[
        bool,
        typer.Option(
            "--cascade",
            help="Each --judge is a stage, cheapest first: a policy per stage, certified on the "
            "gold the earlier stages do not accept (for `referee prelabel --cascade`).",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Report the judges against gold and store a new policy version for the dataset."""
    engine = open_database(load_settings())
    request = CalibrateRequest(
        dataset=dataset,
        judges=tuple(judge or ()),
        target_agreement=target_agreement,
        delta=delta,
        gold_kind=gold_kind,
        seed=seed,
        cascade=cascade,
    )
    with user_errors():
        doc = calibrate_dataset(engine, request)
    if as_json:
        emit_json(doc)
    elif cascade:
        print_cascade(doc)
    else:
        _print_report(doc)


def print_cascade(doc: Mapping[str, Any]) -> None:
    """The human-readable report: each stage, then the union."""
    target, delta = doc["target_agreement"], doc["delta"]
    stdout.print(
        f"Cascade policy v{doc['policy_version']} for {doc['dataset']!r}: {len(doc['stages'])} "
        f"stages, each certified at δ = {doc['delta_per_stage']:.3g} on the gold items the "
        "earlier stages do not accept.",
        highlight=False,
    )
    for index, stage in enumerate(doc["stages"], start=1):
        judges = "+".join(stage["judges"])
        if stage["certified"]:
            stdout.print(
                f"  stage {index} ({judges}): accepts {stage['accepted_gold']} of the "
                f"{stage['gold_reaching']} gold items reaching it (agreement "
                f"{stage['agreement_on_accepted_gold']:.3f}) at score ≥ "
                f"{stage['threshold']:.4f} ({stage['score']}).",
                highlight=False,
                markup=False,
            )
        else:
            more = stage["more_gold_needed"]
            extra = f"; about {more} more gold labels would help" if more else ""
            stdout.print(
                f"  stage {index} ({judges}): certifies nothing on the {stage['gold_reaching']} "
                f"gold items reaching it ({stage['why']}{extra}); it passes every pair on.",
                highlight=False,
                markup=False,
            )
    agreement = doc["agreement_on_accepted_gold"]
    stdout.print(
        f"Together: {doc['certified_coverage']:.1%} of {doc['gold_items']} gold items "
        "auto-accepted"
        + (f" (agreement {agreement:.3f})" if agreement is not None else "")
        + f"; agreement ≥ {target} over every accepted label with probability ≥ "
        f"{1 - delta:.2f}. Run `referee prelabel --cascade` with the same judges in this order.",
        highlight=False,
        markup=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``calibrate`` to ``app``."""
    app.command("calibrate")(calibrate)
