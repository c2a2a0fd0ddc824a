"""``referee release`` (freeze the final labels, through the gate, into a verifiable folder) and
``referee release verify DIR`` (check a copy of a release folder offline)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer

from formats.release_files import (
    MANIFEST_FILE,
    ROWS_FILE,
    SUMS_FILE,
    check_free,
    default_folder,
    verify_folder,
)
from referee.app.release import make_release
from referee.cli.common import (
    EXIT_RUNTIME,
    AggregateOpt,
    JsonOpt,
    UserError,
    emit_json,
    fail,
    open_database,
    parse_aggregate,
    stderr,
    stdout,
    user_errors,
)
from referee.export.release import ReleaseOptions, ReleaseRefused

release_app = typer.Typer(
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    help="Freeze the final labels into a release through the gate; `release verify DIR`.",
)


def _print_refusal(refused: ReleaseRefused) -> None:
    stderr.print(
        f"[bold red]error:[/] release {refused.name!r} of {refused.dataset!r} refused by the "
        "promotion gate; nothing was written:",
        markup=True,
        highlight=False,
    )
    for failure in refused.failures:
        doc = failure.to_json()
        more = doc["pairs"] - len(doc["pair_ids"])
        ids = ", ".join(doc["pair_ids"]) + (f" and {more} more" if more > 0 else "")
        stderr.print(f"  - {failure.reason}: {failure.message}", markup=False, highlight=False)
        if ids:
            stderr.print(f"    pairs: {ids}", markup=False, highlight=False)
        for detail in doc.get("details", []):
            if "field" in detail:
                stderr.print(
                    f"    {detail['pair_id']}: {detail['field']} holds "
                    f"{', '.join(detail['kinds'])}",
                    markup=False,
                    highlight=False,
                )
                continue
            match = detail.get("closest_frozen") or {}
            stderr.print(
                f"    {detail.get('pair_id')}: closest frozen pair {match.get('frozen_pair_id')} "
                f"of {match.get('frozen_dataset')} (similarity {match.get('similarity')})",
                markup=False,
                highlight=False,
            )


NameOpt = Annotated[str | None, typer.Option("--name", help="Version name, e.g. v1 or 2026-12-02.")]
ParentOpt = Annotated[str | None, typer.Option("--parent", help="The release this one follows.")]
AgreementGateOpt = Annotated[
    float,
    typer.Option(
        "--agreement-gate",
        help="Refuse when Krippendorff's alpha among human answers is below this.",
    ),
]
MinAgreementItemsOpt = Annotated[
    int,
    typer.Option(
        "--min-agreement-items",
        min=0,
        help="Refuse when agreement is measured on fewer comparable items (pairs with two "
        "or more human answers) than this; 0 accepts any sample (stated in the manifest).",
    ),
]
MinSpotCheckBoundOpt = Annotated[
    float | None,
    typer.Option(
        "--min-spot-check-bound",
        help="Refuse when the spot-check accuracy's lower bound is below this "
        "(e.g. the policy's target, 0.85).",
    ),
]
DropLeakedOpt = Annotated[
    bool,
    typer.Option(
        "--drop-leaked",
        help="Leave out pairs that are near-duplicates of frozen-evaluation pairs (listed "
        "in the manifest with their closest frozen match) instead of refusing.",
    ),
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        help="New folder for rows.jsonl, manifest.json and SHA256SUMS "
        "(default releases/<dataset slug>/<name slug>).",
    ),
]
HumanCostOpt = Annotated[
    float, typer.Option("--human-cost", help="Dollars per human label, for the cost summary.")
]


def release(
    ctx: typer.Context,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Dataset to release.")] = None,
    name: NameOpt = None,
    parent: ParentOpt = None,
    agreement_gate: AgreementGateOpt = 0.65,
    min_agreement_items: MinAgreementItemsOpt = 50,
    min_spot_check_bound: MinSpotCheckBoundOpt = None,
    drop_leaked: DropLeakedOpt = False,
    out: OutOpt = None,
    aggregate: AggregateOpt = "majority",
    human_cost: HumanCostOpt = 1.00,
    as_json: JsonOpt = False,
) -> None:
    """Freeze the final labels into an immutable release folder, through the gate."""
    if ctx.invoked_subcommand is not None:
        return
    if dataset is None or name is None:
        fail("release: give --dataset and --name (or check a folder: referee release verify DIR)")
    label = _check_flags(name, agreement_gate, min_spot_check_bound)
    method = parse_aggregate(aggregate)
    with user_errors():
        folder = out if out is not None else default_folder(Path("releases"), dataset, label)
        check_free(folder)
    options = ReleaseOptions(
        name=label,
        parent=parent,
        agreement_gate=agreement_gate,
        min_agreement_items=min_agreement_items,
        min_spot_check_bound=min_spot_check_bound,
        drop_leaked=drop_leaked,
        aggregate=method,
    )
    engine = open_database()
    try:
        with user_errors():
            manifest = make_release(engine, dataset, folder, options, human_cost=human_cost)
    except ReleaseRefused as refused:
        if as_json:
            emit_json({"released": False, "failures": [f.to_json() for f in refused.failures]})
        _print_refusal(refused)
        raise typer.Exit(EXIT_RUNTIME) from None
    path = folder / MANIFEST_FILE
    if as_json:
        emit_json(
            {"released": True, "folder": str(folder), "manifest_file": str(path),
             "manifest": manifest}
        )  # fmt: skip
        return
    _print_release(label, dataset, folder, manifest, agreement_gate)


def _check_flags(name: str, agreement_gate: float, bound: float | None) -> str:
    label = name.strip()
    if not label or len(label) > 200 or any(c in label for c in "/\\\x00"):
        fail(f"--name {name!r}: use 1-200 characters without slashes (e.g. v1)")
    for flag, value in (("--agreement-gate", agreement_gate), ("--min-spot-check-bound", bound)):
        if value is not None and (math.isnan(value) or not -1 <= value <= 1):
            fail(f"{flag} {value}: use a number between 0 and 1 (e.g. 0.65)")
    return label


def _print_release(
    label: str, dataset: str, folder: Path, manifest: dict[str, Any], gate: float
) -> None:
    counts = manifest["row_counts"]
    agreement = manifest["agreement_report"]
    spot = manifest["spot_check"]
    stdout.print(
        f"release [bold]{label}[/] of {dataset}: {counts['rows']:,} rows "
        f"({counts['preferences']:,} preferences, {counts['ties']:,} ties, "
        f"{counts['both_bad_escalated']:,} both bad) in {folder}/ "
        f"({ROWS_FILE}, {MANIFEST_FILE}, {SUMS_FILE})"
    )
    alpha = agreement["krippendorff_alpha"]
    stdout.print(
        "human agreement: "
        + (
            f"alpha {alpha:.3f} on {agreement['comparable_items']:,} comparable items "
            f"(minimum {agreement['min_comparable_items']:,}; 95% interval "
            f"{_interval(agreement)}; gate {gate:.2f}, passed)"
            if alpha is not None
            else f"not measured ({agreement['comparable_items']} comparable items, minimum "
            f"{agreement['min_comparable_items']})"
        )
        + "; spot checks: "
        + (
            f"{spot['accuracy']:.1%} accurate ({spot['n']} checks, lower bound {spot['lower']:.1%})"
            if spot.get("accuracy") is not None
            else "none answered"
        )
        + f"; leakage check {'passed' if manifest['leakage_check_passed'] else 'dropped pairs'}"
    )
    stdout.print(f"check a copy: cd {folder} && sha256sum -c {SUMS_FILE}")
    stdout.print(
        f"export it: referee export --dataset {dataset} --release {label} --format dpo "
        "--out train.jsonl"
    )


def verify(
    folder: Annotated[Path, typer.Argument(help="A release folder (or a copy of one).")],
    as_json: JsonOpt = False,
) -> None:
    """Check a release folder offline: every file's size and SHA-256, and the rows' hash."""
    with user_errors():
        if not folder.is_dir():
            raise UserError(f"{folder}: not a folder; give a release folder")
        result = verify_folder(folder)
    if as_json:
        emit_json(result.to_json())
    else:
        for name in result.checked:
            bad = [p for p in result.problems if p.startswith(f"{name}:")]
            stdout.print(f"{name}: {'FAILED' if bad else 'OK'}", highlight=False)
        for problem in result.problems:
            stderr.print(f"error: {problem}", markup=False, highlight=False)
        for name in result.unlisted:
            stderr.print(f"note: {name} is not listed", markup=False, highlight=False)
        if result.ok:
            stdout.print(f"{folder}: every file verified", highlight=False)
    if not result.ok:
        raise typer.Exit(EXIT_RUNTIME)


def _interval(agreement: dict[str, Any]) -> str:
    """The alpha interval of the agreement document as ``[lo, hi]``, or ``n/a``."""
    low, high = agreement.get("interval") or (None, None)
    if isinstance(low, int | float) and isinstance(high, int | float):
        return f"[{low:.3f}, {high:.3f}]"
    return "n/a"


def register(app: typer.Typer) -> None:
    """Add ``release`` (with ``release verify``) to ``app``."""
    release_app.callback()(release)
    release_app.command("verify")(verify)
    app.add_typer(release_app, name="release")
