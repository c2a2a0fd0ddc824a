"""``referee labels final``, ``referee export``, ``referee release`` and ``referee releases``."""

from __future__ import annotations

import math
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from formats.dpo import Style, write_dpo
from formats.full_jsonl import write_jsonl, write_records
from formats.ranking import RANKING_PAIRS, Ranking, RankingPairs, write_ranking_dpo, write_rankings
from formats.rows import LabeledPair
from formats.rules import Exclusions, ExportRules, RowPolicy, filter_rows
from formats.schema_fields import ExportSchema
from referee.cli.common import (
    EXIT_RUNTIME,
    UserError,
    emit_json,
    fail,
    open_database,
    stdout,
    user_errors,
)
from referee.db.engine import session_factory
from referee.db.routing import dataset_by_name
from referee.export.build import frozen_index, labeled_pairs
from referee.export.incidents import incident_export_records
from referee.export.ranking import rank_groups
from referee.export.release import (
    find_release,
    list_releases,
    release_rows,
)
from referee.export.shapes import has_conversations
from referee.review.final_labels import AGGREGATIONS, Aggregation
from referee.review.schema import load_schema

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
AggregateOpt = Annotated[
    str,
    typer.Option(
        "--aggregate",
        help="How several people's answers become one label: majority (ties broken by gold-"
        "check accuracy, else unresolved), weighted (by gold-check accuracy) or dawid-skene.",
    ),
]
FORMATS: dict[str, RowPolicy] = {
    "dpo": "preferences",
    "jsonl": "labels",
    "label-studio": "tasks",
    "argilla": "tasks",
    "incidents": "tasks",  # every pair: the incident queue says which are incidents
    "ranking": "labels",  # every final label of k-wise pairs, fitted per record (issue 22)
}


#: The file extensions each format is written as (the first is the usual one).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "dpo": (".jsonl", ".parquet"),
    "jsonl": (".jsonl",),
    "label-studio": (".json",),
    "argilla": (".jsonl",),
    "incidents": (".jsonl",),
    "ranking": (".jsonl",),
}


def parse_aggregate(value: str) -> Aggregation:
    if value not in AGGREGATIONS:
        fail(f"--aggregate {value!r}: use one of {', '.join(AGGREGATIONS)}")
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class Layout:
    """How the rows are laid out: DPO style and ranking pairs, chat or not (issue 22)."""

    style: Style
    ties: bool
    schema: ExportSchema
    conversational: bool = False
    from_ranking: RankingPairs | None = None
    on_skip: Callable[[str, str], None] | None = None


def _ranked(rows: Iterable[LabeledPair], layout: Layout) -> Iterable[Ranking]:
    return rank_groups(rows, on_skip=layout.on_skip)


def _writer(fmt: str, layout: Layout) -> Callable[[Iterable[LabeledPair], Path], int]:
    style, ties, schema, chat = layout.style, layout.ties, layout.schema, layout.conversational
    if fmt == "ranking":
        return lambda rows, out: write_rankings(_ranked(rows, layout), out)
    if fmt == "dpo" and layout.from_ranking is not None:
        pairs = layout.from_ranking
        return lambda rows, out: write_ranking_dpo(
            _ranked(rows, layout), out, pairs=pairs, style=style
        )
    if fmt == "dpo":
        dims = schema.dimensions
        return lambda rows, out: write_dpo(rows, out, style=style, ties=ties, dimensions=dims)
    if fmt == "jsonl":
        return write_jsonl
    if fmt == "label-studio":
        from formats.label_studio_write import write_label_studio

        return lambda rows, out: write_label_studio(rows, out, schema=schema, conversational=chat)
    if fmt == "argilla":
        from formats.argilla_write import write_argilla

        return lambda rows, out: write_argilla(rows, out, schema=schema, conversational=chat)
    return lambda rows, out: write_jsonl(rows, out)  # incidents: replaced by the queue's records


def _write_atomically(out: Path, write: Callable[[Path], int]) -> tuple[int, list[Path]]:
    """Write into a fresh folder beside ``out``, then move every file written into place.

    A failed export leaves no half-written file behind. Returns (rows, files written).
    """
    staging = Path(tempfile.mkdtemp(prefix=".referee-export-", dir=out.parent))
    try:
        rows = write(staging / out.name)
        files: list[Path] = []
        for made in sorted(staging.iterdir()):
            target = out.parent / made.name
            made.replace(target)
            files.append(target)
        return rows, files
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def export(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to export.")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="dpo, jsonl, label-studio, argilla, incidents or ranking."),
    ],
    out: Annotated[Path, typer.Option("--out", help="File to write (.jsonl, .parquet, .json).")],
    release: Annotated[
        str | None,
        typer.Option("--release", help="Export this frozen release instead of the live labels."),
    ] = None,
    min_agreement: Annotated[
        float | None,
        typer.Option(
            "--min-agreement",
            help="Leave out pairs whose human answers agree with the label less than this share.",
        ),
    ] = None,
    include_ties: Annotated[
        bool,
        typer.Option(
            "--include-ties",
            help="dpo: also write the ties, to OUT_STEM.ties.jsonl (prompt and both responses, "
            "no chosen/rejected); they never enter the preference file.",
        ),
    ] = False,
    style: Annotated[
        str,
        typer.Option("--style", help="dpo: conversational (message lists) or standard (strings)."),
    ] = "conversational",
    from_ranking: Annotated[
        str | None,
        typer.Option(
            "--from-ranking",
            help="dpo: pairs from each k-wise record's ranking instead of the labeled pairs: "
            "best-worst (first vs last) or all-ordered (every pair in ranked order).",
        ),
    ] = None,
    aggregate: AggregateOpt = "majority",
    as_json: JsonOpt = False,
) -> None:
    """Write final labels in a format training and labeling tools read."""
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if style not in ("conversational", "standard"):
        fail(f"--style {style!r}: use conversational or standard")
    _check_from_ranking(fmt, from_ranking, out)
    if min_agreement is not None and (math.isnan(min_agreement) or not 0 <= min_agreement <= 1):
        fail(f"--min-agreement {min_agreement}: use a share between 0 and 1 (e.g. 0.67)")
    if out.is_dir():
        fail(f"--out {out}: is a folder; give a file name (e.g. {out / 'train.jsonl'})")
    if not out.parent.is_dir():
        fail(f"--out {out}: folder {out.parent} does not exist")
    suffixes = EXTENSIONS[fmt]
    if out.suffix.lower() not in suffixes:
        fail(
            f"--out {out}: the {fmt} format is written as "
            + " or ".join(suffixes)
            + f" (e.g. {out.with_suffix(suffixes[0]).name}); nothing was written"
        )
    method = parse_aggregate(aggregate)
    policy = "labels" if from_ranking else FORMATS[fmt]  # a ranking fits ties and both-bad too
    rules = ExportRules(policy, include_ties=include_ties, min_agreement=min_agreement)
    exclusions = Exclusions()
    engine = open_database()
    with user_errors(), session_factory(engine)() as session:
        ds = dataset_by_name(session, dataset)
        answer_schema = load_schema(session, ds)  # strength and rating columns (issue 11)
        schema = ExportSchema(answer_schema.scale, answer_schema.dimensions)
        layout = Layout(
            style,  # type: ignore[arg-type]
            include_ties,
            schema,
            conversational=has_conversations(session, ds.id),
            from_ranking=from_ranking,  # type: ignore[arg-type]
            on_skip=exclusions.add,
        )
        write_rows = _writer(fmt, layout)
        if release is not None:
            frozen_release = find_release(session, ds, release)
            if frozen_release is None:
                known = ", ".join(r["name"] for r in list_releases(session, ds)) or "none yet"
                raise UserError(
                    f"--release {release!r}: dataset {dataset!r} has no such release "
                    f"(releases: {known}; make one with `referee release`)"
                )
            rows: Iterable[LabeledPair] = release_rows(session, frozen_release)
        else:
            rows = labeled_pairs(session, ds, method=method)
        kept = filter_rows(rows, rules, exclusions, frozen=frozen_index(session))
        write: Callable[[Path], int] = lambda path: write_rows(kept, path)  # noqa: E731
        if fmt == "incidents":  # the incident queue's rows, as `referee incidents` reads them
            records = incident_export_records(session, ds, kept)
            write = lambda path: write_records(records, path)  # noqa: E731
        try:
            written, files = _write_atomically(out, write)
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_RUNTIME)
    doc: dict[str, Any] = {
        "dataset": dataset,
        "release": release,
        "format": fmt,
        "style": style if fmt == "dpo" else None,
        "from_ranking": from_ranking,
        "file": str(out),
        "files": [str(f) for f in files],
        "rows": written,
        "excluded": exclusions.to_json(),
    }
    if as_json:
        emit_json(doc)
        return
    left_out = ", ".join(f"{k} {v['count']:,}" for k, v in doc["excluded"].items())
    stdout.print(
        f"wrote {written:,} {fmt} rows to {out}"
        + (f" from release {release}" if release else "")
        + (f"; left out: {left_out}" if left_out else "")
    )
    for extra in files:
        if extra != out:
            stdout.print(f"wrote {extra}")


def _check_from_ranking(fmt: str, from_ranking: str | None, out: Path) -> None:
    if from_ranking is None:
        return
    if fmt != "dpo":
        fail(f"--from-ranking is for --format dpo (got --format {fmt}); nothing was written")
    if from_ranking not in RANKING_PAIRS:
        fail(f"--from-ranking {from_ranking!r}: use one of {', '.join(RANKING_PAIRS)}")
    if out.suffix.lower() != ".jsonl":
        fail(f"--out {out}: --from-ranking writes JSON Lines (.jsonl); nothing was written")


def labels_final(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset whose final labels to list.")],
    aggregate: AggregateOpt = "majority",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write every row (full provenance) as JSON Lines."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """One final label per pair (human, gold or AI) with its provenance; pending pairs listed."""
    method = parse_aggregate(aggregate)
    if out is not None and (out.is_dir() or not out.parent.is_dir()):
        fail(f"--out {out}: give a file in an existing folder")
    engine = open_database()
    with user_errors(), session_factory(engine)() as session:
        ds = dataset_by_name(session, dataset)
        rows = list(labeled_pairs(session, ds, method=method))
    if out is not None:
        try:
            _write_atomically(out, lambda path: write_jsonl(rows, path))
        except OSError as exc:
            fail(f"cannot write {out}: {exc.strerror or exc}", EXIT_RUNTIME)
    by_source = Counter(str(r.source) if r.source else "pending" for r in rows)
    by_method = Counter(r.method for r in rows)
    by_label = Counter(str(r.label) for r in rows if r.label)
    if as_json:
        emit_json(
            {
                "dataset": dataset,
                "aggregate": aggregate,
                "pairs": len(rows),
                "by_source": dict(sorted(by_source.items())),
                "by_method": dict(sorted(by_method.items())),
                "by_label": dict(sorted(by_label.items())),
                "file": str(out) if out else None,
                "rows": [r.to_json() for r in rows],
            }
        )
        return
    table = Table("source", "pairs", title=f"Final labels of {dataset} ({aggregate})")
    for source, n in sorted(by_source.items()):
        table.add_row(source, f"{n:,}")
    stdout.print(table)
    stdout.print(
        "by method: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(by_method.items()))
        + "; by label: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(by_label.items()))
    )
    if out is not None:
        stdout.print(f"wrote {len(rows):,} rows to {out}")


def releases(
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset's releases.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List releases, oldest first."""
    engine = open_database()
    with user_errors(), session_factory(engine)() as session:
        ds = dataset_by_name(session, dataset) if dataset is not None else None
        found = list_releases(session, ds)
    if as_json:
        emit_json({"releases": found})
        return
    if not found:
        stdout.print("no releases yet: make one with `referee release --dataset D --name v1`")
        return
    table = Table("dataset", "release", "parent", "rows", "preferences", "created", "sha256")
    for r in found:
        table.add_row(
            r["dataset"],
            r["name"],
            r["parent"] or "",
            f"{r['rows']:,}",
            f"{r['row_counts'].get('preferences', 0):,}",
            str(r["created_at"])[:19],
            r["rows_sha256"][:12],
        )
    stdout.print(table)


def register(app: typer.Typer) -> None:
    """Add export, release, releases and ``labels final`` to ``app``."""
    from referee.cli.ingest import labels_app

    labels_app.command("final")(labels_final)
    app.command("export")(export)
    app.command("releases")(releases)
