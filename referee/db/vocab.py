"""The closed vocabularies stored in string columns, as ``Literal`` types and their values.

Each vocabulary is a ``Literal`` type (for ``mypy``) and the tuple of its values (for checks at
run time and for the database's CHECK constraints, see :data:`ENUMERATED_COLUMNS`). Where a
domain package already owns a vocabulary it is re-exported from there: labels, orders and
judgment statuses from :mod:`judge.labels`. Routing's decisions and label sources
(:mod:`routing.decisions`) are spelled out again instead, because ``workers`` still imports the
models (issue 15 item 2) and must never import ``routing``; ``tests/storage/test_vocab.py`` keeps
the two spellings equal. Adding a value means adding it here *and* a migration that widens the
constraint (the same test fails until both agree).

This module imports neither SQLAlchemy nor the rest of ``referee``, so anything may use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

from judge.labels import (
    JUDGMENT_STATUSES,
    LABEL_KINDS,
    LABELS,
    ORDERS,
    JudgmentStatus,
    Label,
    LabelKind,
    Order,
)

DecisionKind = Literal["auto_accept", "human_review", "spot_check", "frozen_eval"]
"""What routing did with a pair (:data:`routing.decisions.DecisionKind`)."""
Source = Literal["ai", "human"]
"""Who gave a routing decision's label (:data:`routing.decisions.Source`)."""
JobKind = Literal["prelabel"]
"""What a job does; only pre-labelling runs as a job so far."""
JobStatus = Literal["pending", "running", "done", "partial", "failed", "cancelled", "interrupted"]
"""``pending``/``running`` while active; ``done`` (every pair judged), ``partial`` (some pairs
failed), ``failed`` (every pair failed, or the configuration is wrong), ``cancelled`` and
``interrupted`` (Ctrl-C) once finished."""
JobItemStatus = Literal["pending", "done", "failed"]
"""One pair of a job: waiting (or retrying after a transient failure), judged, or given up."""
HumanLabelKind = Literal[LabelKind, "adjudication", "incident"]
"""Why a person gave a label: the importable kinds (:data:`judge.labels.LabelKind`) plus the
answers given in the escalation queues."""
Strength = Literal["slight", "much"]
"""How much better the preferred response is, on a 5-point scale."""
Role = Literal["reviewer", "lead", "expert", "incident"]
"""A reviewer's role: ``lead`` also opens the lead's page, ``expert`` adjudicates spot-check
disagreements first, ``incident`` reviewers get incident items only."""
ReviewQueue = Literal["review", "spot_check"]
"""The queues routing fills (``human_review`` and ``spot_check`` decisions)."""
EscalationQueue = Literal["adjudication", "incident"]
"""The second-look queues of :mod:`referee.review.escalation`."""
AssignmentQueue = Literal[ReviewQueue, EscalationQueue, "gold"]
"""The queue a review assignment was served from; ``gold`` is a hidden gold check."""
EscalationStatus = Literal["open", "resolved", "withdrawn"]
"""``open`` until answered (``resolved``); ``withdrawn`` when every flag was taken back."""
RationaleRule = Literal["never", "both_bad", "always"]
"""When a review schema requires a rationale."""

DECISION_KINDS: Final[tuple[DecisionKind, ...]] = get_args(DecisionKind)
JOB_KINDS: Final[tuple[JobKind, ...]] = get_args(JobKind)
JOB_STATUSES: Final[tuple[JobStatus, ...]] = get_args(JobStatus)
JOB_ITEM_STATUSES: Final[tuple[JobItemStatus, ...]] = get_args(JobItemStatus)
HUMAN_LABEL_KINDS: Final[tuple[HumanLabelKind, ...]] = get_args(HumanLabelKind)
STRENGTHS: Final[tuple[Strength, ...]] = get_args(Strength)
ROLES: Final[tuple[Role, ...]] = get_args(Role)
REVIEW_QUEUES: Final[tuple[ReviewQueue, ...]] = get_args(ReviewQueue)
ESCALATION_QUEUES: Final[tuple[EscalationQueue, ...]] = get_args(EscalationQueue)
ASSIGNMENT_QUEUES: Final[tuple[AssignmentQueue, ...]] = get_args(AssignmentQueue)
ESCALATION_STATUSES: Final[tuple[EscalationStatus, ...]] = get_args(EscalationStatus)
RATIONALE_RULES: Final[tuple[RationaleRule, ...]] = get_args(RationaleRule)
SOURCES: Final[tuple[Source, ...]] = get_args(Source)


@dataclass(frozen=True, slots=True)
class EnumeratedColumn:
    """A string column whose values are limited to ``values`` by a CHECK constraint.

    NULL passes the check (SQL's ``NULL IN (...)`` is not false), so nullable columns stay
    nullable; whether NULL is allowed is the column's own ``NOT NULL``.
    """

    table: str
    column: str
    values: tuple[str, ...]

    @property
    def name(self) -> str:
        """The constraint's name, ``ck_<table>_<column>``."""
        return f"ck_{self.table}_{self.column}"

    @property
    def condition(self) -> str:
        """The SQL condition, e.g. ``"status" IN ('pending', 'done')`` (the column quoted:
        ``order`` is a reserved word)."""
        return f'"{self.column}" IN ({quoted(self.values)})'


def quoted(values: tuple[str, ...]) -> str:
    """``values`` as a list of SQL string literals: ``'a', 'b'``."""
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


ENUMERATED_COLUMNS: Final[tuple[EnumeratedColumn, ...]] = (
    EnumeratedColumn("human_labels", "label", LABELS),
    EnumeratedColumn("human_labels", "kind", HUMAN_LABEL_KINDS),
    EnumeratedColumn("human_labels", "strength", STRENGTHS),
    EnumeratedColumn("judgments", "order", ORDERS),
    EnumeratedColumn("judgments", "winner", LABELS),
    EnumeratedColumn("judgments", "status", JUDGMENT_STATUSES),
    EnumeratedColumn("jobs", "kind", JOB_KINDS),
    EnumeratedColumn("jobs", "status", JOB_STATUSES),
    EnumeratedColumn("job_items", "status", JOB_ITEM_STATUSES),
    EnumeratedColumn("routing_decisions", "decision", DECISION_KINDS),
    EnumeratedColumn("routing_decisions", "label", LABELS),
    EnumeratedColumn("routing_decisions", "source", SOURCES),
    EnumeratedColumn("reviewers", "role", ROLES),
    EnumeratedColumn("review_assignments", "queue", ASSIGNMENT_QUEUES),
    EnumeratedColumn("review_assignments", "ai_label", LABELS),
    EnumeratedColumn("review_assignments", "ai_shown", LABELS),
    EnumeratedColumn("review_configs", "require_rationale", RATIONALE_RULES),
    EnumeratedColumn("escalations", "queue", ESCALATION_QUEUES),
    EnumeratedColumn("escalations", "status", ESCALATION_STATUSES),
    EnumeratedColumn("escalations", "resolution", LABELS),
    EnumeratedColumn("review_queue_items", "queue", REVIEW_QUEUES),
)
"""Every enumerated string column. Free-text columns (names, ``audit_log.action``, errors) are
not listed: their values are open by design."""


def enumerated(table: str) -> tuple[EnumeratedColumn, ...]:
    """The enumerated columns of ``table``."""
    return tuple(c for c in ENUMERATED_COLUMNS if c.table == table)


__all__ = [
    "ASSIGNMENT_QUEUES",
    "DECISION_KINDS",
    "ENUMERATED_COLUMNS",
    "ESCALATION_QUEUES",
    "ESCALATION_STATUSES",
    "HUMAN_LABEL_KINDS",
    "JOB_ITEM_STATUSES",
    "JOB_KINDS",
    "JOB_STATUSES",
    "JUDGMENT_STATUSES",
    "LABELS",
    "LABEL_KINDS",
    "ORDERS",
    "RATIONALE_RULES",
    "REVIEW_QUEUES",
    "ROLES",
    "SOURCES",
    "STRENGTHS",
    "AssignmentQueue",
    "DecisionKind",
    "EnumeratedColumn",
    "EscalationQueue",
    "EscalationStatus",
    "HumanLabelKind",
    "JobItemStatus",
    "JobKind",
    "JobStatus",
    "JudgmentStatus",
    "Label",
    "LabelKind",
    "Order",
    "RationaleRule",
    "ReviewQueue",
    "Role",
    "Source",
    "Strength",
    "enumerated",
    "quoted",
]
