"""``referee route`` through the real CLI on a fresh SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, func, select

from referee.db.engine import transaction
from referee.db.models import AuditEntry, HumanLabel, Policy, RoutingDecision
from tests.helpers import run_cli
from tests.routing.cli_data import build_dataset, calibrate

KEYS = {"pair_id", "decision", "label", "source", "reasons", "confidence"}


def test_route_without_policy_says_to_calibrate(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    build_dataset(tmp_path, sqlite_url)
    result = run_cli(sqlite_url, "route", "--dataset", "d")
    assert result.exit_code == 2
    assert "referee calibrate" in result.output
    unknown = run_cli(sqlite_url, "route", "--dataset", "nope")
    assert unknown.exit_code == 2 and "no dataset named 'nope'" in unknown.output
    bad_rate = run_cli(sqlite_url, "route", "--dataset", "d", "--spot-check-rate", "2")
    assert bad_rate.exit_code == 2 and "--spot-check-rate" in bad_rate.output


def test_route_writes_decisions_file_rows_and_summary(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    data = build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    out = tmp_path / "decisions.jsonl"
    result = run_cli(
        sqlite_url, "route", "--dataset", "d", "--out", str(out), "--json", "--seed", "3"
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == data["n"] == summary["pairs"]
    for line in lines:
        assert set(line) >= KEYS
        assert line["source"] == "ai"
        if line["decision"] == "auto_accept":
            assert line["label"] in ("A", "B")
        else:
            assert line["label"] is None
    by_kind: dict[str, int] = {}
    for line in lines:
        by_kind[line["decision"]] = by_kind.get(line["decision"], 0) + 1
    assert summary["decisions"] == {k: by_kind.get(k, 0) for k in summary["decisions"]}
    frozen = {line["pair_id"] for line in lines if line["decision"] == "frozen_eval"}
    assert frozen == set(data["frozen"])
    assert summary["decisions"]["auto_accept"] > 0
    assert summary["decisions"]["spot_check"] >= 1
    flips = sum("order_flip" in line["reasons"] for line in lines)
    assert summary["reasons"]["order_flip"] == flips > 0
    # accepted labels agree with the truth at the target on this easy synthetic set
    truth = data["truth"]
    accepted = [line for line in lines if line["decision"] == "auto_accept"]
    assert sum(truth[a["pair_id"]] == a["label"] for a in accepted) / len(accepted) >= 0.8
    with transaction(sqlite_engine) as session:
        current = session.scalar(
            select(func.count()).select_from(RoutingDecision).where(RoutingDecision.current)
        )
        assert current == data["n"]
        spot = session.scalars(
            select(RoutingDecision).where(RoutingDecision.decision == "spot_check")
        ).all()
        assert all(r.label in ("A", "B") and r.inclusion_probability for r in spot)
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "route")
            )
            == 1
        )


def test_rerun_keeps_one_current_decision_per_pair(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    data = build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    assert run_cli(sqlite_url, "route", "--dataset", "d").exit_code == 0
    calibrate(sqlite_url)  # policy v2: the v1 rows become history
    result = run_cli(sqlite_url, "route", "--dataset", "d", "--policy", "2", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["policy_version"] == 2
    assert run_cli(sqlite_url, "route", "--dataset", "d", "--json").exit_code == 0
    with transaction(sqlite_engine) as session:
        rows = session.scalars(select(RoutingDecision)).all()
        assert sum(r.current for r in rows) == data["n"]
        assert len(rows) == 2 * data["n"]
        assert (
            session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "route")
            )
            == 3
        )
    missing = run_cli(sqlite_url, "route", "--dataset", "d", "--policy", "9")
    assert missing.exit_code == 2 and "no policy version 9" in missing.output


def test_recalibrate_tightens_when_spot_checks_reject_accepted_labels(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    first = run_cli(sqlite_url, "route", "--dataset", "d", "--spot-check-rate", "0.3", "--json")
    assert first.exit_code == 0, first.output
    with transaction(sqlite_engine) as session:
        spot = session.scalars(
            select(RoutingDecision).where(
                RoutingDecision.decision == "spot_check", RoutingDecision.current
            )
        ).all()
        assert spot
        for r in spot:  # people reject every accepted label they check
            wrong = "B" if r.label == "A" else "A"
            session.add(
                HumanLabel(pair_id=r.pair_id, annotator="rev", label=wrong, kind="spot_check")
            )
        old_threshold = session.scalar(select(Policy.body).where(Policy.version == 1))["threshold"]
        top = max(r.confidence or 0.0 for r in spot)
    result = run_cli(sqlite_url, "route", "--dataset", "d", "--recalibrate", "--json")
    assert result.exit_code == 0, result.output
    recal = json.loads(result.stdout)["recalibration"]
    assert recal["from_version"] == 1 and recal["new_version"] == 2
    assert recal["spot_check"]["accuracy"] == 0.0
    assert recal["new_threshold"] > old_threshold
    assert recal["new_threshold"] > top
    assert json.loads(result.stdout)["policy_version"] == 2
