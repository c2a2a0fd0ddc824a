"""Undo a reviewer's last label while the lease it was given under is still live.

A reviewer who pressed the wrong key takes the answer back: the stored label is deleted, the
assignment is open again (the same lease, same expiry, so undo never extends a lease) and the
item is returned to be answered again. Nothing else changes: the queue slot stays taken (it
was taken by the lease all along), and the undo is audited beside the original
``review.label`` entry.

Refused (:class:`~referee.review.errors.LeaseConflict`, 409) once the lease has expired: by
then the answer may have been counted, aggregated or exported, and the slot may be another
reviewer's. Refused (:class:`~referee.review.errors.NotLeased`, 403) for an item the reviewer
never held, and 409 for one they hold but have not answered. Gold checks undo exactly like
any other item, so undo tells nothing about which items are checks.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from referee.db.models import Pair, Reviewer
from referee.review.config import GOLD_QUEUE, QueueConfig
from referee.review.errors import LeaseConflict
from referee.review.escalation import label_kind, withdraw_after_undo
from referee.review.queue_build import refresh_full
from referee.review.service import (
    ReviewItem,
    as_utc,
    audit_review,
    find_assignment,
    own_label,
    resolve_now,
)


def undo_label(
    session: Session,
    pair_id: str,
    reviewer: Reviewer,
    config: QueueConfig,
    *,
    now: datetime | None = None,
) -> ReviewItem:
    """Delete ``reviewer``'s label on ``pair_id`` and reopen its lease; returns the item."""
    moment = resolve_now(now)
    assignment = find_assignment(
        session, pair_id, reviewer, never_leased="was never leased to you; nothing to undo"
    )
    if assignment.completed_at is None:
        raise LeaseConflict(f"you have not labeled pair {pair_id!r}; nothing to undo")
    if as_utc(assignment.lease_expires_at) <= moment:
        raise LeaseConflict(
            f"the lease on pair {pair_id!r} has expired, so its label is final and cannot be undone"
        )
    stored = own_label(session, pair_id, reviewer, label_kind(assignment.queue))
    if stored is not None:
        withdraw_after_undo(session, stored, assignment.queue)
        session.delete(stored)
    assignment.completed_at = None
    session.flush()
    refresh_full(session, pair_id, assignment.queue)
    audit_review(
        session,
        "review.undo",
        assignment,
        reviewer,
        moment,
        gold_check=assignment.queue == GOLD_QUEUE,
        removed_label=stored.label if stored is not None else None,
    )
    session.flush()
    return ReviewItem.shown_by(session.get_one(Pair, pair_id), assignment)


__all__ = ["undo_label"]
