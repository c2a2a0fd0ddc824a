"""Reserved gold-check slots (referee.review.gold_slots): sizes, schedule, and serving into them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from review_factory import Routed, make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import ReviewAssignment, Reviewer
from referee.review import LabelSubmission, QueueConfig, lease_next, queue_stats, submit_label
from referee.review.gold_slots import GoldSlots, check_share, reserved_slots, slot_schedule
from referee.review.priority import Embedder

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def test_reserved_slots_follow_the_check_share_and_the_gold_pairs() -> None:
    ten = QueueConfig(gold_rate=0.1)
    assert check_share(ten) == pytest.approx(0.1)
    assert reserved_slots(60, 20, ten) == 7  # 60 · 0.1 / 0.9 = 6.67
    assert reserved_slots(60, 5, ten) == 5  # never more than the gold pairs a lone reviewer sees
    assert reserved_slots(60, 5, ten, reviewers=2) == 7  # two can each see them once
    assert reserved_slots(60, 20, QueueConfig(gold_rate=0.0)) == 0
    assert reserved_slots(0, 20, ten) == 0
    traps = QueueConfig(gold_rate=0.0, reveal_ai_label=True, trap_rate=0.3)
    assert reserved_slots(30, 30, traps) == 13  # 30 · 0.3 / 0.7 = 12.86
    hidden_traps = QueueConfig(gold_rate=0.0, reveal_ai_label=False, trap_rate=0.3)
    assert reserved_slots(30, 30, hidden_traps) == 0  # traps are only planted when revealing


def test_schedule_follows_the_rank_order_of_the_real_items() -> None:
    ranked = ["review"] * 2 + ["spot_check"] * 6
    assert slot_schedule(ranked, 6, 6) == ["review"] * 2 + ["spot_check"] * 4
    assert slot_schedule(ranked, 6, 3) == ["review"] * 2 + ["spot_check"]  # a prefix
    assert slot_schedule(ranked, 2, 2) == ["review", "spot_check"]
    assert slot_schedule(ranked, 2, 5) == ["review", "spot_check"]  # never beyond the plan
    assert slot_schedule(["review"], 3, 3) == ["review"] * 3
    assert slot_schedule([], 4, 4) == []


def test_answered_checks_use_the_first_slots_and_live_ones_the_next() -> None:
    slots = GoldSlots(("review", "review", "spot_check"), done=1, live=1)
    assert slots.free == 1
    assert slots.per_queue() == {"review": (0, 1, 1), "spot_check": (1, 0, 0)}
    over = GoldSlots(("review",), done=3, live=0)  # the config changed after serving
    assert over.free == 0 and over.per_queue() == {"review": (0, 0, 3)}


def _drain(
    engine: Engine, routed: Routed, reviewers: list[Reviewer], config: QueueConfig, emb: Embedder
) -> list[tuple[str, int, dict[str, int]]]:
    """Reviewers take turns until none gets an item; answers are right (no pausing).

    Returns, per served item, its queue, the remaining pending (reviewer's view) and the
    queues' totals in that view."""
    trail: list[tuple[str, int, dict[str, int]]] = []
    active = list(reviewers)
    while active:
        for reviewer in list(active):
            with transaction(engine) as s:
                got = lease_next(s, routed.name, reviewer, config, now=T0, embedder=emb)
            if got is None:
                active.remove(reviewer)
                continue
            label = routed.gold.get(got.item.pair_id, "A")
            with transaction(engine) as s:
                submit_label(
                    s, got.item.pair_id, reviewer, LabelSubmission(label), now=T0, pause_rule=None
                )
                view = queue_stats(s, routed.name, reviewer, now=T0, config=config)
            pending = sum(c.pending for c in view.queues.values())
            trail.append((got.queue, pending, {q: c.total for q, c in view.queues.items()}))
    return trail


def test_a_lone_reviewer_is_shown_every_reserved_check_and_remaining_runs_to_zero(
    sqlite_engine: Engine, embedder: Embedder
) -> None:
    config = QueueConfig(gold_rate=0.25, pause_rule=None)  # G = round(8 · 0.25 / 0.75) = 3
    routed = make_routed_dataset(sqlite_engine, n_review=5, n_spot=3, n_gold=10)
    ann, _ = make_reviewer(sqlite_engine, "ann")
    trail = _drain(sqlite_engine, routed, [ann], config, embedder)
    queues = [queue for queue, _, _ in trail]
    assert queues.count("gold") == 3 and len(queues) == 11
    assert [pending for _, pending, _ in trail] == list(range(10, -1, -1))
    assert all(totals == trail[0][2] for _, _, totals in trail)  # totals never move
    assert sum(trail[0][2].values()) == 11  # 8 real items and 3 reserved checks
    with transaction(sqlite_engine) as s:
        operator = queue_stats(s, routed.name, now=T0)
    assert {q: c.total for q, c in operator.queues.items()} == {"review": 5, "spot_check": 3}


def test_checks_never_exceed_the_reservation_across_reviewers(
    sqlite_engine: Engine, embedder: Embedder
) -> None:
    """G₀ = 4 · 0.5 / 0.5 = 4 planned checks; 2 gold pairs per reviewer, three reviewers."""
    config = QueueConfig(gold_rate=0.5, pause_rule=None)
    routed = make_routed_dataset(sqlite_engine, n_review=4, n_gold=2)
    reviewers = [make_reviewer(sqlite_engine, name)[0] for name in ("ann", "bob", "cy")]
    trail = _drain(sqlite_engine, routed, reviewers, config, embedder)
    assert [queue for queue, _, _ in trail].count("gold") == 4
    assert trail[-1][1] == 0
    # the reservation grows only as reviewers start (a first lease), by gold pairs each
    assert [totals["review"] for _, _, totals in trail[:3]] == [6, 8, 8]
    assert all(totals == {"review": 8, "spot_check": 0} for *_, totals in trail[2:])


def test_a_reviewer_who_starts_last_is_still_checked(
    sqlite_engine: Engine, embedder: Embedder
) -> None:
    """The first reviewer to drain the queue does not use up the checks of the next one."""
    config = QueueConfig(gold_rate=0.25, review_k=2, pause_rule=None)
    routed = make_routed_dataset(sqlite_engine, n_review=6, n_spot=4, n_gold=4)
    ann, _ = make_reviewer(sqlite_engine, "ann")
    bob, _ = make_reviewer(sqlite_engine, "bob")
    first = _drain(sqlite_engine, routed, [ann], config, embedder)
    second = _drain(sqlite_engine, routed, [bob], config, embedder)
    assert [q for q, _, _ in first].count("gold") >= 2
    assert [q for q, _, _ in second].count("gold") >= 1
    assert first[-1][1] > 0 and second[-1][1] == 0  # bob's items were still pending for ann


def test_traps_fill_the_reserved_slots_when_pre_labels_are_revealed(
    sqlite_engine: Engine, embedder: Embedder
) -> None:
    config = QueueConfig(
        gold_rate=0.0, reveal_ai_label=True, reveal_share=1.0, trap_rate=0.3, pause_rule=None
    )
    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=10, n_gold=10)
    ann, _ = make_reviewer(sqlite_engine, "ann")
    trail = _drain(sqlite_engine, routed, [ann], config, embedder)
    assert trail[-1][1] == 0 and len(trail) == 14  # 10 items, round(10 · 0.3 / 0.7) = 4 traps
    with transaction(sqlite_engine) as s:
        checks = list(s.scalars(select(ReviewAssignment).where(ReviewAssignment.queue == "gold")))
    assert len(checks) == 4 and all(a.trap for a in checks)
