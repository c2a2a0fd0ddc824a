"""Every setting is checked at start: a refused value is one line naming the variable (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from referee.settings import ACCEPTED, Settings, SettingsError, load_settings
from tests.helpers import run_cli

BAD = [
    ("REFEREE_CONCURRENCY", "0", "from 1 to 100000"),
    ("REFEREE_CONCURRENCY", "-1", "from 1 to 100000"),
    ("REFEREE_CONCURRENCY", "lots", "whole number"),
    ("REFEREE_CONCURRENCY", "1.5", "whole number"),
    ("REFEREE_DATABASE_URL", "nonsense://x", "sqlite:///PATH or postgresql://"),
    ("REFEREE_DATABASE_URL", "not a url", "sqlite:///PATH"),
    ("REFEREE_DATABASE_URL", "mysql://u@h/d", "postgresql://"),
    ("REFEREE_BROKER_URL", "nonsense://x", "redis://"),
    ("REFEREE_RESULT_BACKEND", "nonsense://x", "rpc://"),
    ("REFEREE_API_BASE", "localhost:8000", "http:// or https://"),
    ("REFEREE_REQUEST_TIMEOUT_S", "0", "greater than 0"),
    ("REFEREE_REQUEST_TIMEOUT_S", "nan", "greater than 0"),
    ("REFEREE_REQUEST_TIMEOUT_S", "inf", "at most 86400"),
    ("REFEREE_MAX_RETRIES", "-1", "from 0 to 100"),
    ("REFEREE_MAX_REASKS", "-2", "from 0 to 20"),
    ("REFEREE_REQUESTS_PER_MINUTE", "0", "≥ 1"),
    ("REFEREE_TOKENS_PER_MINUTE", "-5", "≥ 1"),
    ("REFEREE_MAX_FIELD_BYTES", "0", "from 1 to"),
    ("REFEREE_HUMAN_COST", "-1", "from 0 to"),
    ("REFEREE_HUMAN_COST", "nan", "from 0 to"),
    ("REFEREE_LEASE_SECONDS", "0", "from 1 to 2592000"),
    ("REFEREE_LEASE_SECONDS", "99999999999999", "from 1 to 2592000"),
]


@pytest.mark.parametrize(
    ("variable", "value", "accepted"), BAD, ids=[f"{v}={x}" for v, x, _ in BAD]
)
def test_bad_setting_exits_2_with_one_line(
    sqlite_url: str, variable: str, value: str, accepted: str
) -> None:
    result = run_cli(sqlite_url, "config", env={variable: value})
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {variable}=")
    assert accepted in lines[0]
    assert result.stdout == ""


def test_every_setting_says_what_it_accepts() -> None:
    assert set(ACCEPTED) == set(Settings.model_fields)


def test_commands_that_use_settings_refuse_them(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"id": "a", "prompt": "p", "response_a": "a", "response_b": "b"}))
    for args, env in (
        (["ingest", str(path), "--dataset", "d"], {"REFEREE_DATABASE_URL": "nonsense://x"}),
        (["prelabel", "--dataset", "d", "--judge", "openai/x"], {"REFEREE_CONCURRENCY": "0"}),
        (["status"], {"REFEREE_LEASE_SECONDS": "-1"}),
    ):
        result = run_cli(sqlite_url, *args, env=env)
        assert result.exit_code == 2, (args, result.output)
        assert next(iter(env)) in result.stderr


def test_secrets_are_not_echoed() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(database_url="mysql://user:hunter2@host/db")
    assert "hunter2" not in str(caught.value) and "****" in str(caught.value)


def test_good_settings_and_empty_values(sqlite_url: str, pg_url: str) -> None:
    for url in (sqlite_url, pg_url, "postgres://u@h/d", "sqlite://", "postgresql+psycopg://u@h/d"):
        assert load_settings(database_url=url).database_url == url
    ok = run_cli(
        sqlite_url, "config", "--json", env={"REFEREE_CONCURRENCY": "", "REFEREE_BROKER_URL": ""}
    )
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["concurrency"] == 16 and doc["broker_url"] is None
    several = run_cli(
        sqlite_url, "config", env={"REFEREE_CONCURRENCY": "0", "REFEREE_MAX_RETRIES": "-1"}
    )
    assert several.exit_code == 2
    assert several.stderr.count("error: REFEREE_") == 2
