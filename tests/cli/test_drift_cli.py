"""``referee drift``: windows over time and the alarm, through the CLI; and one spot-check
estimate for ``status``, ``report cost``, ``drift`` and the release manifest."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.db.models import HumanLabel
from referee.reports.lead_overview import lead_overview
from tests.export.release_data import cli_json, routed_dataset
from tests.helpers import run_cli

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _answers(engine: Engine, rows: list[tuple[str, str, str, str, datetime]]) -> None:
    with transaction(engine) as s:
        for pair_id, annotator, label, kind, at in rows:
            s.add(HumanLabel(pair_id=pair_id, annotator=annotator, label=label, kind=kind,
                             created_at=at))  # fmt: skip


def test_drift_alarm_and_one_spot_check_estimate_everywhere(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    gold = sorted(routed.gold)[:40]
    flip = {"A": "B", "B": "A"}
    rows: list[tuple[str, str, str, str, datetime]] = []
    for i, p in enumerate(gold):  # "drifty" is right on 30 gold checks, then wrong on 10
        at = T0 + timedelta(minutes=i)
        rows.append(
            (p, "drifty", routed.truth[p] if i < 30 else flip[routed.truth[p]], "review", at)
        )
        rows.append((p, "steady", routed.truth[p], "review", at))
    ai = {p: lab for p, (_, lab) in routed.decisions.items()}
    spot = routed.of_kind("spot_check")
    assert spot
    for i, p in enumerate(spot):  # one accepted label found wrong
        label = ai[p] if i else flip[ai[p] or "A"]
        rows.append((p, "carol", label or "A", "spot_check", T0 + timedelta(hours=1, minutes=i)))
    _answers(sqlite_engine, rows)

    doc = cli_json(sqlite_url, "drift", "--dataset", "d", "--window", "10")
    assert doc["window"] == 10 and doc["alpha"] == 0.05
    assert "Fisher" in doc["test"]
    by_name = {r["reviewer"]: r for r in doc["reviewers"]}
    drifty = by_name["drifty"]["gold"]
    assert [w["n"] for w in drifty["windows"]] == [10, 10, 10, 10]
    assert [w["rate"] for w in drifty["windows"]] == [1.0, 1.0, 1.0, 0.0]
    assert drifty["test"]["alarm"] and drifty["test"]["p_value"] < 0.05
    assert drifty["test"]["recent"] == {"n": 10, "successes": 0}
    assert drifty["test"]["earlier"] == {"n": 30, "successes": 30}
    steady = by_name["steady"]["gold"]
    assert steady["test"] is not None and not steady["test"]["alarm"]
    assert len(doc["alarms"]) == 1 and doc["alarms"][0].startswith("reviewer drifty: gold")

    status = cli_json(sqlite_url, "status", "--dataset", "d")
    default = cli_json(sqlite_url, "drift", "--dataset", "d")  # windows of 20, as status
    assert status["drift_alarms"] == default["alarms"] and len(default["alarms"]) == 1
    plain = run_cli(sqlite_url, "status", "--dataset", "d")
    assert "drift alarm" in plain.output and "drifty" in plain.output
    with transaction(sqlite_engine) as session:  # the lead's page shows the same alarm
        lead = lead_overview(session, "d", n_resamples=10)
    assert lead["drift_alarms"] == default["alarms"]

    # one spot-check estimate: status, report cost, drift and the release manifest agree
    cost = cli_json(sqlite_url, "report", "cost", "--dataset", "d")
    made = run_cli(sqlite_url, "release", "--dataset", "d", "--name", "v1", "--out",
                   str(tmp_path / "v1"), "--agreement-gate", "-1",
                   "--min-agreement-items", "0")  # fmt: skip
    assert made.exit_code == 0, made.output
    manifest = json.loads((tmp_path / "v1" / "manifest.json").read_text())
    estimates = {
        "status": status["spot_check"],
        "report cost": cost["quality"]["spot_check"],
        "drift": doc["spot_check"]["estimate"],
        "manifest": manifest["spot_check"],
    }
    keys = ("n", "correct", "accuracy", "lower", "upper", "method")
    first = {k: estimates["status"][k] for k in keys}
    assert first["n"] == len(spot) and first["correct"] == len(spot) - 1
    for where, est in estimates.items():
        assert {k: est[k] for k in keys} == first, where
    assert doc["spot_check"]["over_time"]["n"] == len(spot)
    assert doc["spot_check"]["over_time"]["successes"] == len(spot) - 1


def test_drift_with_too_little_data_runs_no_test(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    p = sorted(routed.gold)[0]
    _answers(sqlite_engine, [(p, "ann", routed.truth[p], "review", T0)])
    doc = cli_json(sqlite_url, "drift", "--dataset", "d")
    (row,) = doc["reviewers"]
    assert row["gold"]["n"] == 1 and row["gold"]["test"] is None and doc["alarms"] == []
    plain = run_cli(sqlite_url, "drift", "--dataset", "d")
    assert plain.exit_code == 0 and "too few" in plain.output
    assert run_cli(sqlite_url, "drift", "--dataset", "nope").exit_code == 2
    assert run_cli(sqlite_url, "drift", "--dataset", "d", "--alpha", "2").exit_code == 2
