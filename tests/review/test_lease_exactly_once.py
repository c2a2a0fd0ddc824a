"""Exactly-once leasing under a crowd, and the state that keeps ``/v1/next`` cheap (issue 24).

Many reviewers lease at once on SQLite and PostgreSQL (``SELECT … FOR UPDATE SKIP LOCKED``
there), answering or skipping at random: no slot is ever held or answered by more reviewers
than k, every item ends with exactly k answers, and nobody sees a pair twice. Then the queue
generation (one row read instead of a scan) and the ``full`` flag (open items only).
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from datetime import datetime

import pytest
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.decisions import write_decision_batch
from referee.db.engine import transaction
from referee.db.models import (
    Dataset,
    HumanLabel,
    Policy,
    ReviewAssignment,
    Reviewer,
    ReviewQueueItem,
)
from referee.review import LabelSubmission, QueueConfig, lease_next, release_item, submit_label
from referee.review.queue_build import ensure_queue, queue_is_stale
from referee.review.undo import undo_label
from routing.decisions import RoutingDecision as Decision

REVIEWERS = 8
ITEMS = 18


def _step(engine: Engine, reviewer: Reviewer, name: str, config, embedder, skip: bool) -> bool:  # type: ignore[no-untyped-def]
    """Lease an item, then (in a second transaction, as over HTTP) answer or skip it."""
    with transaction(engine) as s:
        got = lease_next(s, name, reviewer, config, embedder=embedder)
    if got is None:
        return False
    with transaction(engine) as s:
        if skip:
            release_item(s, got.item.pair_id, reviewer)
        else:
            submit_label(s, got.item.pair_id, reviewer, LabelSubmission("A"))
    return True


def _work(engine: Engine, reviewer: Reviewer, name: str, config, embedder, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Lease until told "nothing left", skipping about one item in five."""
    draw = random.Random(seed)
    while _step(engine, reviewer, name, config, embedder, draw.random() < 0.2):
        pass


def _race(engine: Engine, name: str, config: QueueConfig, embedder) -> None:  # type: ignore[no-untyped-def]
    reviewers = [make_reviewer(engine, f"r{i:02d}")[0] for i in range(REVIEWERS)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(reviewers))

    def run(i: int) -> None:
        start.wait()
        try:
            _work(engine, reviewers[i], name, config, embedder, seed=i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(reviewers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=240)
    assert not any(t.is_alive() for t in threads), "a reviewer thread hung"
    assert not errors, errors
    # a reviewer may have stopped while a skipped item was still leased to someone else:
    # one after the other, everyone takes what is left until nobody gets anything
    while any([_step(engine, r, name, config, embedder, False) for r in reviewers]):
        pass


def _held_at_once(rows: list[tuple[datetime, datetime]]) -> int:
    """Most intervals [start, end) covering one instant."""
    events = sorted([(a, 1) for a, _ in rows] + [(b, -1) for _, b in rows])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


@pytest.mark.parametrize("k", [1, 2])
def test_a_crowd_of_reviewers_never_shares_a_slot(engine: Engine, embedder, k: int) -> None:
    config = QueueConfig(gold_rate=0.0, review_k=k, spot_check_k=k)
    routed = make_routed_dataset(engine, n_review=ITEMS - 4, n_spot=4)
    _race(engine, routed.name, config, embedder)  # the first leases build the queue, racing
    with transaction(engine) as s:
        rows = s.execute(
            select(
                ReviewAssignment.pair_id,
                ReviewAssignment.reviewer_id,
                ReviewAssignment.leased_at,
                ReviewAssignment.lease_expires_at,
                ReviewAssignment.completed_at,
            )
        ).all()
        answers = s.execute(select(HumanLabel.pair_id, HumanLabel.annotator)).all()
        full = set(s.scalars(select(ReviewQueueItem.pair_id).where(ReviewQueueItem.full)))
    spans: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for pair_id, _, leased, expires, completed in rows:
        spans[pair_id].append((leased, completed or expires))
    assert len({(p, r) for p, r, *_ in rows}) == len(rows)  # nobody sees a pair twice
    assert {p: _held_at_once(v) <= k for p, v in spans.items()} == dict.fromkeys(spans, True)
    per_pair: dict[str, set[str]] = defaultdict(set)
    for pair_id, annotator in answers:
        per_pair[pair_id].add(annotator)
    seen: dict[str, int] = defaultdict(int)
    for pair_id, *_ in rows:
        seen[pair_id] += 1
    items = routed.review + routed.spot
    assert len(answers) == sum(len(a) for a in per_pair.values())  # one answer per person
    # k answers each, unless skips left too few reviewers who had not seen the item
    short = {p for p in items if len(per_pair[p]) != k}
    assert all(len(per_pair[p]) < k and seen[p] == REVIEWERS for p in short), short
    assert full == set(items) - short


def _decision(pair_id: str, kind: str) -> Decision:
    label = None if kind == "human_review" else "A"
    return Decision(pair_id, kind, label, "human" if label is None else "ai", (), 0.5, None)


def test_route_and_gold_bump_the_queue_generation_and_answers_do_not(
    engine: Engine, embedder, config
) -> None:
    routed = make_routed_dataset(engine, n_review=3, n_auto=1)
    ann = make_reviewer(engine, "ann")[0]
    with transaction(engine) as s:
        assert ensure_queue(s, routed.dataset_id, config, embedder=embedder) is True
    with transaction(engine) as s:
        assert not queue_is_stale(s, routed.dataset_id)
        generation = s.get_one(Dataset, routed.dataset_id).queue_generation
        got = lease_next(s, routed.name, ann, config, embedder=embedder)
        assert got is not None
        submit_label(s, got.item.pair_id, ann, LabelSubmission("A"))
    with transaction(engine) as s:  # an answer changes no queue: no rebuild
        assert s.get_one(Dataset, routed.dataset_id).queue_generation == generation
        assert not queue_is_stale(s, routed.dataset_id)
        policy = s.scalars(select(Policy).where(Policy.dataset_id == routed.dataset_id)).one()
        write_decision_batch(s, policy.id, [_decision(routed.auto[0], "human_review")])
    with transaction(engine) as s:  # a bulk route write (no ORM objects) is seen
        assert s.get_one(Dataset, routed.dataset_id).queue_generation == generation + 1
        assert ensure_queue(s, routed.dataset_id, config, embedder=embedder) is True
        queued = set(s.scalars(select(ReviewQueueItem.pair_id)))
        s.add(HumanLabel(pair_id=routed.review[2], annotator="x", label="B", kind="gold"))
    assert queued == {*routed.review, routed.auto[0]}
    with transaction(engine) as s:  # a gold label takes its pair out at the next lease
        assert queue_is_stale(s, routed.dataset_id)
        assert ensure_queue(s, routed.dataset_id, config, embedder=embedder) is True
        assert routed.review[2] not in set(s.scalars(select(ReviewQueueItem.pair_id)))
        done = set(s.scalars(select(ReviewQueueItem.pair_id).where(ReviewQueueItem.full)))
    assert done == {got.item.pair_id}  # an answer given before the rebuild still counts


def test_full_follows_answers_and_undo(engine: Engine, embedder) -> None:
    config = QueueConfig(gold_rate=0.0, review_k=2)
    routed = make_routed_dataset(engine, n_review=1)
    ann, bob, cy = (make_reviewer(engine, n)[0] for n in ("ann", "bob", "cy"))
    pid = routed.review[0]

    def full() -> bool:
        with transaction(engine) as s:
            return bool(
                s.scalar(select(ReviewQueueItem.full).where(ReviewQueueItem.pair_id == pid))
            )

    for who in (ann, bob):
        assert not full()
        with transaction(engine) as s:
            got = lease_next(s, routed.name, who, config, embedder=embedder)
            assert got is not None and got.item.pair_id == pid
            submit_label(s, pid, who, LabelSubmission("B"))
    assert full()
    with transaction(engine) as s:
        undo_label(s, pid, bob, config)
    assert not full()
    with transaction(engine) as s:  # bob still holds the lease: nobody else gets the item
        assert lease_next(s, routed.name, cy, config, embedder=embedder) is None
        submit_label(s, pid, bob, LabelSubmission("A"))
    assert full()
