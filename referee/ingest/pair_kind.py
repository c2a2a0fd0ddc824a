"""Pairs of one dataset as imported records: keyed by id, redacted when the dataset requires it,
and reconciled with the stored pairs (same id in another dataset or with other content is a
problem; re-importing into the frozen evaluation set freezes the stored pair)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from formats.kwise import ALL, Design
from formats.problems import Problem
from judge.conversation import messages_to_json
from referee.db.models import Base, Dataset, Pair
from referee.db.queue_generation import mark_datasets
from referee.ingest.kwise import is_kwise, validate_kwise
from referee.ingest.preference import validate_preference
from referee.ingest.records import Errors, PairRecord, validate_pair
from referee.ingest.redaction import RedactingIngest


@dataclass(frozen=True)
class PairSource:
    """How the file's records are read: its ``layout`` (``referee``, ``trl``, ``hh-rlhf``), the
    ``design`` for k-wise records, and the kind of human label (``gold``, ``review``) the file's
    preference is kept as, by ``annotator`` (None: dropped)."""

    layout: str = "referee"
    design: Design = ALL
    preference_kind: str | None = None
    annotator: str = "file"


class PairKind:
    """Pairs of one dataset."""

    noun = "pair"
    key_field = "id"
    different_note = "the same prompt and responses but different meta"

    def __init__(
        self,
        file: str,
        dataset_id: int,
        *,
        frozen_eval: bool,
        max_field_bytes: int,
        source: PairSource | None = None,
    ):
        self.file = file
        self.source = source or PairSource()
        self.labels_added = 0
        self.dataset_id = dataset_id
        self.frozen_eval = frozen_eval
        self.max_field_bytes = max_field_bytes
        self.redaction: RedactingIngest | None = None

    def validate(
        self, raw: dict[str, Any], from_csv: bool
    ) -> PairRecord | tuple[PairRecord, ...] | Errors:
        result = self._validate(raw, from_csv)
        if self.redaction is None or isinstance(result, list):
            return result
        if isinstance(result, tuple):
            return tuple(self.redaction.apply(record) for record in result)
        return self.redaction.apply(result)

    def _validate(
        self, raw: dict[str, Any], from_csv: bool
    ) -> PairRecord | tuple[PairRecord, ...] | Errors:
        limit = self.max_field_bytes
        if self.source.layout != "referee":
            return validate_preference(raw, self.source.layout, max_field_bytes=limit)
        if is_kwise(raw):
            return validate_kwise(raw, self.source.design, max_field_bytes=limit, from_csv=from_csv)
        return validate_pair(raw, max_field_bytes=limit, from_csv=from_csv)

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
        labels = Base.metadata.tables["human_labels"]
        session.execute(
            delete(labels).where(
                labels.c.pair_id == record.id, labels.c.annotator == self.source.annotator
            )
        )
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
                rows.append(self._row(record))
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

    def _row(self, record: PairRecord) -> dict[str, Any]:
        """The ``pairs`` row of a new record (``_preference``: the label to add, if any)."""
        return {
            "id": record.id,
            "dataset_id": self.dataset_id,
            "prompt": record.prompt,
            "response_a": record.response_a,
            "response_b": record.response_b,
            "meta": record.meta,
            "content_hash": record.content_hash,
            "frozen_eval": self.frozen_eval,
            "redaction_version": self.redaction.version if self.redaction is not None else None,
            "messages": messages_to_json(record.messages) if record.messages else None,
            "group_id": record.group_id,
            "response_a_ref": record.response_a_ref,
            "response_b_ref": record.response_b_ref,
            "_preference": record.preference,
        }

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        preferences = [(row["id"], row.pop("_preference", None)) for row in rows]
        session.execute(insert(Base.metadata.tables["pairs"]), rows)
        kind = self.source.preference_kind
        labels = [
            {"pair_id": pid, "annotator": self.source.annotator, "label": label, "kind": kind}
            for pid, label in preferences
            if label is not None and kind is not None
        ]
        if labels:
            session.execute(insert(Base.metadata.tables["human_labels"]), labels)
            self.labels_added += len(labels)
            if kind == "gold":  # a pair with a known answer leaves the review queue
                mark_datasets(session, [self.dataset_id])


__all__ = ["PairKind", "PairSource"]
