"""Dataset membership: which datasets a reviewer's (or a lead's) token may open.

A reviewer is given datasets one by one (``referee reviewers grant NAME --dataset D``); their
token leases, labels, counts and (for a lead) oversees only those. Every other dataset, known
or not, is the same :class:`DatasetHidden` 404 with the same message, and no error lists the
datasets there are: a token cannot learn that a dataset it may not open exists.

Leads are members like anyone else: a lead's page lists and opens only the lead's datasets,
and a lead pauses only reviewers who share one of them. Migration 0011 kept every existing
token's access (see there).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from referee.db.datasets import find_dataset
from referee.db.models import AuditEntry, Dataset, DatasetMember, Pair, Reviewer
from referee.review.errors import NotFound
from referee.review.tokens import get_reviewer


class DatasetHidden(NotFound):
    """A dataset the token may not open, or that does not exist: one 404 for both."""


def hidden(name: str) -> DatasetHidden:
    """The one error for an unknown or forbidden dataset (it names only what was asked)."""
    shown = name if len(name) <= 200 else name[:200] + "..."
    return DatasetHidden(
        f"no dataset {shown!r} is open to you; ask a lead to grant it "
        "('referee reviewers grant NAME --dataset D')"
    )


def member_dataset(session: Session, reviewer: Reviewer | int, name: str) -> Dataset:
    """The dataset ``name`` when ``reviewer`` is a member of it; :class:`DatasetHidden` else."""
    reviewer_id = reviewer if isinstance(reviewer, int) else reviewer.id
    dataset = session.scalar(
        select(Dataset)
        .join(DatasetMember, DatasetMember.dataset_id == Dataset.id)
        .where(Dataset.name == name, DatasetMember.reviewer_id == reviewer_id)
    )
    if dataset is None:
        raise hidden(name)
    return dataset


def is_member(session: Session, reviewer_id: int, dataset_id: int) -> bool:
    """Whether the reviewer may open the dataset."""
    return session.get(DatasetMember, (reviewer_id, dataset_id)) is not None


def require_pair_member(session: Session, reviewer_id: int, pair_id: str) -> None:
    """:class:`NotFound` (as for an unknown pair) unless the pair's dataset is the reviewer's."""
    dataset_id = session.scalar(select(Pair.dataset_id).where(Pair.id == pair_id))
    if dataset_id is None or not is_member(session, reviewer_id, dataset_id):
        raise NotFound(f"no pair {pair_id[:200]!r}")


def shares_dataset(session: Session, lead_id: int, reviewer_name: str) -> bool:
    """Whether reviewer ``reviewer_name`` exists and is a member of one of the lead's datasets."""
    theirs = (
        select(DatasetMember.dataset_id)
        .join(Reviewer, Reviewer.id == DatasetMember.reviewer_id)
        .where(Reviewer.name == reviewer_name)
    )
    found = session.scalar(
        select(DatasetMember.dataset_id)
        .where(DatasetMember.reviewer_id == lead_id, DatasetMember.dataset_id.in_(theirs))
        .limit(1)
    )
    return found is not None


def datasets_of(session: Session, reviewer_id: int) -> list[str]:
    """The names of the datasets the reviewer may open, sorted."""
    return sorted(
        session.scalars(
            select(Dataset.name)
            .join(DatasetMember, DatasetMember.dataset_id == Dataset.id)
            .where(DatasetMember.reviewer_id == reviewer_id)
        )
    )


@dataclass(frozen=True, slots=True)
class Membership:
    """One row of ``referee reviewers list --datasets``: a reviewer and a dataset."""

    reviewer: str
    role: str
    dataset: str
    granted_at: str
    granted_by: str


def grant(session: Session, reviewer_name: str, dataset_name: str, *, actor: str = "cli") -> bool:
    """Give the reviewer the dataset; False when they had it already. Audited.

    Raises :class:`NotFound` for an unknown reviewer and ``DatasetNotFound`` (listing the
    datasets: this is the operator's CLI) for an unknown dataset."""
    reviewer = get_reviewer(session, reviewer_name)
    dataset = find_dataset(session, dataset_name)
    if is_member(session, reviewer.id, dataset.id):
        return False
    session.add(DatasetMember(reviewer_id=reviewer.id, dataset_id=dataset.id, granted_by=actor))
    _audit(session, "reviewer.grant", reviewer, dataset, actor)
    session.flush()
    return True


def revoke(session: Session, reviewer_name: str, dataset_name: str, *, actor: str = "cli") -> bool:
    """Take the dataset from the reviewer; False when they did not have it. Audited.

    Open leases the reviewer holds in the dataset lapse at their expiry; until then no label
    on them is accepted (the pair is outside the reviewer's datasets)."""
    reviewer = get_reviewer(session, reviewer_name)
    dataset = find_dataset(session, dataset_name)
    member = session.get(DatasetMember, (reviewer.id, dataset.id))
    gone = member is not None
    if member is not None:
        session.delete(member)
    if gone:
        _audit(session, "reviewer.revoke", reviewer, dataset, actor)
        session.flush()
    return gone


def memberships(session: Session, reviewer_name: str | None = None) -> list[Membership]:
    """Every (reviewer, dataset) membership, or one reviewer's, by reviewer then dataset."""
    query = (
        select(Reviewer, Dataset.name, DatasetMember)
        .join(DatasetMember, DatasetMember.reviewer_id == Reviewer.id)
        .join(Dataset, Dataset.id == DatasetMember.dataset_id)
        .order_by(Reviewer.name, Dataset.name)
    )
    if reviewer_name is not None:
        query = query.where(Reviewer.id == get_reviewer(session, reviewer_name).id)
    return [
        Membership(r.name, r.role, name, m.granted_at.isoformat(), m.granted_by)
        for r, name, m in session.execute(query).all()
    ]


def _audit(session: Session, action: str, reviewer: Reviewer, dataset: Dataset, actor: str) -> None:
    session.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity="reviewer",
            entity_id=str(reviewer.id),
            detail={"name": reviewer.name, "dataset": dataset.name},
        )
    )


__all__ = [
    "DatasetHidden",
    "Membership",
    "datasets_of",
    "grant",
    "hidden",
    "is_member",
    "member_dataset",
    "memberships",
    "require_pair_member",
    "revoke",
    "shares_dataset",
]
