"""Review queue service: ordering, leases, k reviewers, no repeats, gold checks, submissions."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, func, select

from referee.db.engine import transaction
from referee.db.models import AuditEntry, HumanLabel, ReviewQueueItem, RoutingDecision
from referee.review import (
    AuthenticationFailed,
    InvalidSubmission,
    LabelSubmission,
    LeaseConflict,
    NotFound,
    NotLeased,
    QueueConfig,
    authenticate,
    lease_next,
    queue_stats,
    release_item,
    set_reviewer_active,
    submit_label,
)
from referee.review.priority import item_text, priority_order, uncertainty_of
from referee.review.queue_build import ensure_queue

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def lease(engine, ds, reviewer, config, embedder, now=T0):  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        return lease_next(s, ds, reviewer, config, now=now, embedder=embedder)


def submit(engine, pair_id, reviewer, label="A", now=T0, **kw):  # type: ignore[no-untyped-def]
    with transaction(engine) as s:
        return submit_label(s, pair_id, reviewer, LabelSubmission(label, **kw), now=now)


def test_items_come_in_hybrid_priority_order(sqlite_engine: Engine, embedder, config) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=8, n_spot=3)
    with transaction(sqlite_engine) as s:
        ensure_queue(s, routed.dataset_id, config, embedder=embedder)
        ranked = list(s.scalars(select(ReviewQueueItem).order_by(ReviewQueueItem.rank)))
        rows = s.execute(
            select(RoutingDecision.pair_id, RoutingDecision.confidence).order_by(
                RoutingDecision.pair_id
            )
        ).all()
        from referee.db.models import Pair

        pairs = {p.id: p for p in s.scalars(select(Pair))}
    ids = [pid for pid, _ in rows]
    texts = [item_text(pairs[p].prompt, pairs[p].response_a, pairs[p].response_b) for p in ids]
    expected = priority_order(
        texts, [uncertainty_of(c) for _, c in rows], embedder=embedder, weight=config.weight
    )
    assert [r.pair_id for r in ranked] == [ids[i] for i in expected]
    # The first item is the most uncertain one.
    most_uncertain = min(routed.confidence, key=lambda p: routed.confidence[p])
    assert ranked[0].pair_id == most_uncertain
    assert Counter(r.queue for r in ranked) == {"review": 8, "spot_check": 3}

    reviewer, _ = make_reviewer(sqlite_engine, "ann")
    served = []
    for _ in range(3):
        got = lease(sqlite_engine, routed.name, reviewer, config, embedder)
        served.append(got.item.pair_id)
        submit(sqlite_engine, got.item.pair_id, reviewer)
    assert served == [r.pair_id for r in ranked[:3]]


def test_lease_expires_and_item_returns(engine: Engine, embedder, config) -> None:
    routed = make_routed_dataset(engine, n_review=1)
    r1, _ = make_reviewer(engine, "r1")
    r2, _ = make_reviewer(engine, "r2")
    first = lease(engine, routed.name, r1, config, embedder)
    assert first is not None and first.item.pair_id == routed.review[0]
    assert lease(engine, routed.name, r2, config, embedder, T0 + timedelta(seconds=60)) is None
    # Re-asking while holding the lease resumes it rather than leasing another.
    again = lease(engine, routed.name, r1, config, embedder, T0 + timedelta(seconds=60))
    assert again is not None and again.assignment_id == first.assignment_id

    later = T0 + timedelta(seconds=config.lease_seconds + 1)
    second = lease(engine, routed.name, r2, config, embedder, later)
    assert second is not None and second.item.pair_id == routed.review[0]
    with pytest.raises(LeaseConflict, match="expired"):
        submit(engine, routed.review[0], r1, now=later)
    # r1 never gets the item back, even once r2's lease runs out too.
    much_later = later + timedelta(seconds=2 * config.lease_seconds)
    assert lease(engine, routed.name, r1, config, embedder, much_later) is None
    submit(engine, routed.review[0], r2, now=later + timedelta(seconds=5))
    with transaction(engine) as s:
        labels = list(s.scalars(select(HumanLabel)))
    assert [(h.annotator, h.label, h.kind, h.policy_version) for h in labels] == [
        ("r2", "A", "review", 1)
    ]
    assert labels[0].duration_s == pytest.approx(5.0)


def test_k_reviewers_per_item(engine: Engine, embedder) -> None:
    config = QueueConfig(review_k=2, gold_rate=0.0)
    routed = make_routed_dataset(engine, n_review=1)
    rs = [make_reviewer(engine, f"r{i}")[0] for i in range(3)]
    a = lease(engine, routed.name, rs[0], config, embedder)
    b = lease(engine, routed.name, rs[1], config, embedder)
    assert a is not None and b is not None and a.item.pair_id == b.item.pair_id
    assert lease(engine, routed.name, rs[2], config, embedder) is None
    submit(engine, a.item.pair_id, rs[0], "A")
    with transaction(engine) as s:
        mid = queue_stats(s, routed.name, now=T0).queues["review"]
    assert (mid.pending, mid.leased, mid.done) == (0, 1, 0)
    submit(engine, b.item.pair_id, rs[1], "B")
    with transaction(engine) as s:
        end = queue_stats(s, routed.name, rs[0], now=T0)
    assert (end.queues["review"].done, end.labeled, end.leased) == (1, 1, 0)
    assert lease(engine, routed.name, rs[2], config, embedder) is None


def test_no_repeats_and_queue_drains(sqlite_engine: Engine, embedder, config) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=7, n_spot=3)
    r, _ = make_reviewer(sqlite_engine, "solo")
    seen: list[str] = []
    skip = {routed.review[2]}
    while (got := lease(sqlite_engine, routed.name, r, config, embedder)) is not None:
        seen.append(got.item.pair_id)
        if got.item.pair_id in skip:
            with transaction(sqlite_engine) as s:
                release_item(s, got.item.pair_id, r, now=T0)
        else:
            submit(sqlite_engine, got.item.pair_id, r)
    assert sorted(seen) == sorted(routed.review + routed.spot)
    with transaction(sqlite_engine) as s:
        kinds = Counter(s.scalars(select(HumanLabel.kind)))
        stats = queue_stats(s, routed.name, now=T0)
    assert kinds == {"review": 6, "spot_check": 3}
    assert stats.queues["review"].done == 6 and stats.queues["review"].pending == 1
    # A second reviewer still gets the skipped item.
    other, _ = make_reviewer(sqlite_engine, "other")
    got = lease(sqlite_engine, routed.name, other, QueueConfig(review_k=1, gold_rate=0), embedder)
    assert got is not None and got.item.pair_id == routed.review[2]


def test_gold_checks_interleaved_at_rate_and_hidden(sqlite_engine: Engine, embedder) -> None:
    config = QueueConfig(gold_rate=0.1)
    routed = make_routed_dataset(sqlite_engine, n_review=60, n_gold=20)
    r, _ = make_reviewer(sqlite_engine, "ann")
    queues: list[str] = []
    while (got := lease(sqlite_engine, routed.name, r, config, embedder)) is not None:
        queues.append(got.queue)
        doc = got.item.to_json()
        assert set(doc) == {"pair_id", "prompt", "response_a", "response_b", "lease_expires_at"}
        assert got.item.ai_label is None
        submit(sqlite_engine, got.item.pair_id, r, "B")
    assert queues.count("review") == 60
    full_blocks = [queues[i : i + 10] for i in range(0, len(queues) - len(queues) % 10, 10)]
    assert len(full_blocks) >= 6
    assert all(block.count("gold") == 1 for block in full_blocks)
    positions = {block.index("gold") for block in full_blocks}
    assert len(positions) > 1, "gold checks must not sit at a fixed position"
    with transaction(sqlite_engine) as s:
        checks = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "review.label")))
        gold_kinds = set(
            s.scalars(select(HumanLabel.kind).where(HumanLabel.pair_id.in_(routed.gold)))
        )
    assert sum(1 for c in checks if c.detail["gold_check"]) == queues.count("gold")
    assert gold_kinds <= {"gold", "review"}


def test_ai_label_hidden_unless_revealed(sqlite_engine: Engine, embedder) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=2, ai_label="A")
    r1, _ = make_reviewer(sqlite_engine, "r1")
    r2, _ = make_reviewer(sqlite_engine, "r2")
    hidden = lease(sqlite_engine, routed.name, r1, QueueConfig(gold_rate=0), embedder)
    assert hidden is not None and "ai_label" not in hidden.item.to_json()
    shown = lease(
        sqlite_engine,
        routed.name,
        r2,
        QueueConfig(gold_rate=0, reveal_ai_label=True, reveal_share=1.0),
        embedder,
    )
    assert shown is not None and shown.item.to_json()["ai_label"] == "A"


def test_submission_rules_and_audit(sqlite_engine: Engine, embedder, config) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=3)
    r1, _ = make_reviewer(sqlite_engine, "r1")
    r2, _ = make_reviewer(sqlite_engine, "r2")
    got = lease(sqlite_engine, routed.name, r1, config, embedder)
    assert got is not None
    pid = got.item.pair_id
    with pytest.raises(InvalidSubmission, match="reason is required"):
        submit(sqlite_engine, pid, r1, "both_bad", reason="  ")
    with pytest.raises(InvalidSubmission, match="label must be one of"):
        submit(sqlite_engine, pid, r1, "C")
    with pytest.raises(NotLeased):
        submit(sqlite_engine, pid, r2, "A")
    not_mine = next(p for p in routed.review if p != pid)
    with pytest.raises(NotLeased):
        submit(sqlite_engine, not_mine, r1, "A")
    submit(sqlite_engine, pid, r1, "both_bad", reason="both ignore the question", rationale="x")
    with pytest.raises(LeaseConflict, match="already labeled"):
        submit(sqlite_engine, pid, r1, "A")
    with transaction(sqlite_engine) as s:
        label = s.scalar(select(HumanLabel).where(HumanLabel.pair_id == pid))
        audits = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "review.label")))
        n_labels = s.scalar(select(func.count()).select_from(HumanLabel))
    assert label is not None and (label.label, label.reason) == (
        "both_bad",
        "both ignore the question",
    )
    assert n_labels == 1
    assert len(audits) == 1
    assert audits[0].actor == "r1" and audits[0].entity_id == pid
    assert audits[0].detail["label"] == "both_bad" and audits[0].detail["gold_check"] is False


def test_rerouting_rebuilds_queue(sqlite_engine: Engine, embedder, config) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=4)
    with transaction(sqlite_engine) as s:
        assert ensure_queue(s, routed.dataset_id, config, embedder=embedder) is True
        assert ensure_queue(s, routed.dataset_id, config, embedder=embedder) is False
        old = s.scalar(select(RoutingDecision).where(RoutingDecision.pair_id == routed.review[0]))
        assert old is not None
        old.current = False
        s.add(
            RoutingDecision(
                pair_id=routed.review[0],
                policy_id=None,
                decision="auto_accept",
                label="A",
                source="ai",
                reasons=[],
                confidence=0.99,
            )
        )
        s.flush()
        assert ensure_queue(s, routed.dataset_id, config, embedder=embedder) is True
        remaining = set(s.scalars(select(ReviewQueueItem.pair_id)))
    assert remaining == set(routed.review[1:])


def test_in_place_rerouting_is_noticed(sqlite_engine: Engine, embedder, config) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=3)
    with transaction(sqlite_engine) as s:
        ensure_queue(s, routed.dataset_id, config, embedder=embedder)
        dec = s.scalar(select(RoutingDecision).where(RoutingDecision.pair_id == routed.review[1]))
        assert dec is not None
        dec.decision, dec.label = "auto_accept", "A"
        s.flush()
        assert ensure_queue(s, routed.dataset_id, config, embedder=embedder) is True
        assert routed.review[1] not in set(s.scalars(select(ReviewQueueItem.pair_id)))


def test_a_deactivated_reviewer_is_refused_and_their_items_go_to_others(
    sqlite_engine: Engine, embedder, config
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    ann, ann_token = make_reviewer(sqlite_engine, "ann")
    bob, _ = make_reviewer(sqlite_engine, "bob")
    held = lease(sqlite_engine, routed.name, ann, config, embedder)
    assert held is not None
    # one item, one label needed (k=1): while ann holds it, bob gets nothing
    assert lease(sqlite_engine, routed.name, bob, config, embedder) is None
    with transaction(sqlite_engine) as s:
        assert set_reviewer_active(s, "ann", False, now=T0) == 1
    with transaction(sqlite_engine) as s, pytest.raises(AuthenticationFailed):
        authenticate(s, ann_token)
    given_back = lease(sqlite_engine, routed.name, bob, config, embedder)
    assert given_back is not None and given_back.item.pair_id == held.item.pair_id
    with transaction(sqlite_engine) as s:
        assert set_reviewer_active(s, "ann", True, now=T0) == 0
        assert authenticate(s, ann_token).name == "ann"
        actions = list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == "reviewer")
                .order_by(AuditEntry.id)
            )
        )
        with pytest.raises(NotFound):
            set_reviewer_active(s, "nobody", False)
    assert actions[-2:] == ["reviewer.deactivate", "reviewer.activate"]
