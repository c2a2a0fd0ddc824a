"""Review-queue generations: which writes change what a dataset's review queue holds.

A dataset's review queue (:mod:`referee.review.queue_build`) is built from its current
``human_review`` / ``spot_check`` routing decisions of pairs without a ``gold`` label. Every
write that can change that set bumps ``datasets.queue_generation`` by one, and the queue records
the generation it was built from (``review_queue_states``): checking that the queue is fresh is
one primary-key read per request, whatever the size of the dataset (issue 24).

What bumps the generation:

* ORM changes (``session.add``, attribute changes, ``session.delete``) of a routing decision, or
  of a human label of kind ``gold``: noticed by a ``before_flush`` hook on every session;
* bulk statements, which no hook sees, say what they touched with :func:`mark_datasets` or
  :func:`mark_pairs` or :func:`mark_policies` (``referee route``'s decision batches, label and
  pair imports).

The marks collect in ``session.info`` and become one ``UPDATE datasets SET queue_generation =
queue_generation + 1`` per touched dataset just before the transaction commits (so ``route``
does not hold the dataset's row lock while it runs), or earlier when :func:`apply_marks` is
called (the queue builder does, so a change made earlier in the same transaction is seen).
A rolled-back transaction drops its marks.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from referee.db.models import Dataset, HumanLabel, Pair, Policy, RoutingDecision

_PAIRS = "referee.queue_pairs"
_DATASETS = "referee.queue_datasets"
_POLICIES = "referee.queue_policies"
_KEYS = (_PAIRS, _DATASETS, _POLICIES)
_CHUNK = 500  # ids per IN (...) list, under SQLite's oldest bound-parameter limit


def mark_pairs(session: Session, pair_ids: Iterable[str]) -> None:
    """Note that the review queues of the datasets holding ``pair_ids`` changed."""
    session.info.setdefault(_PAIRS, set()).update(pair_ids)


def mark_datasets(session: Session, dataset_ids: Iterable[int]) -> None:
    """Note that the review queues of ``dataset_ids`` changed."""
    session.info.setdefault(_DATASETS, set()).update(dataset_ids)


def mark_policies(session: Session, policy_row_ids: Iterable[int]) -> None:
    """Note that the review queues of the datasets of these policy rows changed (decisions
    written under them)."""
    session.info.setdefault(_POLICIES, set()).update(policy_row_ids)


def _resolve(session: Session) -> set[int]:
    """The datasets marked so far (pair marks looked up), marks left in place."""
    datasets: set[int] = set(session.info.get(_DATASETS, ()))
    policies = sorted(session.info.get(_POLICIES, ()))
    if policies:
        with session.no_autoflush:
            found = session.scalars(select(Policy.dataset_id).where(Policy.id.in_(policies)))
            datasets.update(int(d) for d in found)
    pairs = sorted(session.info.get(_PAIRS, ()))
    for start in range(0, len(pairs), _CHUNK):
        part = pairs[start : start + _CHUNK]
        with session.no_autoflush:
            found = session.scalars(select(Pair.dataset_id).where(Pair.id.in_(part)).distinct())
            datasets.update(int(d) for d in found)
    return datasets


def apply_marks(session: Session) -> set[int]:
    """Bump the generation of every marked dataset now and clear the marks; returns them."""
    if not any(session.info.get(key) for key in _KEYS):
        return set()
    datasets = _resolve(session)
    for key in _KEYS:
        session.info.pop(key, None)
    for dataset_id in sorted(datasets):  # one order everywhere: no deadlock between bumpers
        session.execute(
            update(Dataset)
            .where(Dataset.id == dataset_id)
            .values(queue_generation=Dataset.queue_generation + 1)
            .execution_options(synchronize_session=False)
        )
    return datasets


def _queue_input(obj: Any) -> str | None:
    """The pair id of a routing decision or gold label object, else None."""
    if isinstance(obj, RoutingDecision):
        return obj.pair_id
    if isinstance(obj, HumanLabel) and obj.kind == "gold":
        return obj.pair_id
    return None


@event.listens_for(Session, "before_flush")
def _note_flushed_changes(session: Session, _context: Any, _instances: Any) -> None:
    dirty = (obj for obj in session.dirty if session.is_modified(obj))
    for group in (session.new, dirty, session.deleted):
        pairs = [p for p in map(_queue_input, group) if p is not None]
        if pairs:
            mark_pairs(session, pairs)


@event.listens_for(Session, "before_commit")
def _bump_before_commit(session: Session) -> None:
    session.flush()  # commit flushes after this hook: collect the last objects' marks now
    apply_marks(session)


@event.listens_for(Session, "after_rollback")
def _drop_marks(session: Session) -> None:
    for key in _KEYS:
        session.info.pop(key, None)


__all__ = ["apply_marks", "mark_datasets", "mark_pairs", "mark_policies"]
