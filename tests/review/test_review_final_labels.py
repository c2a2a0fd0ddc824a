"""Final labels with provenance, gold-check quality, the simulated reviewer, the alarm."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.review import (
    LabelSubmission,
    QueueConfig,
    annotator_quality,
    answer_queue_from_gold,
    final_labels,
    lease_next,
    spot_check_alarm,
    spot_check_report,
    submit_label,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def label_all(engine, routed, reviewer, answers, config, embedder, now=T0):  # type: ignore[no-untyped-def]
    """Lease until empty; answer from ``answers`` (pair -> label), default 'A'."""
    while True:
        with transaction(engine) as s:
            got = lease_next(s, routed.name, reviewer, config, now=now, embedder=embedder)
            if got is None:
                return
            answer = answers.get(got.item.pair_id, "A")
            reason = "both wrong" if answer == "both_bad" else None
            submission = LabelSubmission(answer, reason=reason)
            rule = config.pause_rule
            submit_label(s, got.item.pair_id, reviewer, submission, now=now, pause_rule=rule)
        now += timedelta(seconds=1)


def test_majority_with_provenance(engine: Engine, embedder) -> None:
    config = QueueConfig(review_k=3, gold_rate=0.0)
    routed = make_routed_dataset(engine, n_review=2, n_auto=2, n_gold=1)
    p0, p1 = routed.review
    votes = {"r1": {p0: "A", p1: "B"}, "r2": {p0: "A", p1: "tie"}, "r3": {p0: "B"}}
    for name, answers in votes.items():
        r, _ = make_reviewer(engine, name)
        label_all(engine, routed, r, answers, config, embedder)
    with transaction(engine) as s:
        finals = {f.pair_id: f for f in final_labels(s, routed.dataset_id, method="majority")}
    # every pair is listed; the gold pair has no decision but its gold label is final
    assert set(finals) == set(routed.review + routed.auto) | set(routed.gold)
    (gold_pair,) = routed.gold
    assert (finals[gold_pair].label, finals[gold_pair].source) == ("B", "gold")
    assert finals[gold_pair].decision is None
    first = finals[p0]
    assert (first.label, first.source, first.method) == ("A", "human", "majority")
    assert [v.annotator for v in first.votes] == ["r1", "r2", "r3"]
    assert {v.policy_version for v in first.votes} == {1}
    assert first.policy_version == 1 and first.decided_at is not None
    # p1: B / tie / A(default) -> three-way tie, nobody has gold-check accuracy: unresolved.
    assert (finals[p1].label, finals[p1].method) == (None, "unresolved")
    for pid in routed.auto:
        assert (finals[pid].label, finals[pid].source, finals[pid].method) == ("A", "ai", "ai")
    doc = first.to_json()
    assert doc["votes"][0]["annotator"] == "r1" and doc["votes"][0]["policy_version"] == 1


def test_pending_until_k_labels(sqlite_engine: Engine, embedder) -> None:
    config = QueueConfig(review_k=2, gold_rate=0.0)
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    r, _ = make_reviewer(sqlite_engine, "r1")
    label_all(sqlite_engine, routed, r, {}, config, embedder)
    with transaction(sqlite_engine) as s:
        (only,) = final_labels(s, routed.dataset_id)
    assert (only.label, only.method, len(only.votes)) == (None, "pending", 1)


def test_dawid_skene_used_with_several_reviewers(sqlite_engine: Engine, embedder) -> None:
    config = QueueConfig(review_k=3, gold_rate=0.0)
    routed = make_routed_dataset(sqlite_engine, n_review=4)
    truth = dict(zip(routed.review, ["A", "B", "A", "B"], strict=True))
    flipped = {p: ("B" if lab == "A" else "A") for p, lab in truth.items()}
    for name, answers in (("good1", truth), ("good2", truth), ("contrarian", flipped)):
        r, _ = make_reviewer(sqlite_engine, name)
        label_all(sqlite_engine, routed, r, answers, config, embedder)
    with transaction(sqlite_engine) as s:
        finals = final_labels(s, routed.dataset_id, method="dawid_skene")
        by_majority = final_labels(s, routed.dataset_id)  # the default is majority
    assert {f.method for f in by_majority} == {"majority"}
    assert {f.method for f in finals} == {"dawid_skene"}
    assert {f.pair_id: f.label for f in finals} == truth


def test_gold_checks_feed_quality_not_votes(sqlite_engine: Engine, embedder) -> None:
    config = QueueConfig(gold_rate=0.5, pause_rule=None)  # wrong on purpose: keep serving
    routed = make_routed_dataset(sqlite_engine, n_review=6, n_gold=6, gold_label="B")
    r, _ = make_reviewer(sqlite_engine, "ann")
    label_all(sqlite_engine, routed, r, {}, config, embedder)  # always answers "A"
    with transaction(sqlite_engine) as s:
        quality = annotator_quality(s, routed.dataset_id)
        finals = final_labels(s, routed.dataset_id)
    assert quality["ann"].gold_checks >= 3
    assert quality["ann"].correct == 0 and quality["ann"].accuracy == 0.0
    assert all(len(f.votes) == 1 for f in finals)  # gold-check answers are not votes


def test_simulated_reviewer_goes_through_the_service(sqlite_engine: Engine, embedder) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=8, n_spot=2, n_gold=3)
    known = {p: "B" for p in routed.review[:-1] + routed.spot} | routed.gold
    counts = answer_queue_from_gold(
        sqlite_engine, routed.name, known, config=QueueConfig(gold_rate=0.2), embedder=embedder
    )
    assert counts["skipped"] == 1
    assert counts["review"] == 7 and counts["spot_check"] == 2
    assert counts["labeled"] == 9 + counts.get("gold", 0)
    with transaction(sqlite_engine) as s:
        finals = {f.pair_id: f for f in final_labels(s, routed.dataset_id)}
    assert finals[routed.review[0]].votes[0].annotator == "simulated-reviewer-1"
    assert finals[routed.review[-1]].method == "pending"
    assert all(finals[p].label == "B" and finals[p].source == "human" for p in routed.spot)


def test_spot_check_alarm(sqlite_engine: Engine, embedder) -> None:
    config = QueueConfig(gold_rate=0.0)
    bad = make_routed_dataset(sqlite_engine, "bad", n_review=0, n_spot=30, ai_label="A")
    good = make_routed_dataset(sqlite_engine, "good", n_review=0, n_spot=60, ai_label="A")
    r, _ = make_reviewer(sqlite_engine, "checker")
    wrong = {p: ("B" if i % 3 == 0 else "A") for i, p in enumerate(bad.spot)}
    label_all(sqlite_engine, bad, r, wrong, config, embedder)
    label_all(sqlite_engine, good, r, {}, config, embedder)
    with transaction(sqlite_engine) as s:
        bad_report = spot_check_report(s, bad.dataset_id)
        alarm = spot_check_alarm(s, bad.dataset_id)
        good_report = spot_check_report(s, good.dataset_id)
        quiet = spot_check_alarm(s, good.dataset_id)
    assert bad_report.estimate.n == 30 and bad_report.estimate.correct == 20
    assert bad_report.target == 0.85 and bad_report.below_target
    assert alarm is not None and "below the policy target 85.0%" in alarm
    assert "--recalibrate" in alarm
    assert good_report.estimate.correct == 60
    assert good_report.estimate.lower is not None and good_report.estimate.lower > 0.85
    assert quiet is None


def test_alarm_silent_without_answers(sqlite_engine: Engine) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=0, n_spot=5)
    with transaction(sqlite_engine) as s:
        assert spot_check_alarm(s, routed.dataset_id) is None
        assert spot_check_report(s, routed.dataset_id).estimate.n == 0
