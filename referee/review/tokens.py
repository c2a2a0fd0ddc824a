"""Reviewer accounts: one bearer token each, stored only as its SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from referee.db.models import AuditEntry, ReviewAssignment, Reviewer
from referee.db.vocab import ROLES
from referee.review.errors import AuthenticationFailed, InvalidSubmission, NotFound

TOKEN_PREFIX = "rvw_"


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``, the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# Roles (referee.db.vocab.ROLES): a ``lead`` is a reviewer whose token also opens the lead's page
# (``/lead``) and who also answers incidents; an ``expert`` adjudicates spot checks that disagreed
# with the AI label before other work; an ``incident`` reviewer answers incidents only
# (:mod:`referee.review.escalation`).


def add_reviewer(
    session: Session, name: str, *, actor: str = "cli", role: str = "reviewer"
) -> tuple[Reviewer, str]:
    """Create reviewer ``name`` with ``role``; returns it and its token (shown once, never
    stored)."""
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidSubmission("a reviewer name must be 1-200 characters")
    if role not in ROLES:
        raise InvalidSubmission(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    if session.scalar(select(Reviewer).where(Reviewer.name == name)) is not None:
        raise InvalidSubmission(f"reviewer {name!r} already exists; pick another name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    reviewer = Reviewer(name=name, token_hash=hash_token(token), active=True, role=role)
    session.add(reviewer)
    session.flush()
    session.add(
        AuditEntry(
            actor=actor,
            action="reviewer.add",
            entity="reviewer",
            entity_id=str(reviewer.id),
            detail={"name": name, "role": role},
        )
    )
    return reviewer, token


def authenticate(session: Session, token: str | None) -> Reviewer:
    """The active reviewer owning ``token``; :class:`AuthenticationFailed` otherwise."""
    if not token:
        raise AuthenticationFailed("missing bearer token: send 'Authorization: Bearer <token>'")
    reviewer = session.scalar(select(Reviewer).where(Reviewer.token_hash == hash_token(token)))
    if reviewer is None or not reviewer.active:
        raise AuthenticationFailed("invalid or deactivated reviewer token")
    return reviewer


def reviewer_by_id(session: Session, reviewer_id: int) -> Reviewer:
    """The reviewer with id ``reviewer_id`` (one the caller has authenticated already)."""
    return session.get_one(Reviewer, reviewer_id)


def get_reviewer(session: Session, name: str) -> Reviewer:
    """The reviewer called ``name`` (active or not); :class:`NotFound` otherwise."""
    reviewer = session.scalar(select(Reviewer).where(Reviewer.name == name))
    if reviewer is None:
        raise NotFound(f"no reviewer named {name!r}; create one with 'referee reviewers add'")
    return reviewer


def release_leases(session: Session, reviewer_id: int, moment: datetime) -> int:
    """End every open lease of the reviewer at ``moment`` (their items go back to the queues);
    returns how many. Labels already given stay."""
    open_leases = session.scalars(
        select(ReviewAssignment).where(
            ReviewAssignment.reviewer_id == reviewer_id,
            ReviewAssignment.completed_at.is_(None),
            ReviewAssignment.lease_expires_at > moment,
        )
    ).all()
    for assignment in open_leases:
        assignment.lease_expires_at = moment
    return len(open_leases)


def set_reviewer_active(
    session: Session,
    name: str,
    active: bool,
    *,
    actor: str = "cli",
    now: datetime | None = None,
) -> int:
    """Activate or deactivate reviewer ``name``; returns how many open leases were given back.

    A deactivated reviewer's token stops working at once (401), and the items they held go back
    to their queues for other reviewers; the labels they already gave stay. Audited.
    Raises :class:`NotFound` for an unknown name.
    """
    reviewer = get_reviewer(session, name)
    moment = now or datetime.now(UTC)
    released = 0 if active else release_leases(session, reviewer.id, moment)
    changed = reviewer.active != active
    reviewer.active = active
    session.add(
        AuditEntry(
            at=moment,
            actor=actor,
            action="reviewer.activate" if active else "reviewer.deactivate",
            entity="reviewer",
            entity_id=str(reviewer.id),
            detail={"name": name, "changed": changed, "leases_released": released},
        )
    )
    session.flush()
    return released


@dataclass(frozen=True, slots=True)
class ReviewerSummary:
    """One row of ``referee reviewers list``."""

    name: str
    active: bool
    created_at: str
    labeled: int


def list_reviewers(session: Session) -> list[ReviewerSummary]:
    """Every reviewer with the number of items they labeled, by name."""
    done = (
        select(ReviewAssignment.reviewer_id, func.count().label("n"))
        .where(ReviewAssignment.completed_at.is_not(None))
        .group_by(ReviewAssignment.reviewer_id)
        .subquery()
    )
    rows = session.execute(
        select(Reviewer, func.coalesce(done.c.n, 0))
        .outerjoin(done, done.c.reviewer_id == Reviewer.id)
        .order_by(Reviewer.name)
    ).all()
    return [ReviewerSummary(r.name, r.active, r.created_at.isoformat(), int(n)) for r, n in rows]


__all__ = [
    "ROLES",
    "ReviewerSummary",
    "add_reviewer",
    "authenticate",
    "get_reviewer",
    "hash_token",
    "list_reviewers",
    "release_leases",
    "set_reviewer_active",
]
