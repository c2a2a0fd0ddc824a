"""Reserved gold-check slots: how hidden gold checks pass for items of the real queues.

A reviewer watches the queue counts (``/v1/stats``, the page's "remaining"); a hidden gold check
must move them exactly as a real item does, or the counts give it away. A served check cannot
simply "take" a real item's place: that item is still to be served, and when it is, there is
nothing left to take it from (the counts stop moving, or a total grows). So the checks are
budgeted up front:

* **Reservation.** With S = the labels the dataset's queues need (Σ ``required_labels``) and
  c = the share of served items that are checks (``1 / round(1 / gold_rate)`` gold slots, and
  ``trap_rate`` traps when pre-labels are revealed: c = t + (1 - t)·g), the queues reserve
  G₀ = round(S · c / (1 - c)) slots for checks: as many as reviewers serving at those rates
  are shown while the queues are answered. G = min(G₀, gold pairs · reviewers who have
  started on the dataset), so that the reviewers at work can always fill them all (one
  reviewer sees a gold pair at most once). G is a function of the built queue, the config and
  the reviewers, so every process computes the same; it grows only when a reviewer starts.
* **Schedule.** Slot j stands in for the queue of the real item at rank ⌊j·n / G₀⌋ of the
  n queue items (the one a lone reviewer is about to be served when their j-th check comes):
  checks pass for the queues in the proportion and order in which real items are served; the
  schedule does not depend on G, so a growing G only adds slots at its end.
* **Use.** Gold and trap assignments that are answered or hold a live lease use the first slots
  of the schedule: answered ones the first, live ones the next. A new check takes the next
  slot, so in a reviewer's view it leaves that queue's ``pending`` for ``leased``, then
  ``done`` when answered, or goes back to ``pending`` when released or expired: the moves of a
  real item of that queue. Totals never change; no check stands in for a queue without a
  pending slot.
* **Serving.** A check is served only into a free slot (:func:`claim_gold_slot`, under a
  lock on the dataset's row), at the reviewer's gold or trap positions (so each reviewer is
  checked at the configured rate) and, once no real item is pending and the reviewer has none
  left, for every free slot still there, so that "remaining" counts the checks reviewers will
  still be shown and runs down to zero like the real items.

Operators see the real queues (:func:`referee.review.stats.queue_stats` without a reviewer).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, false, func, or_, select, update
from sqlalchemy.orm import Session

from referee.db.models import (
    Dataset,
    HumanLabel,
    Pair,
    ReviewAssignment,
    ReviewQueueItem,
    ReviewQueueState,
)
from referee.review.bias import is_trap_slot
from referee.review.config import GOLD_QUEUE, QueueConfig

MAX_CHECK_SHARE = 0.9
"""Upper bound of the share of served items that are checks (gold and trap rates summed)."""


def is_gold_slot(reviewer_id: int, dataset_id: int, served: int, gold_rate: float) -> bool:
    """Whether the reviewer's ``served``-th item of the dataset is a gold check position.

    Served items come in blocks of ``round(1 / gold_rate)``; one position per block, drawn
    from a hash of (reviewer, dataset, block), is the gold position."""
    if gold_rate <= 0:
        return False
    block = max(1, round(1.0 / gold_rate))
    digest = hashlib.sha256(f"{reviewer_id}:{dataset_id}:{served // block}".encode()).digest()
    return served % block == int.from_bytes(digest[:8], "big") % block


def check_share(config: QueueConfig) -> float:
    """c: the share of served items that are hidden checks (gold positions and traps)."""
    gold = 1.0 / max(1, round(1.0 / config.gold_rate)) if config.gold_rate > 0 else 0.0
    trap = config.trap_rate if config.reveal_ai_label else 0.0
    return min(MAX_CHECK_SHARE, trap + (1.0 - trap) * gold)


def planned_slots(labels_needed: int, config: QueueConfig) -> int:
    """G₀: checks shown at ``config``'s rates while queues needing ``labels_needed`` labels in
    all are answered."""
    share = check_share(config)
    if share <= 0 or labels_needed <= 0:
        return 0
    return math.floor(labels_needed * share / (1.0 - share) + 0.5)


def reserved_slots(
    labels_needed: int, gold_pairs: int, config: QueueConfig, *, reviewers: int = 1
) -> int:
    """G: check slots reserved for queues that need ``labels_needed`` labels in all, with
    ``gold_pairs`` gold pairs and ``reviewers`` reviewers started (at least one is assumed)."""
    return min(gold_pairs * max(1, reviewers), planned_slots(labels_needed, config))


def slot_schedule(ranked_queues: Sequence[str], planned: int, slots: int) -> list[str]:
    """The queue each of the first ``slots`` of ``planned`` check slots stands in for, given
    the queue of every real item in rank order: slot j takes the item at rank ⌊j·n / planned⌋."""
    n = len(ranked_queues)
    if not n:
        return []
    return [ranked_queues[min(n - 1, j * n // planned)] for j in range(min(slots, planned))]


@dataclass(frozen=True, slots=True)
class GoldSlots:
    """A dataset's reserved check slots and how many are in use.

    ``schedule``: the queue of each reserved slot; ``done`` / ``live``: checks answered / under
    a live lease (they use the first ``done`` slots, then the next ``live``)."""

    schedule: tuple[str, ...]
    done: int
    live: int

    @property
    def free(self) -> int:
        """Reserved slots no check uses yet."""
        return max(0, len(self.schedule) - self.done - self.live)

    def per_queue(self) -> dict[str, tuple[int, int, int]]:
        """(free, live, done) slots per queue. Checks beyond the reservation (the config
        changed after they were served) count for the last slot's queue."""
        used = self.done + self.live
        overflow = self.schedule[-1:] or ("review",)
        slots = list(self.schedule) + list(overflow) * max(0, used - len(self.schedule))
        done = Counter(slots[: self.done])
        live = Counter(slots[self.done : used])
        free = Counter(slots[used:])
        return {q: (free[q], live[q], done[q]) for q in dict.fromkeys(slots)}


def _gold_pairs(session: Session, dataset_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(func.distinct(HumanLabel.pair_id)))
            .join(Pair, Pair.id == HumanLabel.pair_id)
            .where(Pair.dataset_id == dataset_id, HumanLabel.kind == "gold")
        )
        or 0
    )


def _reviewers_started(session: Session, dataset_id: int) -> int:
    return int(
        session.scalar(
            select(func.count(func.distinct(ReviewAssignment.reviewer_id)))
            .join(Pair, Pair.id == ReviewAssignment.pair_id)
            .where(Pair.dataset_id == dataset_id)
        )
        or 0
    )


def _reserved(session: Session, dataset_id: int, labels: int, config: QueueConfig) -> int:
    """:func:`reserved_slots` of a queue needing ``labels`` answers, with the dataset's gold
    pairs and the reviewers who started on it."""
    gold_pairs = _gold_pairs(session, dataset_id)
    reviewers = _reviewers_started(session, dataset_id)
    return reserved_slots(labels, gold_pairs, config, reviewers=reviewers)


def gold_slots(session: Session, dataset_id: int, config: QueueConfig, now: datetime) -> GoldSlots:
    """The dataset's reserved check slots (its queue as last built) and their use at ``now``."""
    q = ReviewQueueItem
    rows = session.execute(
        select(q.queue, q.required_labels).where(q.dataset_id == dataset_id).order_by(q.rank, q.id)
    ).all()
    labels = sum(int(k) for _, k in rows)
    total = _reserved(session, dataset_id, labels, config)
    schedule = slot_schedule([queue for queue, _ in rows], planned_slots(labels, config), total)
    done, live = gold_use(session, dataset_id, now)
    return GoldSlots(tuple(schedule), done, live)


def free_slots(session: Session, dataset_id: int, config: QueueConfig, now: datetime) -> int:
    """``gold_slots(...).free`` without reading the queue: the schedule's length is G (or 0
    for an empty queue), and the build recorded the queue's size and Σ k
    (``review_queue_states``); falls back to :func:`gold_slots` for a queue never built."""
    state = session.get(ReviewQueueState, dataset_id, populate_existing=True)
    if state is None:
        return gold_slots(session, dataset_id, config, now).free
    if state.items == 0 or planned_slots(state.labels_needed, config) == 0:
        return 0
    total = _reserved(session, dataset_id, state.labels_needed, config)
    done, live = gold_use(session, dataset_id, now)
    return max(0, total - done - live)


def gold_use(session: Session, dataset_id: int, now: datetime) -> tuple[int, int]:
    """(answered, live) hidden checks (gold queue assignments) of the dataset at ``now``."""
    a = ReviewAssignment
    live = and_(a.completed_at.is_(None), a.lease_expires_at > now)
    done, leased = session.execute(
        select(
            func.coalesce(func.sum(case((a.completed_at.is_not(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((live, 1), else_=0)), 0),
        )
        .select_from(a)
        .join(Pair, Pair.id == a.pair_id)
        .where(a.queue == GOLD_QUEUE, Pair.dataset_id == dataset_id)
    ).one()
    return int(done), int(leased)


def real_item_pending(session: Session, dataset_id: int, now: datetime) -> bool:
    """True while some real queue item of the dataset has a slot nobody answered or holds."""
    a = ReviewAssignment
    q = ReviewQueueItem
    taken = (
        select(func.count())
        .select_from(a)
        .where(
            a.pair_id == q.pair_id,
            a.queue == q.queue,
            or_(a.completed_at.is_not(None), a.lease_expires_at > now),
        )
        .scalar_subquery()
    )
    found = session.scalar(
        select(q.id)
        .where(q.dataset_id == dataset_id, q.full == false(), taken < q.required_labels)
        .limit(1)
    )
    return found is not None


def check_kind(
    reviewer_id: int, dataset_id: int, served: int, config: QueueConfig, *, tail: bool
) -> str | None:
    """``"trap"``, ``"gold"`` or None: what the reviewer's ``served``-th item should be.

    At the reviewer's trap or gold positions, a check; with ``tail`` (no real item is pending
    and the reviewer has none left), a check whenever checks are on (a trap in the traps'
    share of checks)."""
    if is_trap_slot(reviewer_id, dataset_id, served, config):
        return "trap"
    if is_gold_slot(reviewer_id, dataset_id, served, config.gold_rate):
        return "gold"
    if not tail or check_share(config) <= 0:
        return None
    trap = config.trap_rate if config.reveal_ai_label else 0.0
    gold = 1.0 / max(1, round(1.0 / config.gold_rate)) if config.gold_rate > 0 else 0.0
    digest = hashlib.sha256(f"tail:{reviewer_id}:{dataset_id}:{served}".encode()).digest()
    draw = int.from_bytes(digest[:8], "big") / 2**64
    return "trap" if draw * (trap + gold) < trap else "gold"


def claim_gold_slot(session: Session, dataset_id: int, config: QueueConfig, now: datetime) -> bool:
    """True when a reserved check slot is free for a new check (the dataset's row is locked
    first, so two reviewers cannot both take the last free slot)."""
    session.execute(
        update(Dataset)
        .where(Dataset.id == dataset_id)
        .values(name=Dataset.name)
        .execution_options(synchronize_session=False)
    )
    return free_slots(session, dataset_id, config, now) > 0


__all__ = [
    "GoldSlots",
    "check_kind",
    "check_share",
    "claim_gold_slot",
    "free_slots",
    "gold_slots",
    "gold_use",
    "is_gold_slot",
    "planned_slots",
    "real_item_pending",
    "reserved_slots",
    "slot_schedule",
]
