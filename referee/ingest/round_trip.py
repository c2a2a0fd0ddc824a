"""Answers coming back from Label Studio or Argilla: recognise what Referee exported itself.

Every answer Referee exports to a labeling tool carries the id of the stored human label it
came from (``source_label_id``; see :mod:`formats.label_studio_read` and
:mod:`formats.argilla_read`). When such a file is imported, :func:`match_exported` resolves
those records against the stored labels, before the usual (pair, annotator) reconciliation:

* the stored answer, unchanged (label, rationale, strength, ratings): counted as *already
  stored*, never inserted again — whatever ``--kind`` the import says, so a gold answer never
  comes back as a review vote;
* the same kind, changed in the tool: the stored answer is **revised** in place (new content,
  new time) and its previous content is kept in an ``label_revised`` audit entry: one person,
  one current answer, with its history;
* a changed answer of another kind (a gold answer edited and imported with ``--kind review``):
  a problem naming the line and field; the file is refused and nothing is stored.

A label id is this database's only when the record's ``source_origin`` (exported next to the
id: :func:`formats.rows.label_origin` of the pair's dataset) is the origin of the pair's
dataset here. Ids from another Referee database are numbers of that database and may collide
with ours: with another origin the record is a *foreign* answer, whatever its id. Files written
before origins existed carry none; their ids are matched as before (same id and pair).

An answer this database does not hold (the file came from another Referee database) is a new
answer of its annotator — but only under its own kind: a record exported as ``gold`` is skipped
by ``--kind review`` (and a review by ``--kind gold``) and counted as ``other_kind_skipped``.
Records without ids (answers made in the tool by its own users) go on to the usual rules.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats.problems import Problem
from formats.rows import label_origin
from referee.db.models import AuditEntry, Dataset, HumanLabel, Pair, utcnow
from referee.ingest.records import LabelRecord
from referee.review.schema import schema_for_dataset_id

#: What a person can change in a labeling tool; any difference makes a revised answer.
ANSWER_CONTENT = ("label", "rationale", "strength", "ratings")


@dataclass
class RoundTrip:
    """What :func:`match_exported` found in one batch."""

    remaining: list[tuple[int, LabelRecord]]
    unchanged: int = 0
    revised: int = 0
    other_kind: int = 0


def _changed(stored: HumanLabel, record: LabelRecord) -> list[str]:
    return [n for n in ANSWER_CONTENT if getattr(stored, n) != getattr(record, n)]


def _snapshot(label: HumanLabel) -> dict[str, Any]:
    return {
        "label": label.label,
        "rationale": label.rationale,
        "reason": label.reason,
        "strength": label.strength,
        "ratings": label.ratings,
        "at": label.created_at.isoformat() if label.created_at else None,
    }


def _revise(session: Session, stored: HumanLabel, record: LabelRecord, file: str) -> None:
    """Give ``stored`` the record's content; the previous content goes to the audit log."""
    before = _snapshot(stored)
    stored.label = record.label  # type: ignore[assignment]
    stored.rationale = record.rationale
    stored.strength = record.strength  # type: ignore[assignment]
    stored.ratings = record.ratings
    if record.reason is not None or record.label != "both_bad":
        stored.reason = record.reason if record.label == "both_bad" else None
    stored.rubric_version = rubric_versions(session, {stored.pair_id}).get(stored.pair_id)
    stored.created_at = utcnow()
    session.add(
        AuditEntry(
            actor=_actor(),
            action="label_revised",
            entity="human_label",
            entity_id=str(stored.id),
            detail={"pair_id": stored.pair_id, "file": file[-200:], "before": before,
                    "after": _snapshot(stored)},
        )
    )  # fmt: skip


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def match_exported(
    session: Session,
    batch: Sequence[tuple[int, LabelRecord]],
    kind: str,
    file: str,
    report: Callable[[Problem], None],
) -> RoundTrip:
    """Resolve the records that name a stored label; the rest are returned as ``remaining``."""
    ids = {r.source_label_id for _, r in batch if r.source_label_id is not None}
    found = RoundTrip([])
    stored = {hl.id: hl for hl in session.scalars(select(HumanLabel).where(HumanLabel.id.in_(ids)))}
    origins = pair_origins(session, {hl.pair_id for hl in stored.values()})
    for line, record in batch:
        old = stored.get(record.source_label_id) if record.source_label_id is not None else None
        if old is not None and record.source_origin not in (None, origins.get(old.pair_id)):
            old = None  # another database's label id: a foreign answer
        if old is None or old.pair_id != record.pair_id:  # not from this database
            if record.source_kind is not None and record.source_kind != kind:
                found.other_kind += 1
            else:
                found.remaining.append((line, record))
            continue
        changed = _changed(old, record)
        if not changed:
            found.unchanged += 1
        elif old.kind == kind:
            _revise(session, old, record, file)
            found.revised += 1
        else:
            report(
                Problem(
                    file,
                    line,
                    changed[0],
                    f"this is the stored {old.kind} answer {old.id} of pair '{old.pair_id}', "
                    f"changed in the tool; import changes to {old.kind} answers with "
                    f"--kind {old.kind}, not --kind {kind}",
                )
            )
    return found


def pair_origins(session: Session, pair_ids: set[str]) -> dict[str, str]:
    """Pair id -> the origin of its dataset's labels here (:func:`formats.rows.label_origin`)."""
    rows = session.execute(
        select(Pair.id, Dataset.id, Dataset.name, Dataset.created_at)
        .join(Dataset, Dataset.id == Pair.dataset_id)
        .where(Pair.id.in_(pair_ids))
    )
    return {pair_id: label_origin(d_id, name, created) for pair_id, d_id, name, created in rows}


def rubric_versions(session: Session, pair_ids: set[str]) -> dict[str, str]:
    """Pair id -> the rubric version its dataset's answers are given under now."""
    by_dataset: dict[int, str] = {}
    out: dict[str, str] = {}
    rows = session.execute(select(Pair.id, Pair.dataset_id).where(Pair.id.in_(pair_ids)))
    for pair_id, dataset_id in rows:
        if dataset_id not in by_dataset:
            by_dataset[dataset_id] = schema_for_dataset_id(session, dataset_id).rubric_version
        out[pair_id] = by_dataset[dataset_id]
    return out


__all__ = ["ANSWER_CONTENT", "RoundTrip", "match_exported", "pair_origins", "rubric_versions"]
