"""Have the review queues ready before the first reviewer asks: the server's start-up work.

A queue is (re)built on the first lease after routing changed, and building it embeds every
queued pair (MiniLM loads its model first: seconds). Left to the first ``/v1/next``, that cost
lands on a reviewer. :func:`warm_queues` pays it at server start instead: every dataset whose
queue is stale is rebuilt, with the same queue settings and embedder the server will use, before
the server accepts connections, and :func:`rehearse_lease` walks a first request's path once
(rolled back). :func:`preload_embedder` loads the model in a background thread
when no rebuild needed it, so a later re-routing does not pay the model load on a request either.
"""

from __future__ import annotations

import gc
import threading
import time
import uuid
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from referee.db.engine import session_factory, transaction
from referee.db.models import Dataset, Reviewer, ReviewQueueItem
from referee.review.config import QueueConfig
from referee.review.priority import Embedder
from referee.review.progress import reviewer_progress
from referee.review.queue_build import ensure_queue
from referee.review.service import lease_next
from referee.review.tokens import hash_token


@dataclass(frozen=True)
class Warmup:
    """What :func:`warm_queues` did: datasets whose queue it rebuilt, and how long it took."""

    rebuilt: list[str] = field(default_factory=list)
    seconds: float = 0.0


def warm_queues(engine: Engine, config: QueueConfig, embedder: Embedder | None = None) -> Warmup:
    """Rebuild every stale review queue now (one transaction per dataset)."""
    started = time.perf_counter()
    with transaction(engine) as session:
        datasets = session.execute(select(Dataset.id, Dataset.name).order_by(Dataset.id)).all()
    rebuilt = []
    for dataset_id, name in datasets:
        with transaction(engine) as session:
            if ensure_queue(session, dataset_id, config, embedder=embedder):
                rebuilt.append(name)
    return Warmup(rebuilt, time.perf_counter() - started)


def rehearse_lease(engine: Engine, config: QueueConfig, embedder: Embedder | None = None) -> bool:
    """Walk the path of a reviewer's first request once, then roll it all back.

    A throwaway reviewer leases an item of the first dataset with a queue and reads their
    progress, inside one transaction that is rolled back: nothing is stored, but the SQL of
    the lease path is compiled and cached and its code paths are warm, so the first real
    ``/v1/next`` costs what every later one does. True when an item was leased.
    """
    factory = session_factory(engine)
    with factory() as session:
        session.begin()
        try:
            dataset_id = session.scalar(
                select(ReviewQueueItem.dataset_id).order_by(ReviewQueueItem.dataset_id).limit(1)
            )
            if dataset_id is None:
                return False
            dataset = session.get_one(Dataset, dataset_id)
            ghost = Reviewer(
                name=f"warm-up-{uuid.uuid4().hex}",
                token_hash=hash_token(uuid.uuid4().hex),
                active=True,
            )
            session.add(ghost)
            session.flush()
            lease = lease_next(session, dataset, ghost, config, embedder=embedder)
            reviewer_progress(session, dataset.name, ghost)
            return lease is not None
        finally:
            session.rollback()


def settle_heap() -> None:
    """Collect garbage once and move every object alive now out of the collector's sight.

    Loading the embedding model leaves millions of long-lived objects; without this, the first
    full collection (triggered by some later request's allocations) walks them all and stalls
    that request for hundreds of milliseconds. ``gc.freeze`` is meant for exactly this: call it
    once the start-up work is done.
    """
    gc.collect()
    gc.freeze()


def preload_embedder(embedder: Embedder) -> threading.Thread:
    """Embed one short text in a daemon thread, so a lazily loaded model is in memory."""

    def load() -> None:
        try:
            embedder.embed(["warm-up"])
        except Exception:  # a failed preload only means a slower first rebuild
            return

    thread = threading.Thread(target=load, name="referee-embedder-preload", daemon=True)
    thread.start()
    return thread


__all__ = ["Warmup", "preload_embedder", "rehearse_lease", "settle_heap", "warm_queues"]
