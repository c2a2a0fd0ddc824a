"""Incidents of a dataset: the incident queue's items, pseudonymised, and their export records.

An incident is a pair a person answered ``both_bad`` or marked ``unsafe``
(:mod:`referee.review.escalation` opens it). Each one shows the pair id, its status (``open``
until someone on the incident queue answers it, then ``resolved``), the routing reasons, the
people's reasons and who flagged it, under the same ``annotator-N`` pseudonyms as every export
(:func:`referee.export.build.annotator_pseudonyms`): reviewers' names never leave.

The export record is :func:`formats.full_jsonl.incident_record` (what ``referee export
--format incidents`` writes: texts, final label, why it is an incident) with these fields on
top.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats.full_jsonl import incident_record
from formats.rows import LabeledPair
from referee.db.models import Dataset, Escalation
from referee.export.build import annotator_pseudonyms, labeled_pairs
from referee.review.escalation import INCIDENT
from referee.review.service import as_utc

__all__ = ["incident_export_records", "list_incidents"]


def list_incidents(session: Session, dataset: Dataset) -> list[dict[str, Any]]:
    """The dataset's incidents, oldest first, as plain documents (pseudonyms, no texts)."""
    names = annotator_pseudonyms(session, dataset.id)

    def alias(name: str | None) -> str | None:
        return None if name is None else names.get(name, "annotator-?")

    out: list[dict[str, Any]] = []
    for row in session.scalars(
        select(Escalation)
        .where(Escalation.dataset_id == dataset.id, Escalation.queue == INCIDENT)
        .order_by(Escalation.created_at, Escalation.id)
    ):
        human = [
            {
                "annotator": alias(str(r.get("annotator"))),
                "label": r.get("label"),
                "unsafe": bool(r.get("unsafe")),
                "reason": r.get("reason"),
                "why": r.get("why"),
                "queue": r.get("queue"),
                "at": r.get("at"),
            }
            for r in row.human_reasons
        ]
        resolution = None
        if row.status == "resolved":
            resolution = {
                "by": alias(row.resolved_by),
                "label": row.resolution,
                "at": as_utc(row.resolved_at).isoformat() if row.resolved_at else None,
            }
        out.append(
            {
                "pair_id": row.pair_id,
                "status": row.status,
                "flagged_by": alias(row.flagged_by),
                "opened_at": as_utc(row.created_at).isoformat(),
                "routing_reasons": list(row.routing_reasons),
                "human_reasons": human,
                "resolution": resolution,
            }
        )
    return out


def incident_export_records(
    session: Session, dataset: Dataset, rows: Iterable[LabeledPair] | None = None
) -> list[dict[str, Any]]:
    """One record per incident of the incident queue (:func:`list_incidents`, the one source
    of incidents): :func:`incident_record` of the pair's row (the live final label, or the row
    of ``rows``, e.g. a release's), with the incident's status, flagger, reasons and
    resolution. With ``rows``, only the incidents on those pairs."""
    incidents = {doc["pair_id"]: doc for doc in list_incidents(session, dataset)}
    if not incidents:
        return []
    source = labeled_pairs(session, dataset) if rows is None else rows
    found = {r.pair_id: r for r in source if r.pair_id in incidents}
    out: list[dict[str, Any]] = []
    for pair_id, doc in incidents.items():
        row = found.get(pair_id)
        if row is None and rows is not None:
            continue
        base = incident_record(row) if row is not None else {"pair_id": pair_id}
        out.append({**base, **doc})
    return out
