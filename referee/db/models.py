"""The relational schema (SQLAlchemy 2.x, typed declarative). Alembic migrations mirror it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.errors import RefereeError
from referee.db.vocab import (
    AssignmentQueue,
    DecisionKind,
    EscalationQueue,
    EscalationStatus,
    HumanLabelKind,
    JobItemStatus,
    JobKind,
    JobStatus,
    JudgmentStatus,
    Label,
    Order,
    RationaleRule,
    ReviewQueue,
    Role,
    Source,
    Strength,
    enumerated,
)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def checks(table: str) -> tuple[CheckConstraint, ...]:
    """One CHECK constraint per enumerated column of ``table`` (:mod:`referee.db.vocab`).

    Migration 0010 adds the same constraints to existing databases (as triggers on SQLite,
    which cannot add a constraint to a table); ``tests/storage/test_vocab.py`` compares them.
    """
    return tuple(CheckConstraint(c.condition, name=c.name) for c in enumerated(table))


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # redaction (0007): once required, every ingest of the dataset is redacted; the state maps
    # keyed digests of values to token numbers (never the values: those live in the vault)
    redaction_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    redaction_patterns: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    redaction_state: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # bumped at commit by every write that changes what the review queue holds (0015;
    # referee.db.queue_generation); the queue is stale when its state row has another value
    queue_generation: Mapped[int] = mapped_column(Integer, server_default="0")


class Pair(Base):
    __tablename__ = "pairs"
    # keyset pages of a dataset's pairs by id (0014): WHERE dataset_id = ? AND id > ? ORDER BY id
    __table_args__ = (Index("ix_pairs_dataset_id_id", "dataset_id", "id"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    response_a: Mapped[str] = mapped_column(Text)
    response_b: Mapped[str] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    content_hash: Mapped[str] = mapped_column(String(64))
    frozen_eval: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    redaction_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # a conversation (0012): the turns before the two replies, [{role, content}, ...]
    # (judge.conversation); ``prompt`` then holds their flat rendering. NULL: single-turn.
    messages: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    # k-wise responses (0012): the source record several pairs came from, and which of its
    # responses are A and B (the response's id, or its index when it has none)
    group_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    response_a_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    response_b_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)


class HumanLabel(Base):
    __tablename__ = "human_labels"
    __table_args__ = (
        UniqueConstraint("pair_id", "annotator", "kind", name="uq_label"),
        *checks("human_labels"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    annotator: Mapped[str] = mapped_column(String(200))
    label: Mapped[Label] = mapped_column(String(16))
    kind: Mapped[HumanLabelKind] = mapped_column(String(16))
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    policy_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # the reviewer marked the pair unsafe (0008): it goes to the incident queue
    unsafe: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the dataset's review schema (0009): strength on the 5-point scale (slight|much), 1-5
    # ratings per dimension, and the rubric version (review config) the answer was given under
    strength: Mapped[Strength | None] = mapped_column(String(8), nullable=True)
    ratings: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    rubric_version: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Judgment(Base):
    __tablename__ = "judgments"
    __table_args__ = (
        UniqueConstraint("pair_id", "judge", "order", "prompt_version", name="uq_judgment"),
        *checks("judgments"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    judge: Mapped[str] = mapped_column(String(200))
    order: Mapped[Order] = mapped_column(String(2))
    prompt_version: Mapped[str] = mapped_column(String(64))
    winner: Mapped[Label | None] = mapped_column(String(16), nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    logprob_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    raw: Mapped[str | None] = mapped_column(Text, nullable=True)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[JudgmentStatus] = mapped_column(String(16), default="ok")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    injection_suspected: Mapped[bool] = mapped_column(Boolean, default=False)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # earlier turns of a conversation left out to fit the judge's context (0013); NULL: none
    # rendered (single-turn prompt, replayed verdict)
    turns_dropped: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = checks("jobs")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    kind: Mapped[JobKind] = mapped_column(String(32), default="prelabel")
    status: Mapped[JobStatus] = mapped_column(String(16), default="pending")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total_items: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobItem(Base):
    """One pair of a job: its progress, attempts and the reason it failed, if it did."""

    __tablename__ = "job_items"
    __table_args__ = (Index("ix_job_items_job_status", "job_id", "status"), *checks("job_items"))

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), primary_key=True)
    status: Mapped[JobItemStatus] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Policy(Base):
    """A versioned routing policy fitted by ``referee calibrate``."""

    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("dataset_id", "version", name="uq_policy_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RoutingDecision(Base):
    __tablename__ = "routing_decisions"
    __table_args__ = (
        UniqueConstraint("pair_id", "policy_id", name="uq_decision"),
        *checks("routing_decisions"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"), nullable=True)
    decision: Mapped[DecisionKind] = mapped_column(String(16))
    label: Mapped[Label | None] = mapped_column(String(16), nullable=True)
    source: Mapped[Source] = mapped_column(String(8), default="ai")
    reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    inclusion_probability: Mapped[float | None] = mapped_column(Float, nullable=True)
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Reviewer(Base):
    __tablename__ = "reviewers"
    __table_args__ = checks("reviewers")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # paused by the pause rule or a lead: served no new items until a lead unpauses (0005)
    paused: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    paused_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    unpaused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # a lead token also opens the lead's page (0006); experts adjudicate, incident reviewers
    # get incidents only (0008)
    role: Mapped[Role] = mapped_column(String(16), default="reviewer", server_default="reviewer")


class DatasetMember(Base):
    """A reviewer's (or lead's) access to one dataset (0011; ``referee reviewers grant``).

    A token works only on the datasets its reviewer is a member of: anything else is the same
    404 as a dataset that does not exist (:mod:`referee.review.membership`)."""

    __tablename__ = "dataset_members"

    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    granted_by: Mapped[str] = mapped_column(String(200), default="cli")


class ReviewAssignment(Base):
    """One reviewer's lease on one queue item; completed when the label arrives."""

    __tablename__ = "review_assignments"
    __table_args__ = (
        UniqueConstraint("pair_id", "reviewer_id", name="uq_assignment"),
        *checks("review_assignments"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    queue: Mapped[AssignmentQueue] = mapped_column(String(16))
    leased_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    lease_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # automation-bias controls (0009): the pair's AI pre-label at lease time, the label shown
    # (None: hidden; a deliberately wrong one on a trap) and whether the item is a trap
    ai_label: Mapped[Label | None] = mapped_column(String(16), nullable=True)
    ai_shown: Mapped[Label | None] = mapped_column(String(16), nullable=True)
    trap: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ReviewConfig(Base):
    """A dataset's annotation schema (0009; ``referee review-config``): the label scale (3 or 5
    points), rating dimensions, when a rationale is required, and the guidelines. ``version``
    grows by one whenever any of them changes; ``sha256`` is the digest of all of them."""

    __tablename__ = "review_configs"
    __table_args__ = checks("review_configs")

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    scale: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    dimensions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    require_rationale: Mapped[RationaleRule] = mapped_column(String(16), default="never")
    guidelines: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Escalation(Base):
    """A pair sent for a second look (0008): ``adjudication`` (a spot check disagreed with the
    accepted AI label) or ``incident`` (a both-bad answer, or a reviewer marked it unsafe).

    ``routing_reasons``: the routing decision's reasons when it was opened; ``human_reasons``:
    one ``{"annotator", "label", "reason", "unsafe", "queue", "at"}`` per flagging answer
    (reviewers' names; pseudonyms are applied on the way out). ``status`` is ``open`` until a
    second reviewer answers the item (``resolved``, with ``resolution`` = their label).
    """

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("pair_id", "queue", name="uq_escalation"),
        *checks("escalations"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    queue: Mapped[EscalationQueue] = mapped_column(String(16))
    status: Mapped[EscalationStatus] = mapped_column(
        String(16), default="open", server_default="open"
    )
    routing_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    human_reasons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    flagged_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    resolution: Mapped[Label | None] = mapped_column(String(16), nullable=True)


class AuditEntry(Base):
    """Append-only record of who or what changed a label or a decision."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReviewQueueItem(Base):
    """One routed pair in a dataset's review queue, with its cached active-learning priority.

    Built from the current ``human_review`` / ``spot_check`` routing decisions (one row per
    decision); ``rank`` 0 is served first. ``required_labels`` is k, the number of reviewers
    whose labels complete the item. Added by migration 0002 (review queues).
    """

    __tablename__ = "review_queue_items"
    __table_args__ = (
        Index("ix_review_queue_items_dataset_rank", "dataset_id", "rank"),
        Index("ix_review_queue_items_open", "dataset_id", "full", "rank"),
        *checks("review_queue_items"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("routing_decisions.id"), unique=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"))
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.id"), index=True)
    queue: Mapped[ReviewQueue] = mapped_column(String(16))
    rank: Mapped[int] = mapped_column(Integer)
    uncertainty: Mapped[float] = mapped_column(Float)
    required_labels: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # all k answers are in (0015): leases read open items only (ix_review_queue_items_open)
    full: Mapped[bool] = mapped_column(Boolean, server_default=false())


class ReviewQueueState(Base):
    """When a dataset's review queue was last built (0015): from which ``queue_generation`` of
    the dataset, with how many items and how many labels they need in all (Σ k)."""

    __tablename__ = "review_queue_states"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    built_generation: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(Integer)
    labels_needed: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Release(Base):
    """An immutable, named version of a dataset's final labels (``referee release``).

    ``manifest`` is the document written as ``manifest.json``; ``rows_sha256`` is the SHA-256 of
    the release's rows in order (their stored JSON, one per line), so an export can prove it
    came from this release. Added by migration 0003.
    """

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("dataset_id", "name", name="uq_release_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("releases.id"), nullable=True)
    row_count: Mapped[int] = mapped_column(Integer)
    rows_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReleaseRow(Base):
    """One frozen final-label row of a release, as the JSON text it was frozen with."""

    __tablename__ = "release_rows"

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)


class ReleaseIsImmutable(RefereeError):
    """Raised on any attempt to change or delete a release or one of its rows."""


@event.listens_for(Release, "before_update")
@event.listens_for(ReleaseRow, "before_update")
def _refuse_release_update(_mapper: Any, _connection: Any, target: Any) -> None:
    raise ReleaseIsImmutable("a release cannot be changed: make a new release instead")


@event.listens_for(Release, "before_delete")
@event.listens_for(ReleaseRow, "before_delete")
def _refuse_release_delete(_mapper: Any, _connection: Any, target: Any) -> None:
    raise ReleaseIsImmutable("a release cannot be deleted: releases are immutable")


class AuditLogIsAppendOnly(RefereeError):
    """Raised on any attempt to change or delete an audit entry."""


@event.listens_for(AuditEntry, "before_update")
def _refuse_audit_update(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be changed: the log is append-only")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_audit_delete(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {target.id} cannot be deleted: the log is append-only")
