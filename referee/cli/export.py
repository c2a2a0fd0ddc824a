"""``referee labels final``, ``referee export``, ``referee release`` and ``referee releases``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from formats.ranking import RANKING_PAIRS
from formats.rows import LabeledPair
from formats.rules import ExportRules
from referee.app.export import (
    EXTENSIONS,
    FORMATS,
    ExportRequest,
    FinalLabelCounts,
    export_labels,
    final_labels,
)
from referee.app.export import (
    releases as list_releases,
)
from referee.cli.common import (
    AggregateOpt,
    JsonOpt,
    add_labels_group,
    emit_json,
    fail,
    labels_app,
    open_database,
    parse_aggregate,
    stdout,
    user_errors,
)

DatasetOpt = Annotated[str, typer.Option("--dataset", help="Dataset to export.")]
FormatOpt = Annotated[
    str,
    typer.Option("--format", help="dpo, jsonl, label-studio, argilla, incidents or ranking."),
]
OutOpt = Annotated[Path, typer.Option("--out", help="File to write (.jsonl, .parquet, .json).")]
ReleaseOpt = Annotated[
    str | None,
    typer.Option("--release", help="Export this frozen release instead of the live labels."),
]
MinAgreementOpt = Annotated[
    float | None,
    typer.Option(
        "--min-agreement",
        help="Leave out pairs whose human answers agree with the label less than this share.",
    ),
]
IncludeTiesOpt = Annotated[
    bool,
    typer.Option(
        "--include-ties",
        help="dpo: also write the ties, to OUT_STEM.ties.jsonl (prompt and both responses, "
        "no chosen/rejected); they never enter the preference file.",
    ),
]
StyleOpt = Annotated[
    str,
    typer.Option("--style", help="dpo: conversational (message lists) or standard (strings)."),
]
FromRankingOpt = Annotated[
    str | None,
    typer.Option(
        "--from-ranking",
        help="dpo: pairs from each k-wise record's ranking instead of the labeled pairs: "
        "best-worst (first vs last) or all-ordered (every pair in ranked order).",
    ),
]


def export(
    dataset: DatasetOpt,
    fmt: FormatOpt,
    out: OutOpt,
    release: ReleaseOpt = None,
    min_agreement: MinAgreementOpt = None,
    include_ties: IncludeTiesOpt = False,
    style: StyleOpt = "conversational",
    from_ranking: FromRankingOpt = None,
    aggregate: AggregateOpt = "majority",
    as_json: JsonOpt = False,
) -> None:
    """Write final labels in a format training and labeling tools read."""
    _check_export_flags(fmt, style, min_agreement, out)
    _check_from_ranking(fmt, from_ranking, out)
    policy = "labels" if from_ranking else FORMATS[fmt]  # a ranking fits ties and both-bad too
    request = ExportRequest(
        dataset=dataset,
        fmt=fmt,
        out=out,
        release=release,
        rules=ExportRules(policy, include_ties=include_ties, min_agreement=min_agreement),
        style=style,  # type: ignore[arg-type]
        method=parse_aggregate(aggregate),
        from_ranking=from_ranking,  # type: ignore[arg-type]
    )
    engine = open_database()
    with user_errors():
        doc = export_labels(engine, request)
    if as_json:
        emit_json(doc)
        return
    left_out = ", ".join(f"{k} {v['count']:,}" for k, v in doc["excluded"].items())
    stdout.print(
        f"wrote {doc['rows']:,} {fmt} rows to {out}"
        + (f" from release {release}" if release else "")
        + (f"; left out: {left_out}" if left_out else "")
    )
    for extra in map(Path, doc["files"]):
        if extra != out:
            stdout.print(f"wrote {extra}")


def _check_export_flags(fmt: str, style: str, min_agreement: float | None, out: Path) -> None:
    if fmt not in FORMATS:
        fail(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if style not in ("conversational", "standard"):
        fail(f"--style {style!r}: use conversational or standard")
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
    head = {"dataset": dataset, "aggregate": aggregate, "file": str(out) if out else None}
    stream = _JsonRows(head) if as_json else None
    with user_errors():
        counts = final_labels(engine, dataset, method, out, stream)
    if stream is not None:
        stream.close(
            {
                "pairs": counts.pairs,
                "by_source": dict(sorted(counts.by_source.items())),
                "by_method": dict(sorted(counts.by_method.items())),
                "by_label": dict(sorted(counts.by_label.items())),
            }
        )
        return
    _print_final_counts(dataset, aggregate, counts, out)


class _JsonRows:
    """One JSON document on stdout written as the rows stream past: ``head``'s keys, then
    ``"rows"`` one row per line, then the keys given to :meth:`close` (the counts, known only
    at the end). Nothing keeps the rows; ``head`` must have at least one key."""

    def __init__(self, head: dict[str, Any]) -> None:
        self.head = head
        self.rows = 0

    def _start(self) -> None:
        opening = json.dumps(self.head, indent=2, default=str)[:-2]  # drop the closing "\n}"
        sys.stdout.write(opening + ',\n  "rows": [')

    def __call__(self, row: LabeledPair) -> None:
        if not self.rows:
            self._start()
        line = json.dumps(row.to_json(), default=str)
        sys.stdout.write(("\n    " if not self.rows else ",\n    ") + line)
        self.rows += 1

    def close(self, tail: dict[str, Any]) -> None:
        """End the rows and the document with ``tail``'s keys."""
        if not self.rows:
            self._start()
        closing = json.dumps(tail, indent=2, default=str)[1:]  # drop the opening "{"
        sys.stdout.write(("\n  ]," if self.rows else "],") + closing + "\n")
        sys.stdout.flush()


def _print_final_counts(
    dataset: str, aggregate: str, counts: FinalLabelCounts, out: Path | None
) -> None:
    table = Table("source", "pairs", title=f"Final labels of {dataset} ({aggregate})")
    for source, n in sorted(counts.by_source.items()):
        table.add_row(source, f"{n:,}")
    stdout.print(table)
    stdout.print(
        "by method: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.by_method.items()))
        + "; by label: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.by_label.items()))
    )
    if out is not None:
        stdout.print(f"wrote {counts.pairs:,} rows to {out}")


def releases(
    dataset: Annotated[
        str | None, typer.Option("--dataset", help="Only this dataset's releases.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List releases, oldest first."""
    engine = open_database()
    with user_errors():
        found = list_releases(engine, dataset)
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


labels_app.command("final")(labels_final)


def register(app: typer.Typer) -> None:
    """Add export, release, releases and ``labels final`` to ``app``."""
    add_labels_group(app)
    app.command("export")(export)
    app.command("releases")(releases)
