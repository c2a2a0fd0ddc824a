"""Atomic, streaming imports of pairs, human labels and judge verdicts.

One file is one transaction: records are validated and inserted in batches as they stream, so
memory stays bounded whatever the file's size, and any problem anywhere rolls everything back.
Keys already seen in the file live in a temporary table of the same connection, not in memory.
Re-importing identical records changes nothing; a stored key with different content is a problem.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from sqlalchemy import Engine, bindparam, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from referee.db.engine import transaction
from referee.db.models import AuditEntry, Base, Dataset, HumanLabel, Judgment, Pair
from referee.ingest.problems import InputRejected, Problem, ProblemLog
from referee.ingest.readers import read_records
from referee.ingest.records import (
    Errors,
    FieldMap,
    JudgmentRecord,
    LabelRecord,
    PairRecord,
    validate_judgment,
    validate_label,
    validate_pair,
)

BATCH_SIZE = 2000
R = TypeVar("R")
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


class RecordKind(Protocol[R]):
    """How one kind of record is validated, keyed and reconciled with what is stored."""

    noun: str
    key_field: str

    def validate(self, raw: dict[str, Any], from_csv: bool) -> R | Errors: ...
    def key(self, record: R) -> str: ...
    def describe_key(self, record: R) -> str: ...
    def fingerprint(self, record: R) -> str:
        """What must match for a repeated key to be folded by ``--dedupe``."""
        ...

    def foldable(self, same_fingerprint: bool) -> bool:
        """Whether ``--dedupe`` may drop a repeat (pairs: only with identical texts)."""
        ...

    def reconcile(
        self, session: Session, batch: Sequence[tuple[int, R]], report: Callable[[Problem], None]
    ) -> tuple[list[dict[str, Any]], int, int]:
        """Rows to insert, count unchanged, count updated (problems go to ``report``)."""
        ...

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None: ...


def _seen_table(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    session.execute(text("DROP TABLE IF EXISTS referee_ingest_seen"))
    suffix = " ON COMMIT DROP" if dialect == "postgresql" else ""
    session.execute(
        text(
            "CREATE TEMPORARY TABLE referee_ingest_seen "
            f"(k TEXT PRIMARY KEY, line INTEGER, f TEXT){suffix}"
        )
    )


def _drop_seen_table(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("DROP TABLE IF EXISTS referee_ingest_seen"))


@dataclass
class _Repeats:
    """Repeated keys inside one file (``--dedupe``): folded, and how many of those disagreed."""

    folded: int = 0
    disagreeing: int = 0


def _check_file_duplicates(
    session: Session,
    file: str,
    kind: RecordKind[R],
    batch: list[tuple[int, R]],
    log: ProblemLog,
    repeats: _Repeats | None,
) -> list[tuple[int, R]]:
    """Drop records whose key appeared earlier in the file: reported, or folded with dedupe."""
    first: dict[str, tuple[int, str]] = {}
    candidates: list[tuple[int, R, str, str]] = []
    for line, record in batch:
        candidates.append((line, record, kind.key(record), kind.fingerprint(record)))
    earlier: dict[str, tuple[int, str]] = {
        k: (line, f)
        for k, line, f in session.execute(
            text("SELECT k, line, f FROM referee_ingest_seen WHERE k IN :keys").bindparams(
                bindparam("keys", expanding=True)
            ),
            {"keys": list({c[2] for c in candidates})},
        ).all()
    }
    kept: list[tuple[int, R]] = []
    for line, record, key, fingerprint in candidates:
        seen = first.get(key) or earlier.get(key)
        if seen is None:
            first[key] = (line, fingerprint)
            kept.append((line, record))
            continue
        same = seen[1] == fingerprint
        if repeats is not None and kind.foldable(same):
            repeats.folded += 1
            repeats.disagreeing += 0 if same else 1
            continue
        hint = ""
        if repeats is None and kind.foldable(same):
            hint = "; pass --dedupe to keep the first record of each repeated key"
        log.add(
            Problem(
                file,
                line,
                kind.key_field,
                f"duplicate {kind.describe_key(record)} inside the file "
                f"(first on line {seen[0]}{', same content' if same else ''}){hint}",
            )
        )
    if first:
        session.execute(
            text("INSERT INTO referee_ingest_seen (k, line, f) VALUES (:k, :line, :f)"),
            [{"k": k, "line": line, "f": f} for k, (line, f) in first.items()],
        )
    return kept


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
) -> ImportSummary:
    """Validate and insert every record of ``path`` in one transaction, or nothing at all.

    With ``dedupe``, a key repeated inside the file keeps its first record (pairs: only when the
    texts are identical); the summary counts what was folded. Raises :class:`InputRejected`
    with the first problems (file, line, field) when any record is invalid; the database is
    then exactly as before.
    """
    file = str(path)
    summary = ImportSummary(file=file)
    log = ProblemLog()
    field_map = field_map or FieldMap()
    from_csv = path.name.lower().endswith((".csv", ".tsv"))
    with transaction(engine) as session:
        if before is not None:
            before(session)
        _seen_table(session)
        batch: list[tuple[int, R]] = []
        repeats = _Repeats() if dedupe else None

        def flush() -> None:
            unique = _check_file_duplicates(session, file, kind, batch, log, repeats)
            rows, unchanged, updated = kind.reconcile(session, unique, log.add)
            summary.unchanged += unchanged
            summary.updated += updated
            if rows and not log:
                kind.insert(session, rows)
                summary.inserted += len(rows)
            batch.clear()
            if progress is not None:
                progress(summary.records)

        for item in read_records(path):
            if isinstance(item, Problem):
                log.add(item)
                continue
            line, raw = item
            summary.records += 1
            result = kind.validate(field_map.apply(raw), from_csv)
            if isinstance(result, list):
                for field_name, message in result:
                    log.add(Problem(file, line, field_name, message))
                continue
            batch.append((line, result))
            if len(batch) >= BATCH_SIZE:
                flush()
        if batch:
            flush()
        if summary.records == 0 and not log:
            log.add(Problem(file, 0, None, f"the file is empty: no {kind.noun} records in it"))
        if log:
            session.rollback()
            raise InputRejected(log)
        _drop_seen_table(session)
        if repeats is not None:
            summary.extra["folded_repeats"] = repeats.folded
            summary.extra["folded_disagreeing"] = repeats.disagreeing
        session.add(
            AuditEntry(
                actor=_actor(),
                action=f"import_{kind.noun}s",
                entity="file",
                entity_id=file[-200:],
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
    return summary


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _existing_pairs(session: Session, ids: Iterable[str]) -> set[str]:
    return set(session.scalars(select(Pair.id).where(Pair.id.in_(list(ids)))))


def _report_unknown_pairs(
    session: Session,
    batch: Sequence[tuple[int, Any]],
    file: str,
    report: Callable[[Problem], None],
) -> list[tuple[int, Any]]:
    known = _existing_pairs(session, {r.pair_id for _, r in batch})
    kept = []
    for line, record in batch:
        if record.pair_id in known:
            kept.append((line, record))
        else:
            report(
                Problem(
                    file,
                    line,
                    "pair_id",
                    f"unknown pair '{record.pair_id}'; ingest its pair first (referee ingest)",
                )
            )
    return kept


class PairKind:
    """Pairs of one dataset."""

    noun = "pair"
    key_field = "id"

    def __init__(self, file: str, dataset_id: int, *, frozen_eval: bool, max_field_bytes: int):
        self.file = file
        self.dataset_id = dataset_id
        self.frozen_eval = frozen_eval
        self.max_field_bytes = max_field_bytes

    def validate(self, raw: dict[str, Any], from_csv: bool) -> PairRecord | Errors:
        return validate_pair(raw, max_field_bytes=self.max_field_bytes, from_csv=from_csv)

    def key(self, record: PairRecord) -> str:
        return record.id

    def describe_key(self, record: PairRecord) -> str:
        return f"id '{record.id}'"

    def fingerprint(self, record: PairRecord) -> str:
        return record.text_hash

    def foldable(self, same_fingerprint: bool) -> bool:
        return same_fingerprint

    def reconcile(
        self,
        session: Session,
        batch: Sequence[tuple[int, PairRecord]],
        report: Callable[[Problem], None],
    ) -> tuple[list[dict[str, Any]], int, int]:
        stored = {
            row.id: row
            for row in session.execute(
                select(Pair.id, Pair.dataset_id, Pair.content_hash, Pair.frozen_eval).where(
                    Pair.id.in_([r.id for _, r in batch])
                )
            )
        }
        rows: list[dict[str, Any]] = []
        unchanged = 0
        to_freeze: list[str] = []
        for line, record in batch:
            digest = record.content_hash
            old = stored.get(record.id)
            if old is None:
                rows.append(
                    {
                        "id": record.id,
                        "dataset_id": self.dataset_id,
                        "prompt": record.prompt,
                        "response_a": record.response_a,
                        "response_b": record.response_b,
                        "meta": record.meta,
                        "content_hash": digest,
                        "frozen_eval": self.frozen_eval,
                    }
                )
            elif old.dataset_id != self.dataset_id:
                name = session.scalar(select(Dataset.name).where(Dataset.id == old.dataset_id))
                report(
                    Problem(
                        self.file,
                        line,
                        "id",
                        f"id '{record.id}' already belongs to dataset '{name}'; pair ids are "
                        "unique across datasets",
                    )
                )
            elif old.content_hash != digest:
                report(
                    Problem(
                        self.file,
                        line,
                        "id",
                        f"id '{record.id}' is already stored with different content; give the "
                        "changed pair a new id",
                    )
                )
            elif self.frozen_eval and not old.frozen_eval:
                to_freeze.append(record.id)
            else:
                unchanged += 1
        if to_freeze:
            session.execute(update(Pair).where(Pair.id.in_(to_freeze)).values(frozen_eval=True))
        return rows, unchanged, len(to_freeze)

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        session.execute(insert(Base.metadata.tables["pairs"]), rows)


class LabelKind:
    """Human labels of one kind (gold, review or spot_check)."""

    noun = "label"
    key_field = "annotator"

    def __init__(self, file: str, kind: str, *, max_field_bytes: int):
        self.file = file
        self.kind = kind
        self.max_field_bytes = max_field_bytes

    def validate(self, raw: dict[str, Any], from_csv: bool) -> LabelRecord | Errors:
        return validate_label(raw, max_field_bytes=self.max_field_bytes, from_csv=from_csv)

    def key(self, record: LabelRecord) -> str:
        return f"{record.pair_id}\x1f{record.annotator}"

    def describe_key(self, record: LabelRecord) -> str:
        return f"label of pair '{record.pair_id}' by annotator '{record.annotator}'"

    def fingerprint(self, record: LabelRecord) -> str:
        return record.label

    def foldable(self, same_fingerprint: bool) -> bool:
        return True

    def reconcile(
        self,
        session: Session,
        batch: Sequence[tuple[int, LabelRecord]],
        report: Callable[[Problem], None],
    ) -> tuple[list[dict[str, Any]], int, int]:
        batch = _report_unknown_pairs(session, batch, self.file, report)
        if not batch:
            return [], 0, 0
        stored = {
            (row.pair_id, row.annotator): row.label
            for row in session.execute(
                select(HumanLabel.pair_id, HumanLabel.annotator, HumanLabel.label).where(
                    HumanLabel.kind == self.kind,
                    tuple_(HumanLabel.pair_id, HumanLabel.annotator).in_(
                        [(r.pair_id, r.annotator) for _, r in batch]
                    ),
                )
            )
        }
        rows, unchanged = [], 0
        for line, record in batch:
            old = stored.get((record.pair_id, record.annotator))
            if old is None:
                rows.append(
                    {
                        "pair_id": record.pair_id,
                        "annotator": record.annotator,
                        "label": record.label,
                        "kind": self.kind,
                        "rationale": record.rationale,
                        "reason": record.reason,
                        "duration_s": record.duration_s,
                    }
                )
            elif old != record.label:
                report(
                    Problem(
                        self.file,
                        line,
                        "label",
                        f"annotator '{record.annotator}' already gave pair '{record.pair_id}' "
                        f"the {self.kind} label '{old}', not '{record.label}'",
                    )
                )
            else:
                unchanged += 1
        return rows, unchanged, 0

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        session.execute(insert(Base.metadata.tables["human_labels"]), rows)


class JudgmentKind:
    """Verdicts recorded from LLM judges outside the service."""

    noun = "judgment"
    key_field = "order"

    def __init__(self, file: str, *, max_field_bytes: int):
        self.file = file
        self.max_field_bytes = max_field_bytes

    def validate(self, raw: dict[str, Any], from_csv: bool) -> JudgmentRecord | Errors:
        return validate_judgment(raw, max_field_bytes=self.max_field_bytes, from_csv=from_csv)

    def key(self, record: JudgmentRecord) -> str:
        return "\x1f".join((record.pair_id, record.judge, record.order, record.prompt_version))

    def describe_key(self, record: JudgmentRecord) -> str:
        return (
            f"verdict of judge '{record.judge}' on pair '{record.pair_id}' in order {record.order}"
        )

    def fingerprint(self, record: JudgmentRecord) -> str:
        return record.winner or ""

    def foldable(self, same_fingerprint: bool) -> bool:
        return True

    def reconcile(
        self,
        session: Session,
        batch: Sequence[tuple[int, JudgmentRecord]],
        report: Callable[[Problem], None],
    ) -> tuple[list[dict[str, Any]], int, int]:
        batch = _report_unknown_pairs(session, batch, self.file, report)
        if not batch:
            return [], 0, 0
        stored = {
            (row.pair_id, row.judge, row.order, row.prompt_version): (row.winner, row.raw)
            for row in session.execute(
                select(
                    Judgment.pair_id,
                    Judgment.judge,
                    Judgment.order,
                    Judgment.prompt_version,
                    Judgment.winner,
                    Judgment.raw,
                ).where(Judgment.pair_id.in_({r.pair_id for _, r in batch}))
            )
        }
        rows, unchanged = [], 0
        for line, record in batch:
            key = (record.pair_id, record.judge, record.order, record.prompt_version)
            old = stored.get(key)
            if old is None:
                rows.append(
                    {
                        "pair_id": record.pair_id,
                        "judge": record.judge,
                        "order": record.order,
                        "prompt_version": record.prompt_version,
                        "winner": record.winner,
                        "confidence": record.confidence,
                        "logprob_confidence": record.logprob_confidence,
                        "raw": record.raw,
                        "tokens_in": record.tokens_in,
                        "tokens_out": record.tokens_out,
                        "cost": record.cost,
                        "latency_ms": record.latency_ms,
                        "status": "ok" if record.winner is not None else "unparseable",
                    }
                )
            elif old[0] != record.winner:
                report(
                    Problem(
                        self.file,
                        line,
                        "winner",
                        f"{self.describe_key(record)} is already stored as "
                        f"{old[0] or 'unparseable'}, not {record.winner or 'null'}",
                    )
                )
            else:
                unchanged += 1
        return rows, unchanged, 0

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        session.execute(insert(Base.metadata.tables["judgments"]), rows)


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
) -> ImportSummary:
    """Import the pairs of ``path`` into ``dataset`` (created if new), atomically."""
    kind = PairKind(str(path), -1, frozen_eval=frozen_eval, max_field_bytes=max_field_bytes)

    def bind_dataset(session: Session) -> None:
        dataset_id = dataset_id_for(session, dataset, create=True)
        assert dataset_id is not None
        kind.dataset_id = dataset_id

    return import_file(
        engine,
        path,
        kind,
        field_map=field_map,
        progress=progress,
        audit={"dataset": dataset, "frozen_eval": frozen_eval},
        before=bind_dataset,
        dedupe=dedupe,
    )


def import_labels(
    engine: Engine,
    path: Path,
    *,
    kind: str,
    field_map: FieldMap | None = None,
    max_field_bytes: int,
    progress: Progress | None = None,
    dedupe: bool = False,
) -> ImportSummary:
    """Import human labels of ``kind`` (gold, review, spot_check) from ``path``, atomically."""
    return import_file(
        engine,
        path,
        LabelKind(str(path), kind, max_field_bytes=max_field_bytes),
        field_map=field_map,
        progress=progress,
        audit={"kind": kind},
        dedupe=dedupe,
    )


def import_judgments(
    engine: Engine,
    path: Path,
    *,
    field_map: FieldMap | None = None,
    max_field_bytes: int,
    progress: Progress | None = None,
    dedupe: bool = False,
) -> ImportSummary:
    """Import recorded judge verdicts from ``path``, atomically."""
    return import_file(
        engine,
        path,
        JudgmentKind(str(path), max_field_bytes=max_field_bytes),
        field_map=field_map,
        progress=progress,
        dedupe=dedupe,
    )
