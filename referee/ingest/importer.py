"""Atomic, streaming imports of pairs, human labels and judge verdicts.

One file is one transaction: records are validated and inserted in batches as they stream, so
memory stays bounded whatever the file's size, and any problem anywhere rolls everything back.
Keys already seen in the file live in a temporary table of the same connection, not in memory.
Re-importing identical records changes nothing; a stored key with different content is a problem.

This module runs an import (:func:`import_file`) and holds the entry points; the rest is by job:
reading (:mod:`~formats.readers`), validating (:mod:`~referee.ingest.records`), repeats
inside the file (:mod:`~referee.ingest.repeats`), and reconciling each kind of record with what
is stored (:mod:`~referee.ingest.pair_kind`, :mod:`~referee.ingest.annotation_kinds`, both
implementing :class:`~referee.ingest.record_kind.RecordKind`).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from formats.problems import InputRejected, Problem, ProblemLog
from formats.readers import Item, read_records
from redaction.errors import RedactionError
from referee.db.engine import transaction
from referee.db.models import AuditEntry, Dataset
from referee.ingest.annotation_kinds import JudgmentKind, LabelKind
from referee.ingest.pair_kind import PairKind, PairSource
from referee.ingest.record_kind import R, RecordKind
from referee.ingest.records import FieldMap, check_name
from referee.ingest.redaction import RedactionSetup, RedactionUnavailable, start_redaction
from referee.ingest.repeats import (
    OnConflict,
    Repeats,
    check_file_duplicates,
    create_seen_table,
    drop_seen_table,
    mark_inserted,
)
from referee.ingest.skipped import SkippedRecords, default_skipped_path

BATCH_SIZE = 2000
Progress = Callable[[int], None]


@dataclass
class ImportSummary:
    """What an import did."""

    file: str
    records: int = 0
    inserted: int = 0
    unchanged: int = 0
    updated: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def import_file(
    engine: Engine,
    path: Path,
    kind: RecordKind[R],
    *,
    field_map: FieldMap | None = None,
    progress: Progress | None = None,
    audit: dict[str, Any] | None = None,
    before: Callable[[Session], None] | None = None,
    dedupe: bool = False,
    on_conflict: OnConflict = "first",
    records: Iterable[Item] | None = None,
    after: Callable[[Session], None] | None = None,
    skipped: SkippedRecords | None = None,
) -> ImportSummary:
    """Validate and insert every record of ``path`` in one transaction, or nothing at all.

    ``before`` runs first in the transaction, ``after`` last (only when nothing was wrong).

    ``records``: the file's records as another reader yields them (a Label Studio or Argilla
    export, say); by default :func:`read_records` reads ``path`` as JSON Lines, CSV or Parquet.

    With ``dedupe``, identical repeats of a key inside the file are folded into one record, and
    repeats with different content are resolved by ``on_conflict``: keep the ``first``, keep the
    ``last``, or ``error`` (pairs: only when the texts are identical; different texts are always a
    problem). The summary counts what was folded and lists the disagreeing keys (the first
    20). Raises :class:`InputRejected`
    with the first problems (file, line, field) when any record is invalid; the database is
    then exactly as before. With ``skipped`` (``--skip-invalid``), problems with single records
    skip those records instead, and the skipped records are written to ``skipped.out`` after
    the import commits.
    """
    log = ProblemLog()
    repeats = Repeats(on_conflict) if dedupe else None
    from_csv = path.name.lower().endswith((".csv", ".tsv"))
    with transaction(engine) as session:
        if before is not None:
            before(session)
        create_seen_table(session)
        run = _Import(session, kind, ImportSummary(file=str(path)), log, repeats, progress, skipped)
        run.read(
            read_records(path) if records is None else records, field_map or FieldMap(), from_csv
        )
        run.reject_if_wrong()
        if run.expanded:  # k-wise: records and the pairs they became are counted apart
            run.summary.extra["pairs"] = run.produced
        if after is not None:
            after(session)
        drop_seen_table(session)
        _add_extras(run.summary, skipped, repeats)
        session.add(_audit_entry(kind, run.summary, audit))
    if skipped is not None:
        skipped.write()
    return run.summary


@dataclass
class _Import(Generic[R]):
    """One import in progress: its transaction, kind, problems, current batch and summary."""

    session: Session
    kind: RecordKind[R]
    summary: ImportSummary
    log: ProblemLog
    repeats: Repeats | None
    progress: Progress | None
    skipped: SkippedRecords | None
    batch: list[tuple[int, R]] = field(default_factory=list)
    produced: int = 0  # rows the valid records became (a k-wise record: several pairs)
    expanded: bool = False  # some record became a group of rows (k-wise)

    @property
    def sink(self) -> ProblemLog:
        """Where problems with single records go: the skipped records, or the problem log."""
        return self.skipped if self.skipped is not None else self.log

    def read(self, items: Iterable[Item], field_map: FieldMap, from_csv: bool) -> None:
        """Validate every item and insert the valid records, batch by batch."""
        for item in items:
            self.take(item, field_map, from_csv)
        if self.batch:
            self.flush()

    def take(self, item: Item, field_map: FieldMap, from_csv: bool) -> None:
        """Record one item's problems, or add its records to the batch (flushed when full)."""
        if isinstance(item, Problem):
            (self.sink if item.skippable else self.log).add(item)
            return
        line, raw = item
        self.summary.records += 1
        result = self.kind.validate(field_map.apply(raw), from_csv)
        if isinstance(result, list):
            for field_name, message in result:
                self.sink.add(Problem(self.summary.file, line, field_name, message))
            if self.skipped is not None:
                self.skipped.keep_record(line, raw)
            return
        rows = result if isinstance(result, tuple) else (result,)
        self.produced += len(rows)
        self.expanded = self.expanded or isinstance(result, tuple)
        self.batch.extend((line, r) for r in rows)
        if len(self.batch) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        """Reconcile the batch with what is stored and insert its new rows (when all is well)."""
        session, kind, summary = self.session, self.kind, self.summary
        unique = check_file_duplicates(
            session, summary.file, kind, self.batch, self.sink, self.repeats
        )
        rows, unchanged, updated = kind.reconcile(session, unique, self.sink.add)
        summary.unchanged += unchanged
        summary.updated += updated
        if rows and not self.log:
            kind.insert(session, rows)
            summary.inserted += len(rows)
            if self.repeats is not None and self.repeats.on_conflict == "last":
                mark_inserted(session, [kind.row_key(row) for row in rows])
        self.batch.clear()
        if self.progress is not None:
            self.progress(summary.records)

    def reject_if_wrong(self) -> None:
        """Roll back and raise :class:`InputRejected` when the file is empty or had problems."""
        if self.summary.records == 0 and not self.log:
            self.log.add(
                Problem(
                    self.summary.file,
                    0,
                    None,
                    f"the file is empty: no {self.kind.noun} records in it",
                )
            )
        if self.log:
            self.session.rollback()
            raise InputRejected(self.log)


def _add_extras(
    summary: ImportSummary, skipped: SkippedRecords | None, repeats: Repeats | None
) -> None:
    """Add what ``--skip-invalid`` and ``--dedupe`` did to the summary."""
    if skipped is not None:
        summary.extra["skipped"] = skipped.count
        summary.extra["skipped_file"] = str(skipped.out)
    if repeats is not None:
        summary.extra["on_conflict"] = repeats.on_conflict
        summary.extra["folded_repeats"] = repeats.folded
        summary.extra["folded_disagreeing"] = repeats.disagreeing
        summary.extra["disagreeing_keys"] = repeats.listed
        summary.inserted -= repeats.replaced


def _audit_entry(
    kind: RecordKind[Any], summary: ImportSummary, audit: dict[str, Any] | None
) -> AuditEntry:
    """The audit entry of a committed import."""
    return AuditEntry(
        actor=_actor(),
        action=f"import_{kind.noun}s",
        entity="file",
        entity_id=_storable_path(summary.file),
        detail={
            "records": summary.records,
            "inserted": summary.inserted,
            "unchanged": summary.unchanged,
            "updated": summary.updated,
            **summary.extra,
            **(audit or {}),
        },
    )


def _storable_path(file: str) -> str:
    """``file`` as storable text: undecodable bytes of the name replaced, its last 200 chars."""
    return file.encode("utf-8", "surrogateescape").decode("utf-8", "replace")[-200:]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def dataset_id_for(session: Session, name: str, *, create: bool) -> int | None:
    """The id of dataset ``name``; created (in the caller's transaction) when ``create``."""
    found = session.scalar(select(Dataset.id).where(Dataset.name == name))
    if found is None and create:
        dataset = Dataset(name=name)
        session.add(dataset)
        session.flush()
        return dataset.id
    return found


def ingest_pairs(
    engine: Engine,
    path: Path,
    dataset: str,
    *,
    frozen_eval: bool = False,
    field_map: FieldMap | None = None,
    max_field_bytes: int,
    progress: Progress | None = None,
    dedupe: bool = False,
    on_conflict: OnConflict = "first",
    redaction: RedactionSetup | None = None,
    source: PairSource | None = None,
    skip_invalid: bool = False,
    skipped_out: Path | None = None,
) -> ImportSummary:
    """Import the pairs of ``path`` into ``dataset`` (created if new), atomically.

    ``redaction``: start redacting the dataset (``redact=True``) and the vault and key to use;
    a dataset that already requires redaction is redacted whatever this says.
    ``source``: the file's layout (Referee's, TRL, HH-RLHF), the k-wise design and what becomes
    of a file's preference. ``skip_invalid``: import the valid records and write the others to
    ``skipped_out`` (default ``<name>.skipped.jsonl`` beside the file).
    """
    _check_dataset_name(path, dataset)
    source = source or PairSource()
    kind = PairKind(
        str(path), -1, frozen_eval=frozen_eval, max_field_bytes=max_field_bytes, source=source
    )
    audit: dict[str, Any] = {"dataset": dataset, "frozen_eval": frozen_eval}
    audit.update(format=source.layout, pairs=str(source.design))
    skipped = _skipped(path, skip_invalid, skipped_out)

    summary = import_file(
        engine,
        path,
        kind,
        field_map=field_map,
        progress=progress,
        audit=audit,
        before=lambda session: _bind_dataset(session, kind, dataset, path, redaction, audit),
        after=lambda session: _finish_redaction(session, kind, path),
        dedupe=dedupe,
        on_conflict=on_conflict,
        skipped=skipped,
    )
    if source.preference_kind is not None:
        summary.extra["preference_labels"] = kind.labels_added
        summary.extra["preference_as"] = source.preference_kind
    return summary


def _bind_dataset(
    session: Session,
    kind: PairKind,
    dataset: str,
    path: Path,
    redaction: RedactionSetup | None,
    audit: dict[str, Any],
) -> None:
    """Give ``kind`` the id of ``dataset`` (created if new) and start its redaction, if any."""
    dataset_id = dataset_id_for(session, dataset, create=True)
    assert dataset_id is not None
    kind.dataset_id = dataset_id
    row = session.get(Dataset, dataset_id, with_for_update=True)
    assert row is not None
    try:
        kind.redaction = start_redaction(session, row, redaction or RedactionSetup())
    except (RedactionUnavailable, RedactionError) as exc:
        log = ProblemLog()
        log.add(Problem(str(path), 0, None, str(exc)))
        raise InputRejected(log) from None
    if kind.redaction is not None:
        audit["redaction_version"] = kind.redaction.version


def _finish_redaction(session: Session, kind: PairKind, path: Path) -> None:
    """Finish redacting the dataset ``kind`` imported into, when it is being redacted."""
    if kind.redaction is not None:
        row = session.get(Dataset, kind.dataset_id)
        assert row is not None
        kind.redaction.finish(session, row, ref=str(path)[-200:])


def _check_dataset_name(path: Path, dataset: str) -> None:
    problem = check_name(dataset, "a dataset name")
    if problem is not None:
        log = ProblemLog()
        log.add(Problem(str(path), 0, None, f"dataset name {problem}"))
        raise InputRejected(log)


LabelFileFormat = Literal["referee", "label-studio", "argilla"]
LABEL_FILE_FORMATS: tuple[str, ...] = ("referee", "label-studio", "argilla")


def import_labels(
    engine: Engine,
    path: Path,
    *,
    kind: str,
    field_map: FieldMap | None = None,
    max_field_bytes: int,
    progress: Progress | None = None,
    dedupe: bool = False,
    on_conflict: OnConflict = "first",
    source_format: LabelFileFormat = "referee",
    skip_invalid: bool = False,
    skipped_out: Path | None = None,
) -> ImportSummary:
    """Import human labels of ``kind`` (gold, review, spot_check) from ``path``, atomically.

    ``source_format``: ``referee`` (JSON Lines, CSV or Parquet in Referee's label format),
    ``label-studio`` (a Label Studio JSON export) or ``argilla`` (Argilla 2.x records).
    """
    records: Iterable[Item] | None = None
    if source_format == "label-studio":
        from formats.label_studio_read import read_label_studio

        records = read_label_studio(path)
    elif source_format == "argilla":
        from formats.argilla_read import read_argilla

        records = read_argilla(path)
    label_kind = LabelKind(str(path), kind, max_field_bytes=max_field_bytes)
    summary = import_file(
        engine,
        path,
        label_kind,
        field_map=field_map,
        progress=progress,
        audit={"kind": kind, "format": source_format},
        dedupe=dedupe,
        on_conflict=on_conflict,
        records=records,
        skipped=_skipped(path, skip_invalid, skipped_out),
    )
    if label_kind.other_kind_skipped:
        summary.extra["other_kind_skipped"] = label_kind.other_kind_skipped
    return summary


def import_judgments(
    engine: Engine,
    path: Path,
    *,
    field_map: FieldMap | None = None,
    max_field_bytes: int,
    progress: Progress | None = None,
    dedupe: bool = False,
    on_conflict: OnConflict = "first",
    skip_invalid: bool = False,
    skipped_out: Path | None = None,
) -> ImportSummary:
    """Import recorded judge verdicts from ``path``, atomically (``skip_invalid``: see
    :func:`ingest_pairs`)."""
    return import_file(
        engine,
        path,
        JudgmentKind(str(path), max_field_bytes=max_field_bytes),
        field_map=field_map,
        progress=progress,
        dedupe=dedupe,
        on_conflict=on_conflict,
        skipped=_skipped(path, skip_invalid, skipped_out),
    )


def _skipped(path: Path, skip_invalid: bool, out: Path | None) -> SkippedRecords | None:
    """Where ``--skip-invalid`` puts the skipped records, or None without it."""
    return SkippedRecords(out=out or default_skipped_path(path)) if skip_invalid else None
