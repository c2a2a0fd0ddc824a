"""``referee ingest``, ``referee labels import`` and ``referee judgments import``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from formats.kwise import DesignError, parse_design
from formats.readers import detect_format
from referee.cli.common import (
    add_labels_group,
    emit_json,
    fail,
    labels_app,
    load_settings,
    open_database,
    stderr,
    stdout,
    user_errors,
)
from referee.ingest import (
    FieldMap,
    ImportSummary,
    InputRejected,
    import_judgments,
    import_labels,
    ingest_pairs,
)
from referee.ingest.importer import LABEL_FILE_FORMATS
from referee.ingest.pair_kind import PairSource
from referee.ingest.records import (
    JUDGMENT_FIELDS,
    LABEL_FIELDS,
    MAX_NAME_CHARS,
    PAIR_FIELDS,
    check_name,
)
from referee.ingest.redaction import RedactionSetup
from referee.ingest.repeats import ON_CONFLICT

FileArg = Annotated[Path, typer.Argument(help="JSON Lines (.jsonl), CSV (.csv) or Parquet file.")]
MapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="Read other column names: --map prompt=instruction,response_a=output_1 (repeatable).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
DedupeOpt = Annotated[
    bool,
    typer.Option(
        "--dedupe",
        help="Fold a key repeated inside the file into one record (pairs: only when the "
        "prompt and responses are identical) instead of rejecting the file; repeats with "
        "different content are listed and resolved by --on-conflict.",
    ),
]
PAIR_FILE_FORMATS = ("referee", "trl", "hh-rlhf")
PREFERENCE_AS = ("gold", "review", "none")
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="referee|trl|hh-rlhf",
        help="referee: Referee's pairs (prompt a string or a message list, or messages) and "
        "k-wise records (prompt + responses); trl: TRL preference rows (prompt/chosen/rejected, "
        "or whole conversations in chosen/rejected); hh-rlhf: Anthropic HH-RLHF transcripts.",
    ),
]
PairsOpt = Annotated[
    str,
    typer.Option(
        "--pairs",
        metavar="all|round-robin:R",
        help="Which pairs a k-wise record (responses: [...]) becomes: all pairs, or a "
        "round-robin design with each response in at least R pairs.",
    ),
]
PreferenceOpt = Annotated[
    str | None,
    typer.Option(
        "--preference-as",
        metavar="gold|review|none",
        help="trl / hh-rlhf: keep the file's chosen reply as a human label of this kind, by "
        "annotator file:<file name> (default gold), or none to drop it.",
    ),
]
SkipOpt = Annotated[
    bool,
    typer.Option(
        "--skip-invalid",
        help="Import the valid records and write the invalid ones, with line and reason, to "
        "--skipped-out (default <name>.skipped.jsonl beside the file) instead of refusing it.",
    ),
]
SkippedOutOpt = Annotated[
    Path | None,
    typer.Option("--skipped-out", help="Where --skip-invalid writes the skipped records."),
]
OnConflictOpt = Annotated[
    str | None,
    typer.Option(
        "--on-conflict",
        metavar="first|last|error",
        help="With --dedupe (implied): which record of a key repeated with different content "
        "to keep, the first (default) or the last, or error to refuse the file.",
    ),
]


def _check_file(path: Path, *, check_type: bool = True) -> None:
    if not path.exists():
        fail(f"{path}: no such file")
    if not path.is_file():
        fail(f"{path}: not a file")
    if not check_type:
        return
    try:
        detect_format(path)
    except ValueError as exc:
        fail(str(exc))


def _field_map(specs: list[str] | None, allowed: tuple[str, ...]) -> FieldMap:
    try:
        return FieldMap.parse(specs or [], allowed)
    except ValueError as exc:
        fail(str(exc))


def _dedupe_options(dedupe: bool, on_conflict: str | None) -> dict[str, Any]:
    """``dedupe`` and ``on_conflict`` for the importer; ``--on-conflict`` implies ``--dedupe``."""
    if on_conflict is None:
        return {"dedupe": dedupe}
    if on_conflict not in ON_CONFLICT:
        fail(f"--on-conflict '{on_conflict}': use first, last or error")
    return {"dedupe": True, "on_conflict": on_conflict}


def _warn_disagreements(summary: ImportSummary) -> None:
    """List the repeated keys whose records differed, and which record was kept (stderr)."""
    count = int(summary.extra.get("folded_disagreeing") or 0)
    policy = summary.extra.get("on_conflict", "first")
    if not count or policy == "error":
        return
    kept = "the first" if policy == "first" else "the last"
    other = "last" if policy == "first" else "first"
    stderr.print(
        f"warning: {count:,} repeat(s) of a key had different content; kept {kept} record of "
        f"each key (--on-conflict {other} keeps the {other}, --on-conflict error refuses the "
        "file):",
        markup=False,
        highlight=False,
    )
    listed: list[str] = summary.extra.get("disagreeing_keys") or []
    for description in listed:
        stderr.print(f"  {description}", markup=False, highlight=False)
    if count > len(listed):
        stderr.print(f"  ... and {count - len(listed):,} more", markup=False, highlight=False)


def _counts(summary: ImportSummary, noun: str) -> str:
    """``FILE: N pair records — K new, U already stored``; for k-wise records, whose one record
    becomes several pairs, ``FILE: N records -> M pairs, K new, U already stored``."""
    if "pairs" in summary.extra:
        read = f"{summary.records:,} records -> {summary.extra['pairs']:,} pairs,"
    else:
        read = f"{summary.records:,} {noun} records —"
    return f"{summary.file}: {read} {summary.inserted:,} new, {summary.unchanged:,} already stored"


def _report(summary: ImportSummary, noun: str, as_json: bool) -> None:
    _warn_disagreements(summary)
    if "skipped" in summary.extra:
        stderr.print(
            f"skipped {summary.extra['skipped']:,} invalid record(s); they are listed with their "
            f"line and reason in {summary.extra['skipped_file']}",
            markup=False,
            highlight=False,
        )
    if as_json:
        emit_json(
            {
                "file": summary.file,
                "records": summary.records,
                "inserted": summary.inserted,
                "unchanged": summary.unchanged,
                "updated": summary.updated,
                **summary.extra,
            }
        )
        return
    stdout.print(
        _counts(summary, noun)
        + (f", {summary.updated:,} revised (history in the audit log)" if summary.updated else "")
        + (
            f", {summary.extra['other_kind_skipped']:,} exported answers of another kind "
            "skipped (import them with their own --kind)"
            if summary.extra.get("other_kind_skipped")
            else ""
        )
        + (
            f", {summary.extra['folded_repeats']:,} repeated keys folded into their first record"
            f" ({summary.extra['folded_disagreeing']:,} of them disagreeing)"
            if summary.extra.get("folded_repeats")
            else ""
        )
        + (
            f", {summary.extra['preference_labels']:,} {summary.extra['preference_as']} labels "
            "from the file's chosen replies"
            if summary.extra.get("preference_as")
            else ""
        )
        + (f", {summary.extra['skipped']:,} skipped" if "skipped" in summary.extra else "")
    )


def _rejected(exc: InputRejected) -> NoReturn:
    for problem in exc.log.shown:
        stderr.print(f"[bold red]error:[/] {problem}", markup=True, highlight=False)
    hidden = exc.log.total - len(exc.log.shown)
    if hidden:
        stderr.print(f"... and {hidden} more problems", markup=False, highlight=False)
    stderr.print(
        f"nothing was written: {exc.log.total} problem(s); fix the file and run the command again",
        markup=False,
        highlight=False,
    )
    raise typer.Exit(2)


@contextmanager
def count_progress(description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A callback ``update(done)`` driving a progress bar (a counter when total is unknown)."""
    if not stderr.is_terminal:
        yield lambda _done: None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()]
    else:
        columns += [TextColumn("{task.completed:,} records"), TimeElapsedColumn()]
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.update(task, completed=done)


def _run_import(
    file: Path,
    fields: tuple[str, ...],
    field_map: list[str] | None,
    importer: Callable[..., ImportSummary],
    **options: Any,
) -> ImportSummary:
    """Check the file and options, then run ``importer`` with a progress display.

    ``importer`` gets the engine, the file, the column map, the field size limit, a progress
    callback and ``options``; a rejected file prints its problems and exits 2.
    ``check_type=False`` skips the file-name check for readers of other tools' exports.
    """
    _check_file(file, check_type=options.pop("check_type", True))
    mapping = _field_map(field_map, fields)
    settings = load_settings()
    engine = open_database(settings)
    try:
        with user_errors(), count_progress(f"importing {file.name}") as progress:
            return importer(  # user_errors: e.g. text for a redacted dataset and no vault
                engine,
                file,
                field_map=mapping,
                max_field_bytes=settings.max_field_bytes,
                progress=progress,
                **options,
            )
    except InputRejected as exc:
        _rejected(exc)


def ingest(
    file: FileArg,
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to add the pairs to.")],
    frozen_eval: Annotated[
        bool,
        typer.Option("--frozen-eval", help="Evaluation pairs: never auto-labeled or exported."),
    ] = False,
    field_map: MapOpt = None,
    dedupe: DedupeOpt = False,
    on_conflict: OnConflictOpt = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Store only redacted text (emails, phones, cards, IBANs, SSNs, IPs, keys...) "
            "for this dataset, now and in every later ingest; values go to the vault "
            "(REFEREE_VAULT_URL, REFEREE_VAULT_KEY).",
        ),
    ] = False,
    redact_pattern: Annotated[
        list[str] | None,
        typer.Option(
            "--redact-pattern",
            help="Also redact KIND=REGEX, e.g. TICKET=ENG-\\d+ (repeatable; kept on the dataset).",
        ),
    ] = None,
    as_json: JsonOpt = False,
    layout: FormatOpt = "referee",
    pairs: PairsOpt = "all",
    preference_as: PreferenceOpt = None,
    skip_invalid: SkipOpt = False,
    skipped_out: SkippedOutOpt = None,
) -> None:
    """Ingest pairs into a dataset: id, prompt (text or messages), response_a, response_b, meta;
    or k-wise records (id, prompt, responses); or TRL / HH-RLHF preference rows (--format)."""
    name = dataset.strip()
    if not name:
        fail("--dataset must not be empty")
    problem = check_name(name, "a dataset name", MAX_NAME_CHARS)
    if problem is not None:
        fail(f"--dataset {problem}")
    if skipped_out is not None and not skip_invalid:
        fail("--skipped-out needs --skip-invalid")
    source = _pair_source(file, layout, pairs, preference_as, bool(field_map))
    setup = _redaction_setup(redact, tuple(redact_pattern or ()))
    summary = _run_import(
        file, PAIR_FIELDS, field_map, ingest_pairs,
        dataset=name, frozen_eval=frozen_eval, redaction=setup, source=source,
        skip_invalid=skip_invalid, skipped_out=skipped_out,
        **_dedupe_options(dedupe, on_conflict),
    )  # fmt: skip
    summary.extra["dataset"] = name
    _report(summary, "pair", as_json)


def _pair_source(
    file: Path, layout: str, pairs: str, preference_as: str | None, mapped: bool
) -> PairSource:
    """The file's layout, k-wise design and preference handling, from the options."""
    if layout not in PAIR_FILE_FORMATS:
        fail(f"--format '{layout}': use {', '.join(PAIR_FILE_FORMATS)}")
    if layout != "referee" and mapped:
        fail(f"--map reads Referee's own format; a {layout} file has fixed fields")
    try:
        design = parse_design(pairs)
    except DesignError as exc:
        fail(str(exc))
    if layout == "referee" and preference_as is not None:
        fail("--preference-as is for files with chosen/rejected (--format trl or hh-rlhf)")
    keep = preference_as or "gold"
    if keep not in PREFERENCE_AS:
        fail(f"--preference-as '{keep}': use {', '.join(PREFERENCE_AS)}")
    return PairSource(
        layout=layout,
        design=design,
        preference_kind=None if keep == "none" or layout == "referee" else keep,
        annotator=f"file:{file.name}"[:MAX_NAME_CHARS],
    )


def _redaction_setup(redact: bool, patterns: tuple[str, ...]) -> RedactionSetup:
    """Patterns checked now; the vault and key from the settings when they are set."""
    if patterns and not redact:
        fail("--redact-pattern needs --redact (or a dataset that already requires redaction)")
    settings = load_settings()
    if not (redact or settings.vault_url):
        return RedactionSetup()
    from redaction import PatternError, VaultKeyError, parse_pattern
    from referee.privacy import Vault, VaultKey

    for spec in patterns:
        try:
            parse_pattern(spec)
        except PatternError as exc:
            fail(f"--redact-pattern {spec!r}: {exc}")
    try:
        key = VaultKey.from_string(settings.vault_key) if settings.vault_key else None
    except VaultKeyError as exc:
        fail(f"REFEREE_VAULT_KEY: {exc}")
    vault = Vault(settings.vault_url) if settings.vault_url else None
    return RedactionSetup(redact=redact, patterns=patterns, vault=vault, key=key)


judgments_app = typer.Typer(help="Recorded judge verdicts.", no_args_is_help=True)


@labels_app.command("import")
def labels_import(
    file: FileArg,
    kind: Annotated[
        str, typer.Option("--kind", help="gold (reference answers) or review or spot_check.")
    ] = "gold",
    field_map: MapOpt = None,
    dedupe: DedupeOpt = False,
    on_conflict: OnConflictOpt = None,
    source_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="referee (JSON Lines, CSV or Parquet), label-studio (a Label Studio JSON "
            "export) or argilla (Argilla 2.x records, JSON Lines or a JSON array).",
        ),
    ] = "referee",
    as_json: JsonOpt = False,
    skip_invalid: SkipOpt = False,
    skipped_out: SkippedOutOpt = None,
) -> None:
    """Import human labels: pair_id, annotator, label (A|B|tie|both_bad)."""
    if skipped_out is not None and not skip_invalid:
        fail("--skipped-out needs --skip-invalid")
    if kind not in ("gold", "review", "spot_check"):
        fail(f"--kind '{kind}': use gold, review or spot_check")
    if source_format not in LABEL_FILE_FORMATS:
        fail(f"--format '{source_format}': use {', '.join(LABEL_FILE_FORMATS)}")
    if source_format != "referee" and field_map:
        fail(f"--map reads Referee's own format; a {source_format} file has fixed fields")
    summary = _run_import(
        file, LABEL_FIELDS, field_map, import_labels,
        kind=kind, source_format=source_format, check_type=source_format == "referee",
        skip_invalid=skip_invalid, skipped_out=skipped_out,
        **_dedupe_options(dedupe, on_conflict),
    )  # fmt: skip
    summary.extra["kind"] = kind
    _report(summary, f"{kind} label", as_json)


@judgments_app.command("import")
def judgments_import(
    file: FileArg,
    field_map: MapOpt = None,
    dedupe: DedupeOpt = False,
    on_conflict: OnConflictOpt = None,
    as_json: JsonOpt = False,
    skip_invalid: SkipOpt = False,
    skipped_out: SkippedOutOpt = None,
) -> None:
    """Import recorded verdicts: pair_id, judge, order (AB|BA), winner (original frame)."""
    if skipped_out is not None and not skip_invalid:
        fail("--skipped-out needs --skip-invalid")
    summary = _run_import(
        file, JUDGMENT_FIELDS, field_map, import_judgments,
        skip_invalid=skip_invalid, skipped_out=skipped_out,
        **_dedupe_options(dedupe, on_conflict),
    )  # fmt: skip
    _report(summary, "judgment", as_json)


def register(app: typer.Typer) -> None:
    """Add ingest, labels and judgments commands to ``app``."""
    app.command("ingest")(ingest)
    add_labels_group(app)
    app.add_typer(judgments_app, name="judgments")
