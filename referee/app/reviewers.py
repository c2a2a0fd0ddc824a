"""``referee reviewers add|list|grant|revoke|deactivate|activate|pause|unpause``: reviewer
accounts, each change in one transaction.

The rules live in :mod:`referee.review.tokens` (accounts and tokens),
:mod:`referee.review.membership` (which datasets a token opens) and :mod:`referee.review.pause`;
these functions only give each command its transaction and a plain result to print.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.review.membership import grant, memberships, revoke
from referee.review.pause import paused_reviewers, set_paused
from referee.review.tokens import add_reviewer, list_reviewers, set_reviewer_active

__all__ = ["change_access", "create_reviewer", "pause_reviewer", "reviewers", "set_active"]


def create_reviewer(engine: Engine, name: str, role: str, datasets: list[str]) -> str:
    """Create reviewer ``name`` with ``role``, granted ``datasets``; their token (shown once)."""
    with transaction(engine) as session:
        _reviewer, token = add_reviewer(session, name, role=role)
        for dataset in datasets:
            grant(session, name, dataset)
    return token


def set_active(engine: Engine, name: str, active: bool) -> int:
    """(De)activate ``name``; how many items they held went back to the queue."""
    with transaction(engine) as session:
        return set_reviewer_active(session, name, active)


def pause_reviewer(engine: Engine, name: str, paused: bool, reason: str | None = None) -> bool:
    """Pause or unpause ``name`` (audited as ``cli``); False when it already was so."""
    with transaction(engine) as session:
        return set_paused(session, name, paused, reason=reason, actor="cli")


def change_access(engine: Engine, name: str, datasets: list[str], *, granted: bool) -> list[str]:
    """Grant (``granted``) or revoke ``name``'s access to each of ``datasets``, all in one
    transaction; the datasets whose access changed (the others already were so)."""
    change = grant if granted else revoke
    with transaction(engine) as session:
        return [d for d in datasets if change(session, name, d)]


def reviewers(engine: Engine) -> list[dict[str, Any]]:
    """Every reviewer: name, active, created, items labeled, pause (and why), datasets."""
    with transaction(engine) as session:
        rows = list_reviewers(session)
        paused = {r.name: r.paused_reason or "by a lead" for r in paused_reviewers(session)}
        opened: dict[str, list[str]] = {}
        for m in memberships(session):
            opened.setdefault(m.reviewer, []).append(m.dataset)
    return [
        {
            "name": r.name,
            "active": r.active,
            "created_at": r.created_at,
            "labeled": r.labeled,
            "paused": paused.get(r.name) is not None,
            "paused_reason": paused.get(r.name),
            "datasets": opened.get(r.name, []),
        }
        for r in rows
    ]
