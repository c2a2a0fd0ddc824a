"""The review queue service: lease the next item, submit a label, release an item.

Used identically by the REST API, the terminal reviewer and the simulated reviewer. Functions
take an open :class:`~sqlalchemy.orm.Session` inside a transaction (the caller commits).

Rules:

* An item of queue ``q`` with k = ``required_labels`` has free slots while
  ``completed + active leases < k``; a lease is active until ``lease_expires_at``, after which
  the slot returns to the pool.
* A reviewer never gets a pair twice: any assignment row (labeled, released, expired) for that
  pair and reviewer excludes it (the table's unique key enforces it).
* Hidden gold checks: served items come in blocks of ``round(1 / gold_rate)``; one position per
  block, drawn from a hash of (reviewer, dataset, block), is a pair with a ``gold`` label the
  reviewer has not seen, when any is left and one of the check slots reserved in the queue
  totals is free (:mod:`referee.review.gold_slots`); once no real item is pending, a reviewer
  with none left gets the free reserved slots as checks. The reviewer sees the same fields as
  for any other item; the assignment's queue is ``gold`` and the answer is stored as a
  ``review`` label (see :mod:`referee.review.quality`).
* Selection reads open items only: ``full`` (all k answers in) is kept on each queue item, so
  a lease never walks past answered items (index on ``(dataset_id, full, rank)``).
* Concurrency: a candidate's queue row is locked before its free slots are recounted, so two
  reviewers cannot both take the last slot. On PostgreSQL the candidate query itself locks it
  (``SELECT … FOR UPDATE SKIP LOCKED LIMIT 1``: rows other leases hold are skipped, so
  concurrent reviewers spread over the queue's head); on SQLite an ``UPDATE … SET rank =
  rank`` takes the single writer lock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, false, func, or_, select, update
from sqlalchemy.orm import Session

from calibration.annotators import PauseRule
from judge.labels import LABELS
from referee.db.models import (
    AuditEntry,
    Dataset,
    HumanLabel,
    Pair,
    Policy,
    ReviewAssignment,
    Reviewer,
    ReviewQueueItem,
    RoutingDecision,
)
from referee.db.models import as_utc as as_utc  # re-exported: the review code's time helper
from referee.review.bias import mark_assignment
from referee.review.config import DEFAULT_PAUSE_RULE, GOLD_QUEUE, QueueConfig
from referee.review.errors import InvalidSubmission, LeaseConflict, NotFound, NotLeased
from referee.review.escalation import (
    escalate_after_label,
    label_kind,
    next_escalation,
    serves_regular_queues,
)
from referee.review.gold_slots import check_kind, claim_gold_slot, real_item_pending
from referee.review.pause import apply_pause_rule, refuse_if_paused
from referee.review.priority import Embedder, SelectFn, hybrid_select
from referee.review.queue_build import ensure_queue, get_dataset, refresh_full
from referee.review.schema import check_answer, schema_for_dataset_id

MAX_TEXT = 20_000
CANDIDATES_PER_TRY = 25


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """What a reviewer sees: never the queue, never gold answers, the AI label only if asked."""

    pair_id: str
    prompt: str
    response_a: str
    response_b: str
    lease_expires_at: datetime
    ai_label: str | None = None
    # the conversation before the two replies ({role, content} turns), when the prompt is one
    messages: tuple[dict[str, str], ...] | None = None

    @classmethod
    def shown_by(cls, pair: Pair, assignment: ReviewAssignment) -> ReviewItem:
        """``pair`` as ``assignment``'s lease shows it: same expiry, same AI label (or none)."""
        return cls(
            pair.id,
            pair.prompt,
            pair.response_a,
            pair.response_b,
            assignment.lease_expires_at,
            assignment.ai_shown,  # what the lease showed when granted (referee.review.bias)
            _turns(pair),
        )

    def to_json(self) -> dict[str, Any]:
        """The item as the API returns it (``ai_label`` only when revealed)."""
        doc: dict[str, Any] = {
            "pair_id": self.pair_id,
            "prompt": self.prompt,
            "response_a": self.response_a,
            "response_b": self.response_b,
            "lease_expires_at": as_utc(self.lease_expires_at).isoformat(),
        }
        if self.ai_label is not None:
            doc["ai_label"] = self.ai_label
        if self.messages is not None:
            doc["messages"] = [dict(turn) for turn in self.messages]
        return doc


def _turns(pair: Pair) -> tuple[dict[str, str], ...] | None:
    """The pair's stored conversation as ``{role, content}`` turns (``None``: single-turn)."""
    if pair.messages is None:
        return None
    return tuple({"role": str(m["role"]), "content": str(m["content"])} for m in pair.messages)


@dataclass(frozen=True, slots=True)
class Lease:
    """A granted lease: the item shown plus server-side facts the reviewer must not see."""

    item: ReviewItem
    queue: str
    reviewer: str
    assignment_id: int


@dataclass(frozen=True, slots=True)
class LabelSubmission:
    """A reviewer's answer. ``reason`` is required when ``label`` is ``both_bad`` or the
    reviewer marks the pair ``unsafe`` (which sends it to the incident queue)."""

    label: str
    rationale: str | None = None
    reason: str | None = None
    duration_s: float | None = None
    unsafe: bool = False
    strength: str | None = None  # slight | much, on a 5-point dataset (referee.review.schema)
    ratings: dict[str, Any] | None = None  # dimension -> 1..5

    def validated(self) -> LabelSubmission:
        """This submission, stripped, or :class:`InvalidSubmission` naming the broken rule."""
        if self.label not in LABELS:
            raise InvalidSubmission(f"label must be one of {', '.join(LABELS)}; got {self.label!r}")
        rationale = (self.rationale or "").strip() or None
        reason = (self.reason or "").strip() or None
        if self.label == "both_bad" and reason is None:
            raise InvalidSubmission("a reason is required when the label is both_bad")
        if self.unsafe and reason is None:
            raise InvalidSubmission("a reason is required when the pair is marked unsafe")
        for name, text in (("rationale", rationale), ("reason", reason)):
            if text is not None and len(text) > MAX_TEXT:
                raise InvalidSubmission(f"{name} is longer than {MAX_TEXT} characters")
        if self.duration_s is not None and not 0 <= self.duration_s < 86_400 * 7:
            raise InvalidSubmission("duration_s must be between 0 and 604800 seconds")
        return LabelSubmission(
            self.label,
            rationale,
            reason,
            self.duration_s,
            self.unsafe,
            self.strength,
            self.ratings,
        )


def resolve_now(now: datetime | None) -> datetime:
    """``now`` as aware UTC, or the current time when ``None``."""
    return as_utc(now) if now is not None else datetime.now(UTC)


def _taken_slots(pair: Any, queue: Any, now: datetime) -> Select[int]:
    """Count of completed + actively leased assignments of a pair in a queue."""
    return (
        select(func.count())
        .select_from(ReviewAssignment)
        .where(
            ReviewAssignment.pair_id == pair,
            ReviewAssignment.queue == queue,
            or_(
                ReviewAssignment.completed_at.is_not(None),
                ReviewAssignment.lease_expires_at > now,
            ),
        )
    )


def _seen_by(reviewer_id: int, pair_column: Any) -> Any:
    return (
        select(ReviewAssignment.id)
        .where(ReviewAssignment.pair_id == pair_column, ReviewAssignment.reviewer_id == reviewer_id)
        .exists()
    )


def _open_items(
    dataset_id: int, reviewer_id: int, now: datetime, passed: list[int]
) -> Select[ReviewQueueItem]:
    """Open items (not ``full``) with a free slot that the reviewer has not seen, by rank."""
    q = ReviewQueueItem
    query = select(q).where(
        q.dataset_id == dataset_id,
        q.full == false(),
        ~_seen_by(reviewer_id, q.pair_id),
        _taken_slots(q.pair_id, q.queue, now).scalar_subquery() < q.required_labels,
    )
    if passed:
        query = query.where(q.id.not_in(passed))
    return query.order_by(q.rank)


def _next_candidate(
    session: Session, dataset_id: int, reviewer_id: int, now: datetime, passed: list[int]
) -> ReviewQueueItem | None:
    """The first open item for the reviewer, its row locked on PostgreSQL; rows another
    lease is locking are skipped (``FOR UPDATE SKIP LOCKED``), so concurrent reviewers take
    different items instead of queueing on the head row. SQLite ignores the clause (its
    writes are serialised; :func:`_claim` takes its write lock)."""
    query = _open_items(dataset_id, reviewer_id, now, passed).limit(1)
    return session.scalar(query.with_for_update(of=ReviewQueueItem, skip_locked=True))


def _claim(session: Session, item: ReviewQueueItem, reviewer_id: int, now: datetime) -> bool:
    """With the item's row locked, recount its free slots; True when one is still free.

    The recount is a new statement, so it sees every lease committed by whoever held the row
    before (the candidate query's snapshot may predate them)."""
    if session.get_bind().dialect.name != "postgresql":  # PostgreSQL: locked by the SELECT
        session.execute(
            update(ReviewQueueItem)
            .where(ReviewQueueItem.id == item.id)
            .values(rank=ReviewQueueItem.rank)
            .execution_options(synchronize_session=False)
        )
    taken = session.scalar(_taken_slots(item.pair_id, item.queue, now))
    seen = session.scalar(select(_seen_by(reviewer_id, item.pair_id)))
    return int(taken or 0) < item.required_labels and not seen


def _gold_candidate(session: Session, dataset_id: int, reviewer_id: int, served: int) -> str | None:
    pair_ids = list(
        session.scalars(
            select(HumanLabel.pair_id)
            .join(Pair, Pair.id == HumanLabel.pair_id)
            .where(
                Pair.dataset_id == dataset_id,
                HumanLabel.kind == "gold",
                ~_seen_by(reviewer_id, HumanLabel.pair_id),
            )
            .distinct()
        )
    )
    if not pair_ids:
        return None
    pair_ids.sort(key=lambda p: hashlib.sha256(f"{reviewer_id}:{served}:{p}".encode()).hexdigest())
    return pair_ids[0]


def _served_count(session: Session, dataset_id: int, reviewer_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ReviewAssignment)
            .join(Pair, Pair.id == ReviewAssignment.pair_id)
            .where(ReviewAssignment.reviewer_id == reviewer_id, Pair.dataset_id == dataset_id)
        )
        or 0
    )


def _current_decision(session: Session, pair_id: str) -> RoutingDecision | None:
    return session.scalar(
        select(RoutingDecision)
        .where(RoutingDecision.pair_id == pair_id, RoutingDecision.current.is_(True))
        .order_by(RoutingDecision.id.desc())
        .limit(1)
    )


def _grant(
    session: Session,
    pair_id: str,
    queue: str,
    reviewer: Reviewer,
    config: QueueConfig,
    now: datetime,
    *,
    trap: bool = False,
) -> Lease:
    expires = now + timedelta(seconds=config.lease_seconds)
    assignment = ReviewAssignment(
        pair_id=pair_id,
        reviewer_id=reviewer.id,
        queue=queue,
        leased_at=now,
        lease_expires_at=expires,
    )
    session.add(assignment)
    session.flush()
    pair = session.get(Pair, pair_id)
    assert pair is not None
    ai_label = mark_assignment(session, assignment, reviewer.id, config, trap=trap)
    item = ReviewItem(
        pair.id, pair.prompt, pair.response_a, pair.response_b, expires, ai_label, _turns(pair)
    )
    return Lease(item, queue, reviewer.name, assignment.id)


def lease_next(
    session: Session,
    dataset: str | Dataset,
    reviewer: Reviewer,
    config: QueueConfig,
    *,
    now: datetime | None = None,
    embedder: Embedder | None = None,
    select_fn: SelectFn = hybrid_select,
) -> Lease | None:
    """Lease the reviewer's next item of ``dataset``, or ``None`` when nothing is left for them.

    A lease the reviewer already holds and has not answered is returned again first (so a
    reloaded client resumes instead of piling up leases). A paused reviewer gets
    :class:`~referee.review.errors.ReviewerPaused` (403) instead (:mod:`referee.review.pause`).
    """
    moment = resolve_now(now)
    refuse_if_paused(reviewer)
    ds = get_dataset(session, dataset) if isinstance(dataset, str) else dataset
    held = session.scalar(
        select(ReviewAssignment)
        .join(Pair, Pair.id == ReviewAssignment.pair_id)
        .where(
            Pair.dataset_id == ds.id,
            ReviewAssignment.reviewer_id == reviewer.id,
            ReviewAssignment.completed_at.is_(None),
            ReviewAssignment.lease_expires_at > moment,
        )
        .order_by(ReviewAssignment.leased_at)
        .limit(1)
    )
    if held is not None:
        return _resume(session, held, reviewer, config)
    escalated = next_escalation(session, ds.id, reviewer, moment)  # adjudication, incidents
    if escalated is not None:
        return _grant(session, escalated.pair_id, escalated.queue, reviewer, config, moment)
    if not serves_regular_queues(reviewer):
        return None
    ensure_queue(session, ds.id, config, embedder=embedder, select_fn=select_fn)
    return _lease_regular(session, ds.id, reviewer, config, moment)


def _lease_regular(
    session: Session, ds_id: int, reviewer: Reviewer, config: QueueConfig, moment: datetime
) -> Lease | None:
    """A hidden check at the reviewer's check positions, else the first open item they can
    claim (see the module docstring), or None."""
    served = _served_count(session, ds_id, reviewer.id)
    passed: list[int] = []
    candidate = _next_candidate(session, ds_id, reviewer.id, moment, passed)
    # a hidden check (a trap: a gold pair, wrong pre-label shown) fills a reserved slot, while
    # the reviewer has real items left or, once none is pending, while free slots remain
    tail = candidate is None and not real_item_pending(session, ds_id, moment)
    check = (
        check_kind(reviewer.id, ds_id, served, config, tail=tail)
        if candidate is not None or tail
        else None
    )
    if check is not None and claim_gold_slot(session, ds_id, config, moment):
        check_pair = _gold_candidate(session, ds_id, reviewer.id, served)
        if check_pair is not None:
            trap = check == "trap"
            return _grant(session, check_pair, GOLD_QUEUE, reviewer, config, moment, trap=trap)
    while candidate is not None:
        if _claim(session, candidate, reviewer.id, moment):
            return _grant(session, candidate.pair_id, candidate.queue, reviewer, config, moment)
        passed.append(candidate.id)
        candidate = _next_candidate(session, ds_id, reviewer.id, moment, passed)
    return None


def _resume(
    session: Session, held: ReviewAssignment, reviewer: Reviewer, config: QueueConfig
) -> Lease:
    item = ReviewItem.shown_by(session.get_one(Pair, held.pair_id), held)
    return Lease(item, held.queue, reviewer.name, held.id)


def find_assignment(
    session: Session, pair_id: str, reviewer: Reviewer, *, never_leased: str
) -> ReviewAssignment:
    """The reviewer's assignment of ``pair_id`` (answered or not, live or expired).

    :class:`NotFound` for an unknown pair; :class:`NotLeased` when the reviewer never held it,
    the message ending with ``never_leased`` (what to do instead)."""
    assignment = session.scalar(
        select(ReviewAssignment).where(
            ReviewAssignment.pair_id == pair_id, ReviewAssignment.reviewer_id == reviewer.id
        )
    )
    if assignment is None:
        if session.get(Pair, pair_id) is None:
            raise NotFound(f"no pair {pair_id!r}")
        raise NotLeased(f"pair {pair_id!r} {never_leased}")
    return assignment


def own_label(session: Session, pair_id: str, reviewer: Reviewer, kind: str) -> HumanLabel | None:
    """The reviewer's stored label of ``kind`` on ``pair_id``, if any."""
    return session.scalar(
        select(HumanLabel).where(
            HumanLabel.pair_id == pair_id,
            HumanLabel.annotator == reviewer.name,
            HumanLabel.kind == kind,
        )
    )


def audit_review(
    session: Session,
    action: str,
    assignment: ReviewAssignment,
    reviewer: Reviewer,
    moment: datetime,
    **detail: Any,
) -> None:
    """Add the audit entry of a reviewer's ``action`` (``review.label``, ``review.release``,
    ``review.undo``) on the assignment's pair; ``detail`` adds to its assignment and queue."""
    session.add(
        AuditEntry(
            at=moment,
            actor=reviewer.name,
            action=action,
            entity="pair",
            entity_id=assignment.pair_id,
            detail={"assignment_id": assignment.id, "queue": assignment.queue, **detail},
        )
    )


def _active_assignment(
    session: Session, pair_id: str, reviewer: Reviewer, now: datetime
) -> ReviewAssignment:
    assignment = find_assignment(
        session, pair_id, reviewer, never_leased="is not leased to you; get items from /v1/next"
    )
    if assignment.completed_at is not None:
        raise LeaseConflict(f"you already labeled pair {pair_id!r}")
    if as_utc(assignment.lease_expires_at) <= now:
        raise LeaseConflict(
            f"your lease on pair {pair_id!r} expired or was released; ask for the next item"
        )
    return assignment


def submit_label(
    session: Session,
    pair_id: str,
    reviewer: Reviewer,
    submission: LabelSubmission,
    *,
    now: datetime | None = None,
    pause_rule: PauseRule | None = DEFAULT_PAUSE_RULE,
) -> HumanLabel:
    """Store the reviewer's label for a pair they hold a live lease on, with an audit entry;
    then apply ``pause_rule`` to the reviewer (``QueueConfig.pause_rule``; None: no rule)."""
    moment = resolve_now(now)
    answer = submission.validated()
    assignment = _active_assignment(session, pair_id, reviewer, moment)
    schema_part = check_answer(
        schema_for_dataset_id(session, session.get_one(Pair, pair_id).dataset_id),
        answer.label,
        answer.strength,
        answer.ratings,
        answer.rationale,
    )
    kind = label_kind(assignment.queue)
    if own_label(session, pair_id, reviewer, kind) is not None:
        raise LeaseConflict(f"a {kind} label by {reviewer.name!r} for {pair_id!r} exists already")
    decision = _current_decision(session, pair_id)
    policy_version = _policy_version(session, decision)
    duration = answer.duration_s
    if duration is None:
        duration = max(0.0, (moment - as_utc(assignment.leased_at)).total_seconds())
    label = HumanLabel(
        pair_id=pair_id,
        annotator=reviewer.name,
        label=answer.label,
        kind=kind,
        rationale=answer.rationale,
        reason=answer.reason,
        duration_s=duration,
        policy_version=policy_version,
        created_at=moment,
        unsafe=answer.unsafe,
        strength=schema_part.strength,
        ratings=schema_part.ratings,
        rubric_version=schema_part.rubric_version,
    )
    session.add(label)
    assignment.completed_at = moment
    _audit_label(session, assignment, reviewer, moment, label)
    session.flush()
    refresh_full(session, pair_id, assignment.queue)
    escalate_after_label(session, label, assignment.queue, decision, moment)
    pair = session.get(Pair, pair_id)
    if pair is not None and pause_rule is not None:  # on this answer's dataset
        apply_pause_rule(session, reviewer, pair.dataset_id, rule=pause_rule, now=moment)
    return label


def _policy_version(session: Session, decision: RoutingDecision | None) -> int | None:
    """The version of the policy that made ``decision`` (None without one)."""
    if decision is None or decision.policy_id is None:
        return None
    policy = session.get(Policy, decision.policy_id)
    return policy.version if policy is not None else None


def _audit_label(
    session: Session,
    assignment: ReviewAssignment,
    reviewer: Reviewer,
    moment: datetime,
    label: HumanLabel,
) -> None:
    """The audit entry of one stored label."""
    audit_review(
        session,
        "review.label",
        assignment,
        reviewer,
        moment,
        label=label.label,
        kind=label.kind,
        gold_check=assignment.queue == GOLD_QUEUE,
        policy_version=label.policy_version,
        duration_s=label.duration_s,
        reason=label.reason,
        unsafe=label.unsafe,
    )


def release_item(
    session: Session, pair_id: str, reviewer: Reviewer, *, now: datetime | None = None
) -> None:
    """Give a leased item back now (a skip); the reviewer will not be offered it again."""
    moment = resolve_now(now)
    assignment = _active_assignment(session, pair_id, reviewer, moment)
    assignment.lease_expires_at = moment
    audit_review(session, "review.release", assignment, reviewer, moment)
    session.flush()


def expire_condition(now: datetime) -> Any:
    """SQL condition of an active (unanswered, unexpired) lease at ``now``."""
    return and_(ReviewAssignment.completed_at.is_(None), ReviewAssignment.lease_expires_at > now)


__all__ = [
    "LabelSubmission",
    "Lease",
    "ReviewItem",
    "as_utc",
    "audit_review",
    "expire_condition",
    "find_assignment",
    "lease_next",
    "own_label",
    "release_item",
    "resolve_now",
    "submit_label",
]
