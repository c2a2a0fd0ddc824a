"""A judge with no known price is not costed at $0.00 silently (issue 12, item 14)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import Engine, update

from referee.app.cost_report import unpriced_judge_warnings
from referee.db.engine import transaction
from referee.db.models import Judgment
from referee.fakes.openai_server import FakeOpenAIServer, prefer_longer
from tests.helpers import run_cli
from tests.routing.cli_data import build_dataset, calibrate
from tests.workers.seed import seed_dataset


def test_warning_names_the_price_options() -> None:
    warnings = unpriced_judge_warnings(
        [
            "openai/gpt-4o-mini",  # priced by litellm
            "openai/acme-private-7b",
            "openai/acme-private-7b?name=acme&input_cost_per_mtok=1",
            "openai/acme-private-7b?input_cost_per_mtok=1&output_cost_per_mtok=2",
            "replay:/nowhere.jsonl#j",
        ]
    )
    assert len(warnings) == 2, warnings
    assert "judge 'openai/acme-private-7b': no known price" in warnings[0]
    assert "$0.00" in warnings[0] and "?input_cost_per_mtok=" in warnings[0]
    assert "output_cost_per_mtok=" in warnings[0]
    assert "judge 'acme': no output_cost_per_mtok given" in warnings[1]


def test_prelabel_warns_at_job_start(sqlite_engine: Engine, sqlite_url: str) -> None:
    seed_dataset(sqlite_engine, "toy", 2)
    with FakeOpenAIServer(prefer_longer) as srv:
        result = run_cli(
            sqlite_url,
            "prelabel",
            "--dataset",
            "toy",
            "--judge",
            "openai/acme-private-7b",
            "--api-base",
            srv.base_url,
            "--json",
            env={"REFEREE_API_KEY": "sk-fake"},
        )
    assert "warning: judge 'openai/acme-private-7b': no known price" in result.stderr
    assert "?input_cost_per_mtok=" in result.stderr
    assert json.loads(result.stdout)["total"] == 2  # --json: stdout stays one document


def test_cost_report_warns_about_unpriced_spend(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    build_dataset(tmp_path, sqlite_url)
    calibrate(sqlite_url)
    assert run_cli(sqlite_url, "route", "--dataset", "d").exit_code == 0
    quiet = run_cli(sqlite_url, "report", "cost", "--dataset", "d", "--json")
    assert quiet.exit_code == 0 and json.loads(quiet.stdout)["warnings"] == []
    with transaction(sqlite_engine) as s:  # the calls used tokens but had no price
        s.execute(update(Judgment).values(tokens_in=100, tokens_out=5, cost=0.0))
    for args in ([], ["--json"]):
        result = run_cli(sqlite_url, "report", "cost", "--dataset", "d", *args)
        assert result.exit_code == 0, result.output
        assert "warning: judge 'j1'" in result.stderr
        assert "$0.00" in result.stderr and "?input_cost_per_mtok=" in result.stderr
    assert "costed at $0.00" in json.loads(result.stdout)["warnings"][0]
