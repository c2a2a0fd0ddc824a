"""What the REST API and the review and lead pages ask of the server: one function per route,
each in one transaction (an HTTP request is one unit of work).

The rules are the review service's (:mod:`referee.review`); the routes
(:mod:`referee.api.app`, :mod:`referee.api.lead`, ...) parse, call one of these and answer.
Every caller is already authenticated (:func:`authenticated`) and a dataset already checked
against their memberships (:func:`member_dataset_name`); the item routes check again inside
their own transaction, where it counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.reports.lead_overview import lead_overview
from referee.review.config import QueueConfig
from referee.review.membership import (
    datasets_of,
    member_dataset,
    require_pair_member,
    shares_dataset,
)
from referee.review.pause import set_paused
from referee.review.priority import Embedder
from referee.review.progress import reviewer_progress
from referee.review.schema import load_schema
from referee.review.service import LabelSubmission, lease_next, release_item, submit_label
from referee.review.stats import queue_stats
from referee.review.tokens import authenticate, reviewer_by_id
from referee.review.undo import undo_label

__all__ = [
    "Caller",
    "authenticated",
    "dataset_schema",
    "label",
    "lead_pause",
    "lead_view",
    "member_dataset_name",
    "my_datasets",
    "my_progress",
    "my_stats",
    "next_item",
    "release",
    "undo",
]


@dataclass(frozen=True)
class Caller:
    """The active reviewer a token belongs to."""

    id: int
    role: str


def authenticated(engine: Engine, token: str | None) -> Caller:
    """Whose ``token`` this is; :class:`AuthenticationFailed` for none, a wrong or an inactive
    one."""
    with transaction(engine) as session:
        reviewer = authenticate(session, token)
        return Caller(reviewer.id, reviewer.role)


def member_dataset_name(engine: Engine, caller: int, dataset: str) -> str:
    """``dataset`` when ``caller`` may open it; else the one 404 of dataset membership."""
    with transaction(engine) as session:
        return member_dataset(session, caller, dataset).name


def next_item(
    engine: Engine, caller: int, dataset: str, config: QueueConfig, embedder: Embedder | None
) -> dict[str, Any] | None:
    """Lease the caller's next item of ``dataset`` (as the API shows it), or None."""
    with transaction(engine) as session:
        reviewer = reviewer_by_id(session, caller)
        ds = member_dataset(session, reviewer, dataset)  # again, in this transaction
        lease = lease_next(session, ds, reviewer, config, embedder=embedder)
        return lease.item.to_json() if lease is not None else None


def label(
    engine: Engine, caller: int, pair_id: str, submission: LabelSubmission, config: QueueConfig
) -> str:
    """Store the caller's answer to the item they hold; the label stored."""
    with transaction(engine) as session:
        require_pair_member(session, caller, pair_id)
        reviewer = reviewer_by_id(session, caller)
        stored = submit_label(session, pair_id, reviewer, submission, pause_rule=config.pause_rule)
        return stored.label


def release(engine: Engine, caller: int, pair_id: str) -> None:
    """Give the item the caller holds back to the queue (a skip)."""
    with transaction(engine) as session:
        require_pair_member(session, caller, pair_id)
        release_item(session, pair_id, reviewer_by_id(session, caller))


def undo(engine: Engine, caller: int, pair_id: str, config: QueueConfig) -> dict[str, Any]:
    """Take back the caller's last answer; the item, leased to them again."""
    with transaction(engine) as session:
        require_pair_member(session, caller, pair_id)
        reviewer = reviewer_by_id(session, caller)
        return undo_label(session, pair_id, reviewer, config).to_json()


def my_stats(engine: Engine, caller: int, dataset: str, config: QueueConfig) -> dict[str, Any]:
    """The caller's queue figures in ``dataset``."""
    with transaction(engine) as session:
        reviewer = reviewer_by_id(session, caller)
        return queue_stats(session, dataset, reviewer, config=config).to_json()


def my_datasets(engine: Engine, caller: int) -> list[str]:
    """The datasets the caller's token may open (a lead's too)."""
    with transaction(engine) as session:
        return datasets_of(session, caller)


def my_progress(
    engine: Engine, caller: int, dataset: str, config: QueueConfig | None
) -> dict[str, Any]:
    """Items the caller answered today and ever in ``dataset``, and items still pending."""
    with transaction(engine) as session:
        reviewer = reviewer_by_id(session, caller)
        return reviewer_progress(session, dataset, reviewer, config=config).to_json()


def dataset_schema(engine: Engine, dataset: str) -> dict[str, Any]:
    """The dataset's annotation schema, as the review page reads it."""
    with transaction(engine) as session:
        return load_schema(session, dataset).to_json()


def lead_view(engine: Engine, dataset: str, human_cost: float) -> dict[str, Any]:
    """The lead's page: queues, agreement, spot-check estimate, reviewers, cost so far."""
    with transaction(engine) as session:
        return lead_overview(session, dataset, human_cost=human_cost)


def lead_pause(
    engine: Engine, lead: int, reviewer: str, paused: bool, reason: str | None
) -> bool | None:
    """Pause or unpause ``reviewer`` as ``lead`` (audited under the lead's name, with
    ``reason`` or a default one); whether it changed, or None when ``reviewer`` shares none of
    the lead's datasets (to the lead, no such reviewer)."""
    with transaction(engine) as session:
        actor = reviewer_by_id(session, lead).name
        if not shares_dataset(session, lead, reviewer):
            return None
        why = (reason or "").strip() or f"paused by lead {actor} on the lead page"
        return set_paused(session, reviewer, paused, reason=why if paused else None, actor=actor)
