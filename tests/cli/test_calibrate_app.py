"""``referee calibrate`` through its application function: refusals leave the database as it
was, and the command prints what :func:`referee.app.calibrate.calibrate_dataset` returns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from referee.app.calibrate import CalibrateRequest, calibrate_dataset
from referee.errors import UserError
from tests.helpers import run_cli, snapshot
from tests.routing.cli_data import build_dataset


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (CalibrateRequest("d", target_agreement=1.5), "--target-agreement must be between"),
        (CalibrateRequest("d", delta=0.0), "--delta must be between 0 and 1"),
        (CalibrateRequest("d", judges=("nobody",)), "judges present: j1"),
        (CalibrateRequest("d", judges=("j1",), cascade=True), "--cascade needs two or more"),
        (CalibrateRequest("d", gold_kind="review"), "has no 'review' labels"),
    ],
)
def test_refusals_name_the_problem_and_store_nothing(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, request_: CalibrateRequest, message: str
) -> None:
    build_dataset(tmp_path, sqlite_url, n=40, n_gold=20)
    before = snapshot(sqlite_engine)
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        calibrate_dataset(sqlite_engine, request_)
    assert snapshot(sqlite_engine) == before


def test_the_command_prints_the_application_document(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    build_dataset(tmp_path, sqlite_url, n=160, n_gold=100)
    doc = calibrate_dataset(sqlite_engine, CalibrateRequest("d", target_agreement=0.8))
    result = run_cli(
        sqlite_url, "calibrate", "--dataset", "d", "--target-agreement", "0.8", "--json"
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert (doc["policy_version"], printed["policy_version"]) == (1, 2)
    assert {**printed, "policy_version": 1} == json.loads(json.dumps(doc))
    assert doc["gold_items"] == 100 and doc["ungold_pairs"] == 60  # every other pair is scored
