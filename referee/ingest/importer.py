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
from typing import Any, Literal

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
    file = str(path)
    summary = ImportSummary(file=file)
    log = ProblemLog()
    field_map = field_map or FieldMap()
    from_csv = path.name.lower().endswith((".csv", ".tsv"))
    sink: ProblemLog = skipped if skipped is not None else log
    with transaction(engine) as session:
        if before is not None:
            before(session)
        create_seen_table(session)
        batch: list[tuple[int, R]] = []
        repeats = Repeats(on_conflict) if dedupe else None

        def flush() -> None:
            unique = check_file_duplicates(session, file, kind, batch, sink, repeats)
            rows, unchanged, updated = kind.reconcile(session, unique, sink.add)
            summary.unchanged += unchanged
            summary.updated += updated
            if rows and not log:
                kind.insert(session, rows)
                summary.inserted += len(rows)
                if repeats is not None and repeats.on_conflict == "last":
                    mark_inserted(session, [kind.row_key(row) for row in rows])
            batch.clear()
            if progress is not None:
                progress(summary.records)

        for item in read_records(path) if records is None else records:
            if isinstance(item, Problem):
                (sink if item.skippable else log).add(item)
                continue
            line, raw = item
            summary.records += 1
            result = kind.validate(field_map.apply(raw), from_csv)
            if isinstance(result, list):
                for field_name, message in result:
                    sink.add(Problem(file, line, field_name, message))
                if skipped is not None:
                    skipped.keep_record(line, raw)
                continue
            batch.extend((line, r) for r in (result if isinstance(result, tuple) else (result,)))
            if len(batch) >= BATCH_SIZE:
                flush()
        if batch:
            flush()
        if summary.records == 0 and not log:
            log.add(Problem(file, 0, None, f"the file is empty: no {kind.noun} records in it"))
        if log:
            session.rollback()
            raise InputRejected(log)
        if after is not None:
            after(session)
        drop_seen_table(session)
        if skipped is not None:
            summary.extra["skipped"] = skipped.count
            summary.extra["skipped_file"] = str(skipped.out)
        if repeats is not None:
            summary.extra["on_conflict"] = repeats.on_conflict
            summary.extra["folded_repeats"] = repeats.folded
            summary.extra["folded_disagreeing"] = repeats.disagreeing
            summary.extra["disagreeing_keys"] = repeats.listed
            summary.inserted -= repeats.replaced
        session.add(
            AuditEntry(
                actor=_actor(),
                action=f"import_{kind.noun}s",
                entity="file",
                entity_id=_storable_path(file),
                detail={
                    "records": summary.records,
                    "inserted": summary.inserted,
                    "unchanged": summary.unchanged,
                    "updated": summary.updated,
                    **summary.extra,
                    **(audit or {}),
                },
            )
        )
    if skipped is not None:
        skipped.write()
    return summary


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

    def bind_dataset(session: Session) -> None:
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

    def finish_redaction(session: Session) -> None:
        if kind.redaction is not None:
            row = session.get(Dataset, kind.dataset_id)
            assert row is not None
            kind.redaction.finish(session, row, ref=str(path)[-200:])

    summary = import_file(
        engine,
        path,
        kind,
        field_map=field_map,
        progress=progress,
        audit=audit,
        before=bind_dataset,
        after=finish_redaction,
        dedupe=dedupe,
        on_conflict=on_conflict,
        skipped=skipped,
    )
    if source.preference_kind is not None:
        summary.extra["preference_labels"] = kind.labels_added
        summary.extra["preference_as"] = source.preference_kind
    return summary


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
