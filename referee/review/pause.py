"""Pausing reviewers: the pause rule applied as answers arrive, and a lead's pause / unpause.

The rule is :mod:`calibration.annotators`' (gold accuracy decides first; agreement with the
majority counts only on items with three or more answers). It is applied to a reviewer after
each label they submit, on the dataset of that label, over their answers since a lead last
unpaused them (a fresh start: the evidence that paused them once does not pause them again).
A paused reviewer keeps their token (stats and progress still work) but
:func:`refuse_if_paused` stops :func:`~referee.review.service.lease_next` from serving them
anything (HTTP 403, ``{"detail": "paused: ..."}``) until ``referee reviewers unpause NAME``.
Every pause and unpause is an audit entry: ``reviewer.pause`` (actor ``rule:pause`` or the
lead) and ``reviewer.unpause``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from calibration.annotators import PauseRule, annotator_quality
from referee.db.models import AuditEntry, HumanLabel, Pair, Reviewer
from referee.review.errors import ReviewerPaused
from referee.review.quality import REVIEW_KINDS
from referee.review.tokens import get_reviewer, release_leases

UNPAUSE_HINT = "a lead can resume you with 'referee reviewers unpause {name}'"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def refuse_if_paused(reviewer: Reviewer) -> None:
    """Raise :class:`ReviewerPaused` (403) when ``reviewer`` is paused."""
    if reviewer.paused:
        why = reviewer.paused_reason or "paused by a lead"
        raise ReviewerPaused(f"paused: {why}; {UNPAUSE_HINT.format(name=reviewer.name)}")


def _pause(
    session: Session, reviewer: Reviewer, reason: str, *, actor: str, moment: datetime
) -> None:
    reviewer.paused = True
    reviewer.paused_reason = reason
    reviewer.paused_at = moment
    released = release_leases(session, reviewer.id, moment)
    session.add(
        AuditEntry(
            at=moment,
            actor=actor,
            action="reviewer.pause",
            entity="reviewer",
            entity_id=str(reviewer.id),
            detail={"name": reviewer.name, "reason": reason, "leases_released": released},
        )
    )


def rule_verdict(
    session: Session, reviewer: Reviewer, dataset_id: int, rule: PauseRule | None = None
) -> tuple[str, list[str]]:
    """``(status, reasons)`` of the pause rule for ``reviewer`` on the dataset: their answers
    since they were last unpaused, against everyone's answers on the same pairs."""
    since = reviewer.unpaused_at
    mine = select(HumanLabel.pair_id).join(Pair, Pair.id == HumanLabel.pair_id)
    mine = mine.where(
        Pair.dataset_id == dataset_id,
        HumanLabel.annotator == reviewer.name,
        HumanLabel.kind.in_(REVIEW_KINDS),
    )
    if since is not None:
        mine = mine.where(HumanLabel.created_at >= since)
    pairs = mine.scalar_subquery()  # never a list of ids in the query: any number of answers
    rows = session.execute(
        select(
            HumanLabel.pair_id,
            HumanLabel.annotator,
            HumanLabel.label,
            HumanLabel.kind,
            HumanLabel.created_at,
        )
        .where(HumanLabel.pair_id.in_(pairs))
        .order_by(HumanLabel.id)
    ).all()
    items: list[str] = []
    people: list[str] = []
    labels: list[str] = []
    seen: set[tuple[str, str]] = set()
    gold_votes: dict[str, Counter[str]] = defaultdict(Counter)
    for pair_id, annotator, label, kind, created in rows:
        if kind == "gold":
            gold_votes[pair_id][label] += 1
            continue
        if kind not in REVIEW_KINDS:
            continue
        own = annotator == reviewer.name
        if own and since is not None and _utc(created) < _utc(since):
            continue
        if (pair_id, annotator) in seen:  # a spot check and a review by one person: first
            continue
        seen.add((pair_id, annotator))
        items.append(pair_id)
        people.append(annotator)
        labels.append(label)
    if reviewer.name not in people:
        return "needs_gold", []
    gold: dict[Hashable, Hashable] = {}
    for pair_id, counter in gold_votes.items():  # majority of gold labels; ties: no gold
        ranked = counter.most_common()
        if len(ranked) == 1 or ranked[0][1] > ranked[1][1]:
            gold[pair_id] = ranked[0][0]
    quality = annotator_quality(items, people, labels, gold, rule=rule)
    row = next(q for q in quality if q.annotator == reviewer.name)
    return row.status, list(row.reasons)


def apply_pause_rule(
    session: Session,
    reviewer: Reviewer,
    dataset_id: int,
    *,
    rule: PauseRule | None = None,
    now: datetime | None = None,
) -> str | None:
    """Pause ``reviewer`` when the rule says so (audited); returns the reason, else None."""
    if reviewer.paused:
        return None
    status, reasons = rule_verdict(session, reviewer, dataset_id, rule)
    if status != "paused":
        return None
    reason = "; ".join(reasons)
    _pause(session, reviewer, reason, actor="rule:pause", moment=now or datetime.now(UTC))
    session.flush()
    return reason


def set_paused(
    session: Session,
    name: str,
    paused: bool,
    *,
    reason: str | None = None,
    actor: str = "cli",
    now: datetime | None = None,
) -> bool:
    """A lead pauses or unpauses reviewer ``name`` (audited); True when the state changed.

    Pausing gives the items they hold back to the queue. Unpausing starts the rule afresh:
    only answers given from now on count towards the next automatic pause.
    """
    reviewer = get_reviewer(session, name)
    moment = now or datetime.now(UTC)
    changed = reviewer.paused != paused
    if paused:
        if changed:
            _pause(session, reviewer, reason or f"paused by {actor}", actor=actor, moment=moment)
    else:
        previous = reviewer.paused_reason
        reviewer.paused = False
        reviewer.paused_reason = None
        reviewer.unpaused_at = moment
        session.add(
            AuditEntry(
                at=moment,
                actor=actor,
                action="reviewer.unpause",
                entity="reviewer",
                entity_id=str(reviewer.id),
                detail={"name": name, "changed": changed, "was_paused_for": previous},
            )
        )
    session.flush()
    return changed


def paused_reviewers(session: Session) -> list[Reviewer]:
    """Every paused reviewer, by name."""
    query = select(Reviewer).where(Reviewer.paused.is_(True)).order_by(Reviewer.name)
    return list(session.scalars(query))


__all__ = [
    "apply_pause_rule",
    "paused_reviewers",
    "refuse_if_paused",
    "rule_verdict",
    "set_paused",
]
