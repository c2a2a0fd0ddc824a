"""``referee export``, ``referee labels final`` and ``referee releases``.

Final labels (live, or a frozen release's rows) go through the export rules
(:func:`formats.rules.filter_rows`) into one of the file formats of ``formats/``; files are
written into a fresh folder beside the target and moved into place, so a failed export leaves
no half-written file behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from formats.dpo import Style, write_dpo
from formats.full_jsonl import write_jsonl, write_records
from formats.ranking import Ranking, RankingPairs, write_ranking_dpo, write_rankings
from formats.rows import LabeledPair
from formats.rules import Exclusions, ExportRules, RowPolicy, filter_rows
from formats.schema_fields import ExportSchema
from referee.db.engine import session_factory
from referee.db.models import Dataset
from referee.db.routing import dataset_by_name
from referee.errors import RuntimeFailure, UserError
from referee.export.build import frozen_index, labeled_pairs
from referee.export.incidents import incident_export_records
from referee.export.ranking import rank_groups
from referee.export.release import find_release, list_releases, release_rows
from referee.export.shapes import has_conversations
from referee.review.final_labels import Aggregation
from referee.review.schema import load_schema

__all__ = [
    "EXTENSIONS",
    "FORMATS",
    "ExportRequest",
    "FinalLabelCounts",
    "export_labels",
    "final_labels",
    "releases",
    "write_atomically",
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


@dataclass(frozen=True)
class ExportRequest:
    """One ``referee export``, its flags checked by the caller."""

    dataset: str
    fmt: str
    out: Path
    release: str | None
    rules: ExportRules
    style: Style
    method: Aggregation
    from_ranking: RankingPairs | None = None  # dpo from each k-wise record's ranking


@dataclass(frozen=True)
class Layout:
    """How the rows are laid out: DPO style and ranking pairs, chat or not (issue 22)."""

    style: Style
    ties: bool
    schema: ExportSchema
    conversational: bool = False
    from_ranking: RankingPairs | None = None
    on_skip: Callable[[str, str], None] | None = None


def export_labels(engine: Engine, request: ExportRequest) -> dict[str, Any]:
    """Write the dataset's final labels (or a release's rows) as ``request.fmt``; returns what
    was written and what the rules left out."""
    exclusions = Exclusions()
    with session_factory(engine)() as session:
        ds = dataset_by_name(session, request.dataset)
        answer_schema = load_schema(session, ds)  # strength and rating columns (issue 11)
        schema = ExportSchema(answer_schema.scale, answer_schema.dimensions)
        rows = _source_rows(session, ds, request)
        kept = filter_rows(rows, request.rules, exclusions, frozen=frozen_index(session))
        layout = Layout(
            request.style,
            request.rules.include_ties,
            schema,
            conversational=has_conversations(session, ds.id),
            from_ranking=request.from_ranking,
            on_skip=exclusions.add,
        )
        write_rows = _writer(request.fmt, layout)
        write: Callable[[Path], int] = lambda path: write_rows(kept, path)  # noqa: E731
        if request.fmt == "incidents":  # the incident queue's rows, as `referee incidents` reads
            records = incident_export_records(session, ds, kept)
            write = lambda path: write_records(records, path)  # noqa: E731
        written, files = write_atomically(request.out, write)
    return {
        "dataset": request.dataset,
        "release": request.release,
        "format": request.fmt,
        "style": request.style if request.fmt == "dpo" else None,
        "from_ranking": request.from_ranking,
        "file": str(request.out),
        "files": [str(f) for f in files],
        "rows": written,
        "excluded": exclusions.to_json(),
    }


def _source_rows(session: Session, ds: Dataset, request: ExportRequest) -> Iterable[LabeledPair]:
    """The live final labels, or the rows of the release ``request.release`` names."""
    if request.release is None:
        return labeled_pairs(session, ds, method=request.method)
    frozen_release = find_release(session, ds, request.release)
    if frozen_release is None:
        known = ", ".join(r["name"] for r in list_releases(session, ds)) or "none yet"
        raise UserError(
            f"--release {request.release!r}: dataset {request.dataset!r} has no such release "
            f"(releases: {known}; make one with `referee release`)"
        )
    return release_rows(session, frozen_release)


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


def write_atomically(out: Path, write: Callable[[Path], int]) -> tuple[int, list[Path]]:
    """Write into a fresh folder beside ``out``, then move every file written into place.

    A failed export leaves no half-written file behind. Returns (rows, files written); an
    :class:`OSError` becomes a :class:`RuntimeFailure` naming ``out``.
    """
    try:
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
    except OSError as exc:
        raise RuntimeFailure(f"cannot write {out}: {exc.strerror or exc}") from exc


@dataclass
class FinalLabelCounts:
    """What ``labels final`` prints about the rows, counted while they stream past."""

    pairs: int = 0
    by_source: Counter[str] = field(default_factory=Counter)
    by_method: Counter[str] = field(default_factory=Counter)
    by_label: Counter[str] = field(default_factory=Counter)

    def add(self, row: LabeledPair) -> None:
        """Count one row (a pending pair has no source and no label)."""
        self.pairs += 1
        self.by_source[str(row.source) if row.source else "pending"] += 1
        self.by_method[row.method] += 1
        if row.label:
            self.by_label[str(row.label)] += 1


def final_labels(
    engine: Engine,
    dataset: str,
    method: Aggregation,
    out: Path | None,
    each: Callable[[LabeledPair], None] | None = None,
) -> FinalLabelCounts:
    """One final label per pair of ``dataset``, streamed a page at a time: each row is counted,
    handed to ``each`` (when given) and written to ``out`` as JSON Lines (when given); no list
    of every row is kept. Returns the counts."""
    counts = FinalLabelCounts()

    def passing(rows: Iterable[LabeledPair]) -> Iterable[LabeledPair]:
        for row in rows:
            counts.add(row)
            if each is not None:
                each(row)
            yield row

    with session_factory(engine)() as session:
        ds = dataset_by_name(session, dataset)
        rows = passing(labeled_pairs(session, ds, method=method))
        if out is not None:
            write_atomically(out, lambda path: write_jsonl(rows, path))
        else:
            for _ in rows:
                pass
    return counts


def releases(engine: Engine, dataset: str | None) -> list[dict[str, Any]]:
    """Every release (of ``dataset`` when given), oldest first."""
    with session_factory(engine)() as session:
        ds = dataset_by_name(session, dataset) if dataset is not None else None
        return list_releases(session, ds)
