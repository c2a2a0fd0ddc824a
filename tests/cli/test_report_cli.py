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
    data = build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    assert run_cli(sqlite_url, "route", "--dataset", "d", "--spot-check-rate", "0.1").exit_code == 0
    with transaction(sqlite_engine) as session:
        spot = session.scalars(
            select(RoutingDecision).where(RoutingDecision.decision == "spot_check")
        ).all()
        for r in spot:  # people confirm every checked label but one
            label = r.label if r is not spot[0] else ("B" if r.label == "A" else "A")
            session.add(
                HumanLabel(pair_id=r.pair_id, annotator="rev", label=label, kind="spot_check")
            )
        # two reviewers on three pairs: agree, agree, disagree -> 2/3 agreement
        review = session.scalars(
            select(RoutingDecision).where(RoutingDecision.decision == "human_review")
        ).all()[:3]
        for i, r in enumerate(review):
            session.add(HumanLabel(pair_id=r.pair_id, annotator="r1", label="A", kind="review"))
            session.add(
                HumanLabel(
                    pair_id=r.pair_id, annotator="r2", label="A" if i < 2 else "B", kind="review"
                )
            )
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
    d = doc["decisions"]
    c = doc["cost"]
    n_routed = data["n"] - len(data["frozen"])
    assert d["auto_accept"] + d["spot_check"] + d["human_review"] == n_routed
    assert c["judge_spend"] == pytest.approx(data["n"] * 2 * JUDGE_COST)
    assert c["human_spend"]["review"] == pytest.approx(d["human_review"] * 2 * 0.8)
    assert c["human_spend"]["spot_check"] == pytest.approx(d["spot_check"] * 2 * 0.8)
    assert c["human_spend"]["gold"] == pytest.approx(data["n_gold"] * 2 * 0.8)
    hybrid = c["judge_spend"] + (d["human_review"] + d["spot_check"] + data["n_gold"]) * 1.6
    assert c["hybrid_total"] == pytest.approx(hybrid)
    assert c["hybrid_per_label"] == pytest.approx(hybrid / n_routed)
    assert c["human_only_per_label"] == pytest.approx(1.6)
    assert c["human_only_total"] == pytest.approx(n_routed * 1.6)
    q = doc["quality"]
    assert q["spot_check"]["n"] == len(spot)
    assert q["accepted_ai_accuracy"]["estimate"] == pytest.approx((len(spot) - 1) / len(spot))
    assert q["human_agreement_items"] == 3
    assert q["human_agreement"]["estimate"] == pytest.approx(2 / 3)
    points = doc["frontier"]["points"]
    assert points and points[0]["accepted"] == 0
    assert [p["coverage"] for p in points] == sorted(p["coverage"] for p in points)
    assert doc["frontier"]["policy_threshold"] in [p["threshold"] for p in points]
    page = html.read_text()
    assert "<svg" in page and "polyline" in page and "people only" in page
    plain = run_cli(sqlite_url, "report", "cost", "--dataset", "d")
    assert plain.exit_code == 0 and "per label" in plain.output
