"""``referee labels final``: one label per pair, counted by hand from the stored answers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.db.models import HumanLabel, Pair, ReviewAssignment, Reviewer
from tests.export.release_data import answer, cli_json, routed_dataset
from tests.helpers import run_cli


def _flip(label: str) -> str:
    return "B" if label == "A" else "A"


def test_final_labels_match_a_hand_count(engine: Engine, db_url: str, tmp_path: Path) -> None:
    routed = routed_dataset(engine, db_url, tmp_path)
    review = routed.of_kind("human_review")
    spot = routed.of_kind("spot_check")
    assert len(review) >= 4 and len(spot) >= 2, (len(review), len(spot))
    agree, split, lone = review[0], review[1], review[2]
    confirmed, overturned = spot[0], spot[1]
    ai = {p: lab for p, (_, lab) in routed.decisions.items()}
    answer(
        engine,
        [
            (agree, "alice", "A", "review"),
            (agree, "bob", "A", "review"),
            (agree, "carol", "B", "review"),
            (split, "alice", "A", "review"),
            (split, "bob", "B", "review"),
            (lone, "carol", "both_bad", "review"),
            (confirmed, "alice", ai[confirmed] or "A", "spot_check"),
            (overturned, "bob", _flip(ai[overturned] or "A"), "spot_check"),
        ],
    )
    out = tmp_path / "final.jsonl"
    doc = cli_json(db_url, "labels", "final", "--dataset", "d", "--out", str(out))
    rows = {r["pair_id"]: r for r in doc["rows"]}
    # every non-frozen pair, once; frozen-evaluation pairs never
    assert set(rows) == set(routed.truth) - set(routed.frozen)
    assert out.read_text().count("\n") == len(rows)
    for pid, row in rows.items():
        if pid in routed.gold:
            assert (row["label"], row["source"], row["method"]) == (
                routed.truth[pid],
                "gold",
                "gold",
            )
    assert (rows[agree]["label"], rows[agree]["source"]) == ("A", "human")
    assert rows[agree]["n_answers"] == 3 and abs(rows[agree]["agreement"] - 2 / 3) < 1e-9
    assert all(name.startswith("annotator-") for name in rows[agree]["annotators"])
    assert "alice" not in out.read_text()  # reviewer names never leave; pseudonyms do
    assert (rows[split]["label"], rows[split]["method"]) == (None, "unresolved")
    assert (rows[lone]["label"], rows[lone]["source"]) == ("both_bad", "human")
    assert rows[lone]["answers"][0]["reason"] == "both answers are wrong"
    assert (rows[confirmed]["label"], rows[confirmed]["source"]) == (ai[confirmed], "human")
    # a spot check that disagrees with the AI label makes the pair human-labeled
    assert rows[overturned]["source"] == "human"
    assert rows[overturned]["label"] == _flip(ai[overturned] or "A")
    assert rows[overturned]["ai_label"] == ai[overturned]
    for pid in routed.of_kind("auto_accept"):
        assert (rows[pid]["label"], rows[pid]["source"], rows[pid]["method"]) == (
            ai[pid],
            "ai",
            "ai",
        )
        assert rows[pid]["judges"] == [{"judge": "j1", "prompt_version": "recorded"}]
        assert rows[pid]["policy_version"] == 1
    for pid in review[3:]:
        assert (rows[pid]["label"], rows[pid]["source"], rows[pid]["method"]) == (
            None,
            None,
            "pending",
        )
    expected = Counter(
        "gold"
        if p in routed.gold
        else "pending"
        if rows[p]["method"] in ("pending", "unresolved")
        else rows[p]["source"]
        for p in rows
    )
    got = Counter(doc["by_source"])
    assert got["gold"] == expected["gold"] and got["ai"] == expected["ai"]


def test_weighted_and_dawid_skene_follow_gold_check_accuracy(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    target = routed.of_kind("human_review")[0]
    gold = sorted(routed.gold)[:6]
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with transaction(sqlite_engine) as s:
        people = {}
        for name in ("good", "bad1", "bad2"):
            r = Reviewer(name=name, token_hash=name * 8)
            s.add(r)
            s.flush()
            people[name] = r.id
        for pid in gold:  # hidden gold checks: good always right, the two others always wrong
            for name, rid in people.items():
                s.add(
                    ReviewAssignment(
                        pair_id=pid, reviewer_id=rid, queue="gold", lease_expires_at=now
                    )
                )
                right = routed.truth[pid]
                s.add(
                    HumanLabel(
                        pair_id=pid,
                        annotator=name,
                        label=right if name == "good" else _flip(right),
                        kind="review",
                    )
                )
        assert s.get(Pair, target) is not None
    answer(
        sqlite_engine,
        [
            (target, "bad1", "A", "review"),
            (target, "bad2", "A", "review"),
            (target, "good", "B", "review"),
        ],
    )
    results = {}
    for method in ("majority", "weighted", "dawid-skene"):
        doc = cli_json(sqlite_url, "labels", "final", "--dataset", "d", "--aggregate", method)
        results[method] = next(r for r in doc["rows"] if r["pair_id"] == target)
    assert results["majority"]["label"] == "A"
    # weighted: good 7/8 against 1/8 + 1/8 (add-one smoothed gold-check accuracy)
    assert (results["weighted"]["label"], results["weighted"]["method"]) == ("B", "weighted")
    assert results["dawid-skene"]["method"] == "dawid_skene"
    assert results["dawid-skene"]["label"] == "B"
    bad = run_cli(sqlite_url, "labels", "final", "--dataset", "d", "--aggregate", "vote")
    assert bad.exit_code == 2 and "majority, weighted, dawid-skene" in bad.output
