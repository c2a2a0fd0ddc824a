"""A pair whose answer is known (a gold label) is never a paid review or spot-check item.

Through the real CLI on a dataset where gold pairs would otherwise be routed to review and
drawn for spot check; the simulated reviewer leases through the real queue service.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import HumanLabel, ReviewAssignment, RoutingDecision
from referee.review.config import QueueConfig
from referee.review.simulate import answer_queue_from_gold
from tests.helpers import run_cli
from tests.routing.cli_data import build_dataset, calibrate, write_jsonl


def _route(url: str) -> dict[str, object]:
    result = run_cli(
        url, "route", "--dataset", "d", "--spot-check-rate", "0.5", "--seed", "3", "--json"
    )
    assert result.exit_code == 0, result.output
    doc: dict[str, object] = json.loads(result.stdout)
    return doc


def test_gold_pairs_are_never_paid_review_or_spot_check_items(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    data = build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    truth: dict[str, str] = data["truth"]  # type: ignore[assignment]
    gold = set(list(truth)[: int(data["n_gold"])])  # type: ignore[call-overload]
    summary = _route(sqlite_url)
    with transaction(sqlite_engine) as s:
        current = {
            d.pair_id: d for d in s.scalars(select(RoutingDecision).where(RoutingDecision.current))
        }
    review_gold = [p for p, d in current.items() if d.decision == "human_review" and p in gold]
    accepted_gold = [p for p, d in current.items() if d.decision == "auto_accept" and p in gold]
    assert review_gold, "the dataset must route some gold pairs to human_review"
    assert accepted_gold, "and auto-accept some (they would be spot-check candidates)"
    # no spot check is drawn among gold pairs, and they are not sampling candidates at all
    assert not [p for p, d in current.items() if d.decision == "spot_check" and p in gold]
    assert all(current[p].inclusion_probability is None for p in accepted_gold)
    assert any(d.decision == "spot_check" for d in current.values())
    by_decision = summary["gold_pairs"]["by_decision"]  # type: ignore[index]
    assert by_decision["human_review"] == len(review_gold)
    assert by_decision["spot_check"] == 0

    # a reviewer with no hidden gold checks never sees a gold pair (two reviewers per item)
    plain = QueueConfig(gold_rate=0.0, review_k=2, spot_check_k=2)
    counts = answer_queue_from_gold(sqlite_engine, "d", truth, "careful", config=plain)
    paid_review = [p for p, d in current.items() if d.decision == "human_review" and p not in gold]
    spot = [p for p, d in current.items() if d.decision == "spot_check"]
    assert counts["review"] == len(paid_review) and counts["spot_check"] == len(spot)
    assert counts.get("gold", 0) == 0
    # with hidden gold checks, gold pairs come only as checks (queue "gold")
    checked = QueueConfig(gold_rate=0.25, review_k=2, spot_check_k=2)
    answer_queue_from_gold(sqlite_engine, "d", truth, "checked", config=checked)
    with transaction(sqlite_engine) as s:
        served = s.execute(select(ReviewAssignment.pair_id, ReviewAssignment.queue)).all()
    assert served
    assert all(queue == "gold" for pair_id, queue in served if pair_id in gold)
    assert any(queue == "gold" for _, queue in served)
    n_checks = sum(queue == "gold" for _, queue in served)

    # the cost report counts no gold pair as a paid item; the checks are counted as such
    result = run_cli(sqlite_url, "report", "cost", "--dataset", "d", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["paid_items"]["review"] == len(paid_review)
    assert doc["paid_items"]["spot_check"] == len(spot)
    lines = {line["source"]: line for line in doc["cost"]["lines"]}
    assert lines["review"]["items"] == len(paid_review)
    assert lines["review"]["labels_done"] == 2 * len(paid_review)  # both reviewers answered
    assert lines["gold_checks"]["labels_done"] == n_checks
    assert lines["gold"]["items"] == len(gold)


def test_a_pair_that_gains_gold_leaves_the_queue(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    data = build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    truth: dict[str, str] = data["truth"]  # type: ignore[assignment]
    _route(sqlite_url)
    with transaction(sqlite_engine) as s:
        queued = sorted(
            s.scalars(
                select(RoutingDecision.pair_id).where(
                    RoutingDecision.current, RoutingDecision.decision == "human_review"
                )
            )
        )
    plain = QueueConfig(gold_rate=0.0)
    # build the queue with one lease, then give that pair's answer back
    first = answer_queue_from_gold(sqlite_engine, "d", {}, "x", config=plain, max_items=1)
    assert first["skipped"] == 1
    late = [p for p in queued if int(p[1:]) >= int(data["n_gold"])][:2]  # type: ignore[call-overload]
    assert late
    labels = [{"pair_id": p, "annotator": "gold", "label": truth[p]} for p in late]
    path = write_jsonl(tmp_path / "late_gold.jsonl", labels)
    assert run_cli(sqlite_url, "labels", "import", str(path), "--kind", "gold").exit_code == 0
    answer_queue_from_gold(sqlite_engine, "d", truth, "careful", config=plain)
    with transaction(sqlite_engine) as s:
        answered = set(
            s.scalars(select(HumanLabel.pair_id).where(HumanLabel.annotator == "careful"))
        )
    assert answered and not answered & set(late)
