"""Human labels and recorded judge verdicts as imported records: both refer to a stored pair,
and a stored one is never overwritten: an import that differs from it is a problem that names the
first differing field."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, tuple_
from sqlalchemy.orm import Session

from formats.problems import Problem
from referee.db.models import Base, HumanLabel, Judgment, Pair
from referee.db.queue_generation import mark_pairs
from referee.db.written_text import redact_rows
from referee.ingest.records import (
    Errors,
    JudgmentRecord,
    LabelRecord,
    validate_judgment,
    validate_label,
)
from referee.ingest.round_trip import match_exported, rubric_versions
from referee.review.escalation import open_imported_incidents

LABEL_CONTENT = ("label", "rationale", "reason", "duration_s", "strength", "ratings")
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


class LabelKind:
    """Human labels of one kind (gold, review or spot_check)."""

    noun = "label"
    key_field = "annotator"
    different_note = "different content"

    def __init__(self, file: str, kind: str, *, max_field_bytes: int):
        self.file = file
        self.kind = kind
        self.max_field_bytes = max_field_bytes
        self.other_kind_skipped = 0  # exported answers of another kind (gold under --kind review)

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
        if self.kind == "gold":  # the pair may go back to the review queue
            mark_pairs(session, [record.pair_id])
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
        exported = match_exported(session, batch, self.kind, self.file, report)
        self.other_kind_skipped += exported.other_kind
        batch = exported.remaining
        if not batch:
            return [], exported.unchanged, exported.revised
        rubric = rubric_versions(session, {r.pair_id for _, r in batch})
        stored = self._stored(session, batch)
        rows, unchanged = [], 0
        for line, record in batch:
            old = stored.get((record.pair_id, record.annotator))
            if old is None:
                rows.append(self._new_row(record, rubric.get(record.pair_id)))
                continue
            changed = _first_difference(old, record, LABEL_CONTENT)
            if changed is None:
                unchanged += 1
            else:
                report(self._conflict(line, record, old, changed))
        return rows, unchanged + exported.unchanged, exported.revised

    def _stored(
        self, session: Session, batch: Sequence[tuple[int, LabelRecord]]
    ) -> dict[tuple[str, str], Any]:
        """The stored labels of this kind for the batch's keys, by (pair_id, annotator)."""
        return {
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

    def _new_row(self, record: LabelRecord, rubric_version: Any) -> dict[str, Any]:
        """The human_labels row to insert for a label not stored yet."""
        return {
            "pair_id": record.pair_id,
            "annotator": record.annotator,
            "label": record.label,
            "kind": self.kind,
            "rationale": record.rationale,
            "reason": record.reason,
            "duration_s": record.duration_s,
            "strength": record.strength,
            "ratings": record.ratings,
            "rubric_version": rubric_version,
        }

    def _conflict(self, line: int, record: LabelRecord, old: Any, changed: str) -> Problem:
        """The problem of a label that differs from the stored one in field ``changed``."""
        if changed == "label":
            return Problem(
                self.file,
                line,
                "label",
                f"annotator '{record.annotator}' already gave pair '{record.pair_id}' "
                f"the {self.kind} label '{old.label}', not '{record.label}'",
            )
        return Problem(
            self.file,
            line,
            changed,
            f"annotator '{record.annotator}' already gave pair '{record.pair_id}' "
            f"the same {self.kind} label with {changed} "
            f"{_shown(getattr(old, changed))}, not {_shown(getattr(record, changed))}"
            "; stored labels are never overwritten by an import",
        )

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        rows = redact_rows(session, "human_labels", rows)  # a redacted dataset's text
        session.execute(insert(Base.metadata.tables["human_labels"]), rows)
        if self.kind == "gold":  # pairs with a known answer leave the review queue
            mark_pairs(session, [row["pair_id"] for row in rows])
        # both-bad answers open incidents, as the review service's do (one source of truth)
        open_imported_incidents(session, rows, self.kind, datetime.now(UTC))


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
        stored = self._stored(session, batch)
        rows, unchanged = [], 0
        for line, record in batch:
            key = (record.pair_id, record.judge, record.order, record.prompt_version)
            old = stored.get(key)
            if old is None:
                rows.append(self._new_row(record))
                continue
            changed = _first_difference(old, record, JUDGMENT_CONTENT)
            if changed is None:
                unchanged += 1
            else:
                report(self._conflict(line, record, old, changed))
        return rows, unchanged, 0

    def _stored(
        self, session: Session, batch: Sequence[tuple[int, JudgmentRecord]]
    ) -> dict[tuple[str, str, str, str], Any]:
        """The stored verdicts on the batch's pairs, by (pair_id, judge, order, prompt_version)."""
        return {
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

    def _new_row(self, record: JudgmentRecord) -> dict[str, Any]:
        """The judgments row to insert for a verdict not stored yet."""
        return {
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

    def _conflict(self, line: int, record: JudgmentRecord, old: Any, changed: str) -> Problem:
        """The problem of a verdict that differs from the stored one in field ``changed``."""
        if changed == "winner":
            return Problem(
                self.file,
                line,
                "winner",
                f"{self.describe_key(record)} is already stored as "
                f"{old.winner or 'unparseable'}, not {record.winner or 'null'}",
            )
        return Problem(
            self.file,
            line,
            changed,
            f"{self.describe_key(record)} is already stored with the same winner "
            f"but {changed} {_shown(getattr(old, changed))}, not "
            f"{_shown(getattr(record, changed))}; stored verdicts are never "
            "overwritten: give new verdicts their own prompt_version",
        )

    def insert(self, session: Session, rows: list[dict[str, Any]]) -> None:
        rows = redact_rows(session, "judgments", rows)  # a redacted dataset's text
        session.execute(insert(Base.metadata.tables["judgments"]), rows)


__all__ = ["JUDGMENT_CONTENT", "LABEL_CONTENT", "JudgmentKind", "LabelKind"]
