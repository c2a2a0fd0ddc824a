"""``referee report cost`` through the real CLI; the arithmetic re-done by hand from the rows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import HumanLabel, RoutingDecision
from tests.helpers import run_cli
from tests.routing.cli_data import JUDGE_COST, build_dataset, calibrate


def test_report_needs_routing_first(sqlite_engine: Engine, sqlite_url: str, tmp_path: Path) -> None:
    build_dataset(tmp_path, sqlite_url)
    result = run_cli(sqlite_url, "report", "cost", "--dataset", "d")
    assert result.exit_code == 2
    assert "referee route --dataset d" in result.output
    bad = run_cli(sqlite_url, "report", "cost", "--dataset", "d", "--reviewers-per-item", "0")
    assert bad.exit_code == 2


def test_cost_report_arithmetic_and_html(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    """Every figure of ``report cost --json`` recomputed by hand from the stored rows."""
    data = build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    assert run_cli(sqlite_url, "route", "--dataset", "d", "--spot-check-rate", "0.1").exit_code == 0
    truth: dict[str, str] = data["truth"]  # type: ignore[assignment]
    gold = set(list(truth)[: int(data["n_gold"])])  # type: ignore[call-overload]
    with transaction(sqlite_engine) as session:
        current = session.scalars(select(RoutingDecision).where(RoutingDecision.current)).all()
        spot = [r for r in current if r.decision == "spot_check"]
        assert spot and not any(r.pair_id in gold for r in spot)
        for r in spot:  # people confirm every checked label but one
            label = r.label if r is not spot[0] else ("B" if r.label == "A" else "A")
            session.add(
                HumanLabel(pair_id=r.pair_id, annotator="rev", label=label, kind="spot_check")
            )
        # two reviewers on three paid pairs: agree, agree, disagree -> 2/3 agreement
        review = [r for r in current if r.decision == "human_review" and r.pair_id not in gold][:3]
        assert len(review) == 3
        for i, r in enumerate(review):
            session.add(HumanLabel(pair_id=r.pair_id, annotator="r1", label="A", kind="review"))
            session.add(
                HumanLabel(
                    pair_id=r.pair_id, annotator="r2", label="A" if i < 2 else "B", kind="review"
                )
            )
        # one answer on a gold pair (a hidden gold check)
        session.add(HumanLabel(pair_id="s0000", annotator="r1", label="A", kind="review"))
        # second looks: an adjudication of the disputed spot check, and an incident review
        session.add(
            HumanLabel(pair_id=spot[0].pair_id, annotator="exp", label="A", kind="adjudication")
        )
        session.add(
            HumanLabel(
                pair_id=review[2].pair_id, annotator="lead", label="both_bad", kind="incident",
                reason="checked",
            )
        )  # fmt: skip
        kinds = [(r.pair_id in gold, r.decision) for r in current]
    html = tmp_path / "cost.html"
    result = run_cli(
        sqlite_url,
        "report",
        "cost",
        "--dataset",
        "d",
        "--human-cost",
        "0.8",
        "--reviewers-per-item",
        "2",
        "--json",
        "--html",
        str(html),
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    c = doc["cost"]
    k, price = 2, 0.8
    n_review = sum(1 for g, kind in kinds if not g and kind == "human_review")
    n_spot = sum(1 for g, kind in kinds if not g and kind == "spot_check")
    n_auto = sum(1 for g, kind in kinds if not g and kind == "auto_accept")
    n_gold_final = sum(1 for g, kind in kinds if g and kind != "frozen_eval")
    n_final = n_review + n_spot + n_auto + n_gold_final
    assert n_final == data["n"] - len(data["frozen"])  # type: ignore[operator, arg-type]
    assert doc["paid_items"] == {
        "review": n_review,
        "spot_check": n_spot,
        "gold_pairs_not_queued": n_gold_final,
    }
    judges = data["n"] * 2 * JUDGE_COST  # type: ignore[operator]
    lines = {line["source"]: line for line in c["lines"]}
    assert lines["judges"]["planned"] == lines["judges"]["spent"] == pytest.approx(judges)
    assert lines["review"] == {
        "source": "review",
        "items": n_review,
        "planned_labels": n_review * k,
        "labels_done": 6,
        "planned": pytest.approx(n_review * k * price),
        "spent": pytest.approx(6 * price),
    }
    assert lines["spot_check"]["planned"] == pytest.approx(n_spot * k * price)
    assert lines["spot_check"]["spent"] == pytest.approx(len(spot) * price)
    # gold: one price per gold label, --reviewers-per-item 2 does not double it
    assert lines["gold"]["planned"] == lines["gold"]["spent"] == pytest.approx(100 * price)
    assert lines["gold_checks"]["labels_done"] == 1
    assert lines["gold_checks"]["spent"] == pytest.approx(price)
    assert lines["second_looks"]["labels_done"] == 2  # paid, never planned ahead
    assert lines["second_looks"]["spent"] == pytest.approx(2 * price)
    planned = judges + (n_review * k + n_spot * k + 100 + 1 + 2) * price
    spent = judges + (6 + len(spot) + 100 + 1 + 2) * price
    assert c["hybrid_total"] == pytest.approx(planned)
    assert c["spent_total"] == pytest.approx(spent)
    assert c["human_spend"]["total"] == pytest.approx(planned - judges)
    assert c["human_spent"]["total"] == pytest.approx(spent - judges)
    assert c["final_labels"] == n_final
    assert c["hybrid_per_label"] == pytest.approx(planned / n_final)
    assert c["human_only_per_label"] == pytest.approx(k * price)
    assert c["human_only_total"] == pytest.approx(n_final * k * price)
    assert c["hybrid_over_human_only"] == pytest.approx(planned / (n_final * k * price))
    assert c["auto_share"] == pytest.approx((n_auto + n_spot) / n_final)
    assert c["paid_share"] == pytest.approx((n_final - n_gold_final) / n_final)
    q = doc["quality"]
    assert q["spot_check"]["n"] == len(spot)
    assert q["accepted_ai_accuracy"]["estimate"] == pytest.approx((len(spot) - 1) / len(spot))
    assert q["human_agreement_items"] == 3
    assert q["human_agreement"]["estimate"] == pytest.approx(2 / 3)
    a = c["auto_share"]
    assert q["hybrid_expected_agreement"]["estimate"] == pytest.approx(
        a * (len(spot) - 1) / len(spot) + (1 - a) * 2 / 3
    )
    points = doc["frontier"]["points"]
    assert points and points[0]["accepted"] == 0
    assert [p["coverage"] for p in points] == sorted(p["coverage"] for p in points)
    assert doc["frontier"]["policy_threshold"] in [p["threshold"] for p in points]
    paid_share = c["paid_share"]
    for p in points:
        if p["accepted"]:
            cov = p["coverage"]
            expected = (judges + 100 * price) / n_final + paid_share * (
                (1 - cov) + 0.05 * cov
            ) * k * price
        else:
            expected = min(k * price, 100 * price / n_final + paid_share * k * price)
        assert p["cost_per_label"] == pytest.approx(expected)
    # accepting nothing never costs more per label than people only
    assert points[0]["cost_per_label"] <= c["human_only_per_label"] + 1e-12
    page = html.read_text()
    assert "<svg" in page and "polyline" in page and "people only" in page
    plain = run_cli(sqlite_url, "report", "cost", "--dataset", "d")
    assert plain.exit_code == 0 and "per label" in plain.output
    assert "labels done" in plain.output and "spent" in plain.output
    assert "policy" in plain.output
