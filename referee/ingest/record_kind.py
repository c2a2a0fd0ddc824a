"""The interface each kind of imported record implements (pairs, human labels, judge verdicts):
how it is validated, keyed, fingerprinted and reconciled with what is already stored."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from formats.problems import Problem
from referee.ingest.records import Errors

R = TypeVar("R")


class RecordKind(Protocol[R]):
    """How one kind of record is validated, keyed and reconciled with what is stored."""

    noun: str
    key_field: str
    different_note: str
    """How a repeat whose fold group matches but whose content differs is described."""

    def validate(self, raw: dict[str, Any], from_csv: bool) -> R | tuple[R, ...] | Errors:
        """The record (or the several records one raw record stands for), or its errors."""
        ...

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


__all__ = ["R", "RecordKind"]
