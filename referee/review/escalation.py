"""Second looks: spot-check adjudication and incidents, as queues served before other work.

Two queues live in :class:`~referee.db.models.Escalation` rows (one per pair and queue), apart
from the review queue that routing rebuilds:

* ``adjudication`` — a ``spot_check`` answer that differs from the accepted AI label opens it.
  It is served, before anything else, to a reviewer with role ``expert`` who has not seen the
  pair; when no such expert exists (active, not paused), to any ``reviewer``, ``expert`` or
  ``lead`` who has not seen the pair, so never to the spot checker. The answer is stored with
  kind ``adjudication`` and decides the final label
  (:func:`referee.review.final_labels.final_labels`). The spot-check estimate keeps reading
  only ``spot_check`` answers, so the disagreement stays a disagreement whatever the
  adjudicator says: the estimate measures how often accepted AI labels agree with a person's
  spot check, and an adjudicator who sides with the AI does not undo that a person disagreed.
* ``incident`` — a ``both_bad`` answer, or an answer marked ``unsafe``, opens it (from the
  review, spot-check and adjudication queues; hidden gold checks test the reviewer and open
  nothing). It is served to reviewers with role ``incident`` (who get nothing else) and to
  leads, first, never to someone who has seen the pair. The answer is stored with kind
  ``incident``; it is not a preference vote, and a pair with a both-bad or unsafe answer never
  becomes a training preference (:mod:`formats.rules`).

An item is resolved by its first answer (``resolution`` = that label). Further flags on a pair
add their reasons to its row, open or resolved. :func:`withdraw_after_undo` takes back what a
label did when its reviewer undoes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from referee.db.models import (
    Escalation,
    HumanLabel,
    Pair,
    ReviewAssignment,
    Reviewer,
    RoutingDecision,
)
from referee.db.vocab import EscalationQueue, EscalationStatus
from referee.review.config import GOLD_QUEUE

ADJUDICATION: EscalationQueue = "adjudication"
INCIDENT: EscalationQueue = "incident"
ESCALATION_QUEUES: tuple[EscalationQueue, ...] = (INCIDENT, ADJUDICATION)
"""Served in this order to a reviewer who may take both."""
WITHDRAWN: EscalationStatus = "withdrawn"
"""Status of an item whose every flag was taken back (undo): not served, kept for the record."""

_KIND_OF_QUEUE = {"spot_check": "spot_check", ADJUDICATION: ADJUDICATION, INCIDENT: INCIDENT}

__all__ = [
    "ADJUDICATION",
    "ESCALATION_QUEUES",
    "INCIDENT",
    "escalate_after_label",
    "label_kind",
    "next_escalation",
    "open_imported_incidents",
    "serves_regular_queues",
    "withdraw_after_undo",
]


def label_kind(queue: str) -> str:
    """The ``HumanLabel.kind`` of an answer given in ``queue`` (gold checks are ``review``)."""
    return _KIND_OF_QUEUE.get(queue, "review")


def serves_regular_queues(reviewer: Reviewer) -> bool:
    """False for ``incident`` reviewers: they get incident items and nothing else."""
    return reviewer.role != "incident"


def _queues_for(reviewer: Reviewer) -> tuple[str, ...]:
    role = reviewer.role
    if role == "incident":
        return (INCIDENT,)
    if role == "lead":
        return ESCALATION_QUEUES
    return (ADJUDICATION,)


def _unseen_by(reviewer_id: Any, pair_column: Any) -> Any:
    return ~exists().where(
        ReviewAssignment.pair_id == pair_column, ReviewAssignment.reviewer_id == reviewer_id
    )


def _eligible_expert_exists() -> Any:
    """SQL: an active, unpaused expert who has not seen the escalation's pair."""
    return exists().where(
        Reviewer.role == "expert",
        Reviewer.active.is_(True),
        Reviewer.paused.is_(False),
        _unseen_by(Reviewer.id, Escalation.pair_id),
    )


def _taken_count(session: Session, pair_id: str, queue: str, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ReviewAssignment)
            .where(
                ReviewAssignment.pair_id == pair_id,
                ReviewAssignment.queue == queue,
                or_(
                    ReviewAssignment.completed_at.is_not(None),
                    ReviewAssignment.lease_expires_at > now,
                ),
            )
        )
        or 0
    )


def next_escalation(
    session: Session, dataset_id: int, reviewer: Reviewer, now: datetime
) -> Escalation | None:
    """Claim the open escalation ``reviewer`` should answer next, or None.

    The row is locked (``UPDATE … SET status = status``) and its slot recounted before it is
    handed out, as the review queue does, so two reviewers cannot both take it.
    """
    for queue in _queues_for(reviewer):
        query = (
            select(Escalation)
            .where(
                Escalation.dataset_id == dataset_id,
                Escalation.queue == queue,
                Escalation.status == "open",
                _unseen_by(reviewer.id, Escalation.pair_id),
            )
            .order_by(Escalation.created_at, Escalation.id)
        )
        if queue == ADJUDICATION and reviewer.role != "expert":
            query = query.where(~_eligible_expert_exists())
        for item in session.scalars(query):
            session.execute(
                update(Escalation)
                .where(Escalation.id == item.id)
                .values(status=Escalation.status)
                .execution_options(synchronize_session=False)
            )
            if _taken_count(session, item.pair_id, queue, now) == 0:
                return item
    return None


def _open(
    session: Session,
    pair_id: str,
    queue: str,
    reason: dict[str, Any],
    decision: RoutingDecision | None,
    now: datetime,
) -> None:
    row = session.scalar(
        select(Escalation).where(Escalation.pair_id == pair_id, Escalation.queue == queue)
    )
    if row is not None:
        row.human_reasons = [*row.human_reasons, reason]
        if row.status == WITHDRAWN:  # every flag had been taken back; this one reopens it
            row.status, row.flagged_by = "open", str(reason["annotator"])
        return
    pair = session.get(Pair, pair_id)
    assert pair is not None
    session.add(
        Escalation(
            dataset_id=pair.dataset_id,
            pair_id=pair_id,
            queue=queue,
            status="open",
            routing_reasons=list(decision.reasons or ()) if decision is not None else [],
            human_reasons=[reason],
            flagged_by=str(reason["annotator"]),
            created_at=now,
        )
    )


def escalate_after_label(
    session: Session,
    label: HumanLabel,
    queue: str,
    decision: RoutingDecision | None,
    now: datetime,
) -> None:
    """Open or resolve escalations after ``label`` was stored for an answer given in ``queue``.

    Resolves the pair's ``queue`` item when ``queue`` is an escalation queue; opens an
    adjudication when a spot check disagrees with the accepted AI label; opens an incident on
    a both-bad or unsafe answer (not from the incident queue itself, nor from a gold check).
    """
    if queue in ESCALATION_QUEUES:
        row = session.scalar(
            select(Escalation).where(Escalation.pair_id == label.pair_id, Escalation.queue == queue)
        )
        if row is not None and row.status == "open":
            row.status = "resolved"
            row.resolved_by = label.annotator
            row.resolved_at = now
            row.resolution = label.label
    reason = {
        "annotator": label.annotator,
        "label": label.label,
        "reason": label.reason,
        "unsafe": bool(label.unsafe),
        "queue": queue,
        "at": now.isoformat(),
    }
    ai_label = decision.label if decision is not None else None
    if (
        queue == "spot_check"
        and decision is not None
        and decision.decision == "spot_check"
        and ai_label is not None
        and label.label != ai_label
    ):
        why = f"spot check answered {label.label} against the accepted AI label {ai_label}"
        _open(session, label.pair_id, ADJUDICATION, {**reason, "why": why}, decision, now)
    if queue not in (INCIDENT, GOLD_QUEUE) and (label.label == "both_bad" or label.unsafe):
        why = "marked unsafe" if label.unsafe else "answered both_bad"
        _open(session, label.pair_id, INCIDENT, {**reason, "why": why}, decision, now)
    session.flush()


def open_imported_incidents(
    session: Session, labels: list[dict[str, Any]], kind: str, now: datetime
) -> int:
    """Open (or add to) the incident of every imported both-bad answer in ``labels`` (the rows
    ``referee labels import`` stores), so the incident queue, ``referee incidents list`` and
    every incidents export read the same rows. Returns how many answers were flagged."""
    flagged = 0
    for row in labels:
        if row["label"] != "both_bad":
            continue
        decision = session.scalar(
            select(RoutingDecision).where(
                RoutingDecision.pair_id == row["pair_id"], RoutingDecision.current.is_(True)
            )
        )
        reason = {
            "annotator": row["annotator"],
            "label": row["label"],
            "reason": row.get("reason"),
            "unsafe": False,
            "queue": f"import:{kind}",
            "at": now.isoformat(),
            "why": "answered both_bad (imported)",
        }
        _open(session, row["pair_id"], INCIDENT, reason, decision, now)
        flagged += 1
    return flagged


def withdraw_after_undo(session: Session, label: HumanLabel, queue: str) -> None:
    """Take back what :func:`escalate_after_label` did for ``label`` (given in ``queue``), which
    its reviewer is undoing: the item it resolved is open again, its flags are removed, and an
    item left without any flag is ``withdrawn`` (no longer served; a new flag reopens it).

    Call it with the label being deleted, before the deletion is flushed.
    """
    rows = session.scalars(select(Escalation).where(Escalation.pair_id == label.pair_id))
    for row in rows:
        if row.queue == queue and row.status == "resolved" and row.resolved_by == label.annotator:
            row.status, row.resolved_by, row.resolved_at, row.resolution = "open", None, None, None
        kept = [
            r
            for r in row.human_reasons
            if not (r.get("annotator") == label.annotator and r.get("queue") == queue)
        ]
        if len(kept) == len(row.human_reasons):
            continue
        row.human_reasons = kept
        if kept:
            row.flagged_by = str(kept[0]["annotator"])
        elif row.status == "open":
            row.status = WITHDRAWN
    session.flush()
