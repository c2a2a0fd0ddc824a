"""Server start-up work: stale review queues are built before the first request."""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import Reviewer
from referee.review.config import QueueConfig
from referee.review.queue_build import queue_is_stale
from referee.review.service import lease_next
from referee.review.warmup import preload_embedder, rehearse_lease, settle_heap, warm_queues
from tests.helpers import snapshot


class CountingEmbedder:
    """One-hot embeddings that count the texts they were asked to embed."""

    name = "test-counting"

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        self.calls.append(len(texts))
        return np.eye(len(texts), dtype=np.float32)


def test_warm_queues_builds_stale_queues_so_the_first_lease_embeds_nothing(
    sqlite_engine: Engine,
) -> None:
    one = make_routed_dataset(sqlite_engine, "one", n_review=4)
    two = make_routed_dataset(sqlite_engine, "two", n_review=3, n_spot=2)
    make_routed_dataset(sqlite_engine, "none", n_review=0, n_auto=3)
    make_reviewer(sqlite_engine, "ann")
    embedder = CountingEmbedder()
    config = QueueConfig(gold_rate=0.0)

    warm = warm_queues(sqlite_engine, config, embedder)
    assert warm.rebuilt == ["one", "two"]
    assert sorted(embedder.calls) == [4, 5]
    with transaction(sqlite_engine) as s:
        assert not queue_is_stale(s, one.dataset_id) and not queue_is_stale(s, two.dataset_id)
        ann = s.scalars(select(Reviewer).where(Reviewer.name == "ann")).one()
        lease = lease_next(s, "one", ann, config, embedder=embedder)
        assert lease is not None and lease.item.pair_id in one.review
    assert sorted(embedder.calls) == [4, 5]  # the lease used the ranks built at start-up
    assert warm_queues(sqlite_engine, config, embedder).rebuilt == []  # nothing stale now


def test_preload_embedder_runs_in_the_background_and_survives_failure() -> None:
    embedder = CountingEmbedder()
    preload_embedder(embedder).join(timeout=5)
    assert embedder.calls == [1]

    class Broken:
        name = "broken"

        def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
            raise OSError("no model here")

    started = time.monotonic()
    thread = preload_embedder(Broken())
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - started < 5


def test_rehearse_lease_leaves_no_trace(sqlite_engine: Engine) -> None:
    config = QueueConfig(gold_rate=0.0)
    embedder = CountingEmbedder()
    assert rehearse_lease(sqlite_engine, config, embedder) is False  # no queue anywhere yet
    make_routed_dataset(sqlite_engine, "one", n_review=3)
    warm_queues(sqlite_engine, config, embedder)
    before = snapshot(sqlite_engine)
    assert rehearse_lease(sqlite_engine, config, embedder) is True
    assert snapshot(sqlite_engine) == before


def test_settle_heap_freezes_what_is_alive() -> None:
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
