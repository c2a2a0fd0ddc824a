"""Atomic, streaming imports of pairs, human labels and judge verdicts.

One file is one transaction: records are validated and inserted in batches as they stream, so
memory stays bounded whatever the file's size, and any problem anywhere rolls everything back.
Keys already seen in the file live in a temporary table of the same connection, not in memory.
Re-importing identical records changes nothing; a stored key with different content is a problem.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import Engine, bindparam, delete, insert, select, text, tuple_, update
from sqlalchemy.orm import Session

from referee.db.engine import transaction
from referee.db.models import AuditEntry, Base, Dataset, HumanLabel, Judgment, Pair
from referee.ingest.problems import InputRejected, Problem, ProblemLog
from referee.ingest.readers import Item, read_records
from referee.ingest.records import (
    Errors,
    FieldMap,
    JudgmentRecord,
    LabelRecord,
    PairRecord,
    check_name,
    validate_judgment,
    validate_label,
    validate_pair,
)
from referee.ingest.redaction import (
    RedactingIngest,
    RedactionSetup,
    RedactionUnavailable,
    start_redaction,
)
from referee.redaction.errors import RedactionError

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


OnConflict = Literal["first", "last", "error"]
ON_CONFLICT: tuple[OnConflict, ...] = ("first", "last", "error")
MAX_LISTED = 20


class RecordKind(Protocol[R]):
    """How one kind of record is validated, keyed and reconciled with what is stored."""

    noun: str
    key_field: str
    different_note: str
    """How a repeat whose fold group matches but whose content differs is described."""

    def validate(self, raw: dict[str, Any], from_csv: bool) -> R | Errors: ...
    def key(self, record: R) -> str: ...
    def row_key(self, row: dict[str, Any]) -> str:
        """:meth:`key` of an inserted row."""
        ...

    def describe_key(self, record: R) -> str: ...
    def fingerprint(self, record: R) -> str:
        """A digest of everything stored for the record: equal means the same content."""
        ...

    def fold_group(self, record: R) -> str:
        """What must match for ``--dedupe`` to fold a repeat at all (pairs: their texts)."""
        ...

    def delete(self, session: Session, record: R) -> None:
        """Remove the stored row of ``record``'s key (one inserted earlier by this import)."""
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
            f"(k TEXT PRIMARY KEY, line INTEGER, f TEXT, g TEXT, ins INTEGER){suffix}"
        )
    )


def _drop_seen_table(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("DROP TABLE IF EXISTS referee_ingest_seen"))


@dataclass
class _Repeats:
    """Repeated keys inside one file (``--dedupe``): how they are resolved, what was folded."""

    on_conflict: OnConflict = "first"
    folded: int = 0
    disagreeing: int = 0
    replaced: int = 0
    listed: list[str] = field(default_factory=list)

    def disagree(self, description: str, first_line: int, line: int) -> None:
        self.disagreeing += 1
        if len(self.listed) < MAX_LISTED:
            self.listed.append(f"{description} (lines {first_line} and {line})")


@dataclass
class _Seen:
    line: int
    content: str
    group: str
    inserted: bool


def _check_file_duplicates(
    session: Session,
    file: str,
    kind: RecordKind[R],
    batch: list[tuple[int, R]],
    log: ProblemLog,
    repeats: _Repeats | None,
) -> list[tuple[int, R]]:
    """Drop records whose key appeared earlier in the file: reported, or resolved with dedupe.

    Identical repeats are folded into the first record. Repeats with different content are
    problems without ``--dedupe``; with it, ``on_conflict`` keeps the first record, keeps the
    last (replacing a row this import inserted from an earlier batch) or refuses the file.
    """
    candidates = [
        (line, record, kind.key(record), kind.fingerprint(record), kind.fold_group(record))
        for line, record in batch
    ]
    earlier: dict[str, _Seen] = {
        k: _Seen(line, f, g, bool(ins))
        for k, line, f, g, ins in session.execute(
            text("SELECT k, line, f, g, ins FROM referee_ingest_seen WHERE k IN :keys").bindparams(
                bindparam("keys", expanding=True)
            ),
            {"keys": list({c[2] for c in candidates})},
        ).all()
    }
    new: dict[str, _Seen] = {}
    moved: set[str] = set()
    kept: dict[str, tuple[int, R]] = {}
    for line, record, key, content, group in candidates:
        seen = new.get(key) or earlier.get(key)
        if seen is None:
            new[key] = _Seen(line, content, group, False)
            kept[key] = (line, record)
            continue
        same_content = seen.content == content
        if repeats is None or seen.group != group:
            note = (
                ", same content"
                if same_content
                else (f", {kind.different_note}" if seen.group == group else "")
            )
            hint = ""
            if repeats is None and seen.group == group:
                hint = "; pass --dedupe to keep the first record of each repeated key"
            log.add(
                Problem(
                    file,
                    line,
                    kind.key_field,
                    f"duplicate {kind.describe_key(record)} inside the file "
                    f"(first on line {seen.line}{note}){hint}",
                )
            )
            continue
        repeats.folded += 1
        if same_content:
            continue
        repeats.disagree(kind.describe_key(record), seen.line, line)
        if repeats.on_conflict == "error":
            log.add(
                Problem(
                    file,
                    line,
                    kind.key_field,
                    f"{kind.describe_key(record)} is repeated with {kind.different_note} "
                    f"(first on line {seen.line}); --on-conflict error refuses it: keep one "
                    "of them, or pass --on-conflict first|last",
                )
            )
        elif repeats.on_conflict == "last":
            if key not in kept and seen.inserted:
                kind.delete(session, record)
                repeats.replaced += 1
            kept[key] = (line, record)
            if key in new:
                new[key] = _Seen(line, content, group, False)
            else:
                earlier[key] = _Seen(line, content, group, False)
                moved.add(key)
    if new:
        session.execute(
            text("INSERT INTO referee_ingest_seen (k, line, f, g, ins) VALUES (:k, :l, :f, :g, 0)"),
            [{"k": k, "l": s.line, "f": s.content, "g": s.group} for k, s in new.items()],
        )
    if moved:
        session.execute(
            text("UPDATE referee_ingest_seen SET line = :l, f = :f, ins = 0 WHERE k = :k"),
            [{"k": k, "l": earlier[k].line, "f": earlier[k].content} for k in moved],
        )
    return list(kept.values())


def _mark_inserted(session: Session, keys: list[str]) -> None:
    """Note the keys this import inserted (``--on-conflict last`` may replace them later)."""
    if keys:
        session.execute(
            text("UPDATE referee_ingest_seen SET ins = 1 WHERE k IN :keys").bindparams(
                bindparam("keys", expanding=True)
            ),
            {"keys": keys},
        )


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
        repeats = _Repeats(on_conflict) if dedupe else None

        def flush() -> None:
            unique = _check_file_duplicates(session, file, kind, batch, log, repeats)
            rows, unchanged, updated = kind.reconcile(session, unique, log.add)
            summary.unchanged += unchanged
            summary.updated += updated
            if rows and not log:
                kind.insert(session, rows)
                summary.inserted += len(rows)
                if repeats is not None and repeats.on_conflict == "last":
                    _mark_inserted(session, [kind.row_key(row) for row in rows])
            batch.clear()
            if progress is not None:
                progress(summary.records)

        for item in read_records(path) if records is None else records:
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
        if after is not None:
            after(session)
        _drop_seen_table(session)
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
    return summary


LABEL_CONTENT = ("label", "rationale", "reason", "duration_s")
"""What is stored of a label besides its key; any difference is a conflict."""
JUDGMENT_CONTENT = (
    "winner",
    "confidence",
    "logprob_confidence",
    "raw",
    "tokens_in",
    "tokens_out",
    "cost",
    "latency_ms",
)
"""What is stored of a recorded verdict besides its key; any difference is a conflict."""


def _digest(values: list[Any]) -> str:
    body = json.dumps(values, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _first_difference(stored: Any, record: Any, names: tuple[str, ...]) -> str | None:
    """The first field whose stored value differs from the record's, or None."""
    for name in names:
        if getattr(stored, name) != getattr(record, name):
            return name
    return None


def _shown(value: Any) -> str:
    """A stored or new value for a message: quoted, cut to a readable length."""
    if value is None:
        return "null"
    text_value = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else str(value)
    return text_value if len(text_value) <= 60 else f'{text_value[:50]}…" ({len(value)} chars)'


def _storable_path(file: str) -> str:
    """``file`` as storable text: undecodable bytes of the name replaced, its last 200 chars."""
    return file.encode("utf-8", "surrogateescape").decode("utf-8", "replace")[-200:]


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
    different_note = "the same prompt and responses but different meta"

    def __init__(self, file: str, dataset_id: int, *, frozen_eval: bool, max_field_bytes: int):
        self.file = file
        self.dataset_id = dataset_id
        self.frozen_eval = frozen_eval
        self.max_field_bytes = max_field_bytes
        self.redaction: RedactingIngest | None = None

    def validate(self, raw: dict[str, Any], from_csv: bool) -> PairRecord | Errors:
        result = validate_pair(raw, max_field_bytes=self.max_field_bytes, from_csv=from_csv)
        if self.redaction is not None and isinstance(result, PairRecord):
            return self.redaction.apply(result)
        return result

    def key(self, record: PairRecord) -> str:
        return record.id

    def row_key(self, row: dict[str, Any]) -> str:
        return str(row["id"])

    def describe_key(self, record: PairRecord) -> str:
        return f"id '{record.id}'"

    def fingerprint(self, record: PairRecord) -> str:
        return record.content_hash

    def fold_group(self, record: PairRecord) -> str:
        return record.text_hash

    def delete(self, session: Session, record: PairRecord) -> None:
        session.execute(delete(Pair).where(Pair.id == record.id))

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
                        "redaction_version": (
                            self.redaction.version if self.redaction is not None else None
                        ),
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
    different_note = "different content"

    def __init__(self, file: str, kind: str, *, max_field_bytes: int):
        self.file = file
        self.kind = kind
        self.max_field_bytes = max_field_bytes

    def validate(self, raw: dict[str, Any], from_csv: bool) -> LabelRecord | Errors:
        return validate_label(raw, max_field_bytes=self.max_field_bytes, from_csv=from_csv)

    def key(self, record: LabelRecord) -> str:
        return f"{record.pair_id}\x1f{record.annotator}"

    def row_key(self, row: dict[str, Any]) -> str:
        return f"{row['pair_id']}\x1f{row['annotator']}"

    def describe_key(self, record: LabelRecord) -> str:
        return f"label of pair '{record.pair_id}' by annotator '{record.annotator}'"

    def fingerprint(self, record: LabelRecord) -> str:
        return _digest([getattr(record, name) for name in LABEL_CONTENT])

    def fold_group(self, record: LabelRecord) -> str:
        return ""

    def delete(self, session: Session, record: LabelRecord) -> None:
        session.execute(
            delete(HumanLabel).where(
                HumanLabel.pair_id == record.pair_id,
                HumanLabel.annotator == record.annotator,
                HumanLabel.kind == self.kind,
            )
        )

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
            (row.pair_id, row.annotator): row
            for row in session.execute(
                select(
                    HumanLabel.pair_id,
                    HumanLabel.annotator,
                    *(getattr(HumanLabel, name) for name in LABEL_CONTENT),
                ).where(
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
                continue
            changed = _first_difference(old, record, LABEL_CONTENT)
            if changed is None:
                unchanged += 1
            elif changed == "label":
                report(
                    Problem(
                        self.file,
                        line,
                        "label",
                        f"annotator '{record.annotator}' already gave pair '{record.pair_id}' "
                        f"the {self.kind} label '{old.label}', not '{record.label}'",
                    )
                )
            else:
                report(
                    Problem(
                        self.file,
                        line,
                        changed,
                        f"annotator '{record.annotator}' already gave pair '{record.pair_id}' "
                        f"the same {self.kind} label with {changed} "
                        f"{_shown(getattr(old, changed))}, not {_shown(getattr(record, changed))}"
                        "; stored labels are never overwritten by an import",
                    )
                )
        return rows, unchanged, 0

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        session.execute(insert(Base.metadata.tables["human_labels"]), rows)


class JudgmentKind:
    """Verdicts recorded from LLM judges outside the service."""

    noun = "judgment"
    key_field = "order"
    different_note = "different content"

    def __init__(self, file: str, *, max_field_bytes: int):
        self.file = file
        self.max_field_bytes = max_field_bytes

    def validate(self, raw: dict[str, Any], from_csv: bool) -> JudgmentRecord | Errors:
        return validate_judgment(raw, max_field_bytes=self.max_field_bytes, from_csv=from_csv)

    def key(self, record: JudgmentRecord) -> str:
        return "\x1f".join((record.pair_id, record.judge, record.order, record.prompt_version))

    def row_key(self, row: dict[str, Any]) -> str:
        return "\x1f".join((row["pair_id"], row["judge"], row["order"], row["prompt_version"]))

    def describe_key(self, record: JudgmentRecord) -> str:
        return (
            f"verdict of judge '{record.judge}' on pair '{record.pair_id}' in order {record.order}"
        )

    def fingerprint(self, record: JudgmentRecord) -> str:
        return _digest([getattr(record, name) for name in JUDGMENT_CONTENT])

    def fold_group(self, record: JudgmentRecord) -> str:
        return ""

    def delete(self, session: Session, record: JudgmentRecord) -> None:
        session.execute(
            delete(Judgment).where(
                Judgment.pair_id == record.pair_id,
                Judgment.judge == record.judge,
                Judgment.order == record.order,
                Judgment.prompt_version == record.prompt_version,
            )
        )

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
            (row.pair_id, row.judge, row.order, row.prompt_version): row
            for row in session.execute(
                select(
                    Judgment.pair_id,
                    Judgment.judge,
                    Judgment.order,
                    Judgment.prompt_version,
                    *(getattr(Judgment, name) for name in JUDGMENT_CONTENT),
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
                continue
            changed = _first_difference(old, record, JUDGMENT_CONTENT)
            if changed is None:
                unchanged += 1
            elif changed == "winner":
                report(
                    Problem(
                        self.file,
                        line,
                        "winner",
                        f"{self.describe_key(record)} is already stored as "
                        f"{old.winner or 'unparseable'}, not {record.winner or 'null'}",
                    )
                )
            else:
                report(
                    Problem(
                        self.file,
                        line,
                        changed,
                        f"{self.describe_key(record)} is already stored with the same winner "
                        f"but {changed} {_shown(getattr(old, changed))}, not "
                        f"{_shown(getattr(record, changed))}; stored verdicts are never "
                        "overwritten: give new verdicts their own prompt_version",
                    )
                )
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
    on_conflict: OnConflict = "first",
    redaction: RedactionSetup | None = None,
) -> ImportSummary:
    """Import the pairs of ``path`` into ``dataset`` (created if new), atomically.

    ``redaction``: start redacting the dataset (``redact=True``) and the vault and key to use;
    a dataset that already requires redaction is redacted whatever this says.
    """
    problem = check_name(dataset, "a dataset name")
    if problem is not None:
        log = ProblemLog()
        log.add(Problem(str(path), 0, None, f"dataset name {problem}"))
        raise InputRejected(log)
    kind = PairKind(str(path), -1, frozen_eval=frozen_eval, max_field_bytes=max_field_bytes)
    audit: dict[str, Any] = {"dataset": dataset, "frozen_eval": frozen_eval}

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

    return import_file(
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
    )


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
) -> ImportSummary:
    """Import human labels of ``kind`` (gold, review, spot_check) from ``path``, atomically.

    ``source_format``: ``referee`` (JSON Lines, CSV or Parquet in Referee's label format),
    ``label-studio`` (a Label Studio JSON export) or ``argilla`` (Argilla 2.x records).
    """
    records: Iterable[Item] | None = None
    if source_format == "label-studio":
        from referee.export.label_studio import read_label_studio

        records = read_label_studio(path)
    elif source_format == "argilla":
        from referee.export.argilla import read_argilla

        records = read_argilla(path)
    return import_file(
        engine,
        path,
        LabelKind(str(path), kind, max_field_bytes=max_field_bytes),
        field_map=field_map,
        progress=progress,
        audit={"kind": kind, "format": source_format},
        dedupe=dedupe,
        on_conflict=on_conflict,
        records=records,
    )


def import_judgments(
    engine: Engine,
    path: Path,
    *,
    field_map: FieldMap | None = None,
    max_field_bytes: int,
    progress: Progress | None = None,
    dedupe: bool = False,
    on_conflict: OnConflict = "first",
) -> ImportSummary:
    """Import recorded judge verdicts from ``path``, atomically."""
    return import_file(
        engine,
        path,
        JudgmentKind(str(path), max_field_bytes=max_field_bytes),
        field_map=field_map,
        progress=progress,
        dedupe=dedupe,
        on_conflict=on_conflict,
    )
