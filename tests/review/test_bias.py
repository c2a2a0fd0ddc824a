"""Automation-bias controls: partial reveal, traps, and the per-reviewer report."""

from __future__ import annotations

import json

import pytest
import typer
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from referee.db.engine import transaction
from referee.db.models import ReviewAssignment, Reviewer
from referee.review.bias import ReviewerBias, bias_report, is_trap_slot, revealed, wrong_label
from referee.review.config import QueueConfig
from referee.review.service import LabelSubmission, lease_next, release_item, submit_label

REVEAL = QueueConfig(gold_rate=0.0, reveal_ai_label=True, trap_rate=0.0, pause_rule=None)


def serve_all(
    engine: Engine, name: str, reviewer: Reviewer, config: QueueConfig, embedder, answer
) -> list[dict[str, object]]:
    """Lease and answer every item; ``answer(item_json)`` gives the label. Returns the items."""
    items = []
    while True:
        with transaction(engine) as s:
            got = lease_next(s, name, reviewer, config, embedder=embedder)
            if got is None:
                return items
            doc = got.item.to_json()
        items.append(doc)
        with transaction(engine) as s:
            submit_label(s, doc["pair_id"], reviewer, LabelSubmission(answer(doc)), pause_rule=None)


def test_reveal_is_a_deterministic_share_per_reviewer_and_pair() -> None:
    pairs = [f"p{i}" for i in range(4000)]
    share = sum(revealed(7, p, 0.5) for p in pairs) / len(pairs)
    assert 0.47 < share < 0.53
    assert [revealed(7, p, 0.5) for p in pairs[:50]] == [revealed(7, p, 0.5) for p in pairs[:50]]
    assert [revealed(7, p, 0.5) for p in pairs[:50]] != [revealed(8, p, 0.5) for p in pairs[:50]]
    assert all(revealed(1, p, 1.0) for p in pairs[:50])
    assert not any(revealed(1, p, 0.0) for p in pairs[:50])


def test_about_half_the_items_show_the_ai_label_and_a_reload_shows_the_same(
    sqlite_engine: Engine, embedder
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=40, ai_label="A")
    ann, _ = make_reviewer(sqlite_engine, "ann")
    shown = []
    for _ in range(40):
        with transaction(sqlite_engine) as s:
            first = lease_next(s, routed.name, ann, REVEAL, embedder=embedder)
        with transaction(sqlite_engine) as s:  # a reload resumes the same lease
            again = lease_next(s, routed.name, ann, REVEAL, embedder=embedder)
        assert first is not None and again is not None
        assert first.item.to_json() == again.item.to_json()
        shown.append(first.item.ai_label)
        with transaction(sqlite_engine) as s:
            submit_label(s, first.item.pair_id, ann, LabelSubmission("A"), pause_rule=None)
    assert set(shown) == {"A", None}
    assert 10 <= shown.count("A") <= 30
    with transaction(sqlite_engine) as s:
        rows = s.execute(select(ReviewAssignment.ai_label, ReviewAssignment.ai_shown)).all()
    assert all(label == "A" for label, _ in rows)
    assert sum(shown is not None for _, shown in rows) == shown.count("A")


def test_traps_are_gold_pairs_with_a_wrong_pre_label_that_look_like_any_item(
    sqlite_engine: Engine, embedder
) -> None:
    routed = make_routed_dataset(
        sqlite_engine, n_review=0, n_spot=30, n_gold=30, gold_label="B", ai_label="B"
    )
    ann, _ = make_reviewer(sqlite_engine, "ann")
    config = QueueConfig(
        gold_rate=0.0, reveal_ai_label=True, reveal_share=1.0, trap_rate=0.3, pause_rule=None
    )
    items = serve_all(sqlite_engine, routed.name, ann, config, embedder, lambda doc: "B")
    traps = [d for d in items if d["pair_id"] in routed.gold]
    real = [d for d in items if d["pair_id"] not in routed.gold]
    assert len(traps) >= 4 and real
    assert {d["ai_label"] for d in traps} == {"A"}  # gold B shown as A: deliberately wrong
    assert {d["ai_label"] for d in real} == {"B"}
    assert {frozenset(d) for d in items} == {frozenset(items[0])}  # same fields everywhere
    with transaction(sqlite_engine) as s:
        flagged = s.scalars(select(ReviewAssignment).where(ReviewAssignment.trap.is_(True))).all()
        assert {a.pair_id for a in flagged} == {d["pair_id"] for d in traps}
        assert {a.queue for a in flagged} == {"gold"}  # scored as gold checks, never votes
        report = bias_report(s, routed.dataset_id)["ann"]
    assert report.traps == len(traps) and report.traps_caught == len(traps)
    assert report.trap_catch_rate == 1.0 and not report.flagged


def test_no_traps_and_no_reveal_unless_the_queue_reveals(sqlite_engine: Engine, embedder) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=10, n_gold=10, ai_label="A")
    ann, _ = make_reviewer(sqlite_engine, "ann")
    config = QueueConfig(gold_rate=0.0, trap_rate=0.9, pause_rule=None)
    assert not is_trap_slot(ann.id, routed.dataset_id, 0, config)
    items = serve_all(sqlite_engine, routed.name, ann, config, embedder, lambda doc: "A")
    assert items and all("ai_label" not in d for d in items)
    assert all(d["pair_id"] not in routed.gold for d in items)


def test_wrong_label_is_never_the_gold_label() -> None:
    for gold in ("A", "B", "tie", "both_bad"):
        for pid in ("x", "y", "z", "w"):
            assert wrong_label(gold, 1, pid) in ("A", "B") and wrong_label(gold, 1, pid) != gold


def test_report_separates_revealed_and_hidden_and_flags_a_copier(
    sqlite_engine: Engine, embedder
) -> None:
    """A copier takes the shown label and otherwise disagrees with the AI; a careful reviewer
    overrides the same share either way and rejects every trap."""
    routed = make_routed_dataset(
        sqlite_engine, n_review=0, n_spot=60, n_gold=20, gold_label="A", ai_label="A"
    )
    config = QueueConfig(gold_rate=0.0, reveal_ai_label=True, trap_rate=0.15, pause_rule=None)
    copier, _ = make_reviewer(sqlite_engine, "copier")
    careful, _ = make_reviewer(sqlite_engine, "careful")
    serve_all(
        sqlite_engine, routed.name, copier, config, embedder, lambda d: d.get("ai_label") or "B"
    )
    serve_all(sqlite_engine, routed.name, careful, config, embedder, lambda d: "A")
    with transaction(sqlite_engine) as s:
        report = bias_report(s, routed.dataset_id)
    c = report["copier"]
    assert c.revealed > 10 and c.hidden > 10
    assert c.override_revealed == 0.0 and c.override_hidden == 1.0
    assert c.traps >= 2 and c.traps_caught == 0
    assert c.flagged and len(c.reasons) == 2 and c.p_value is not None and c.p_value < 1e-3
    k = report["careful"]
    assert k.override_revealed == 0.0 and k.override_hidden == 0.0
    assert k.traps_caught == k.traps and not k.flagged
    doc = k.to_json()
    assert set(doc) >= {"override_rate_revealed", "override_rate_hidden", "trap_catch_rate"}


def test_released_items_do_not_count(sqlite_engine: Engine, embedder) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=3, ai_label="A")
    ann, _ = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        got = lease_next(s, routed.name, ann, REVEAL, embedder=embedder)
        assert got is not None
        release_item(s, got.item.pair_id, ann)
    with transaction(sqlite_engine) as s:
        assert bias_report(s, routed.dataset_id) == {}


def test_flag_needs_evidence() -> None:
    assert not ReviewerBias("r", 3, 0, 3, 1, 1, 0, 0.5).flagged  # one trap accepted, no test
    assert ReviewerBias("r", 3, 0, 3, 1, 2, 0, 0.5).flagged  # two traps accepted


@pytest.fixture
def cli() -> typer.Typer:
    from referee.cli import review_config

    app = typer.Typer()
    review_config.register(app)
    return app


def test_review_report_cli(cli: typer.Typer, sqlite_url: str, sqlite_engine: Engine, embedder):
    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=12, ai_label="A")
    ann, _ = make_reviewer(sqlite_engine, "ann")
    serve_all(sqlite_engine, routed.name, ann, REVEAL, embedder, lambda d: "B")
    env = {"REFEREE_DATABASE_URL": sqlite_url}
    result = CliRunner().invoke(cli, ["review-report", "--dataset", routed.name, "--json"], env=env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (row,) = doc["reviewers"]
    assert row["reviewer"] == "ann" and row["revealed"] + row["hidden"] == 12
    assert row["override_rate_revealed"] == 1.0 == row["override_rate_hidden"]
    table = CliRunner().invoke(cli, ["review-report", "--dataset", routed.name], env=env)
    assert table.exit_code == 0 and "override (shown)" in table.stdout
    missing = CliRunner().invoke(cli, ["review-report", "--dataset", "nope"], env=env)
    assert missing.exit_code == 2 and "nope" in missing.stderr


def test_a_hidden_gold_check_shows_its_ai_label_like_any_revealed_item(
    sqlite_engine: Engine, embedder
) -> None:
    """With every label revealed, an item without one would give a gold check away."""
    from referee.db.models import Policy, RoutingDecision

    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=6, n_gold=6, ai_label="A")
    with transaction(sqlite_engine) as s:  # gold pairs are routed like any other pair
        policy = s.scalars(select(Policy)).first()
        assert policy is not None
        for pid in routed.gold:
            s.add(
                RoutingDecision(
                    pair_id=pid, policy_id=policy.id, decision="auto_accept", label="A",
                    source="ai", reasons=[], confidence=0.97,
                )
            )  # fmt: skip
    ann, _ = make_reviewer(sqlite_engine, "ann")
    config = QueueConfig(
        gold_rate=0.5, reveal_ai_label=True, reveal_share=1.0, trap_rate=0.0, pause_rule=None
    )
    items = serve_all(sqlite_engine, routed.name, ann, config, embedder, lambda doc: "A")
    served_gold = [d for d in items if d["pair_id"] in routed.gold]
    assert served_gold, "no gold check was served"
    assert all(d.get("ai_label") == "A" for d in items), items


def test_annotators_shows_overrides_and_traps_and_flags_the_copier(
    sqlite_url: str, sqlite_engine: Engine, embedder
) -> None:
    from tests.helpers import run_cli

    routed = make_routed_dataset(
        sqlite_engine, n_review=0, n_spot=60, n_gold=20, gold_label="A", ai_label="A"
    )
    config = QueueConfig(gold_rate=0.0, reveal_ai_label=True, trap_rate=0.15, pause_rule=None)
    copier, _ = make_reviewer(sqlite_engine, "copier")
    serve_all(
        sqlite_engine, routed.name, copier, config, embedder, lambda d: d.get("ai_label") or "B"
    )
    doc = json.loads(run_cli(sqlite_url, "annotators", "--dataset", routed.name, "--json").stdout)
    (row,) = [r for r in doc["annotators"] if r["annotator"] == "copier"]
    bias = row["automation_bias"]
    assert bias["override_rate_revealed"] == 0.0 and bias["override_rate_hidden"] == 1.0
    assert bias["traps"] >= 2 and bias["traps_caught"] == 0 and bias["flagged"]
    table = run_cli(sqlite_url, "annotators", "--dataset", routed.name, env={"COLUMNS": "160"})
    assert table.exit_code == 0, table.output
    assert "overrides shown/hidden" in table.stdout and "flagged" in table.stdout
    assert "copier follows shown labels" in table.stdout
