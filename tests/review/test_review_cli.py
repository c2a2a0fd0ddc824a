"""``referee reviewers add|list`` and the terminal ``review``, driven with CliRunner input."""

from __future__ import annotations

import json

import pytest
import typer
from review_factory import make_routed_dataset
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from referee.cli import review as review_cli
from referee.db.engine import transaction
from referee.db.models import HumanLabel, ReviewAssignment
from referee.review import AuthenticationFailed, authenticate


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    review_cli.register(app)
    return app


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return {"REFEREE_DATABASE_URL": sqlite_url}


def test_reviewers_add_prints_token_once(
    cli: typer.Typer, env: dict[str, str], sqlite_engine: Engine
) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["reviewers", "add", "ann"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("rvw_") and len(token) > 30
    with transaction(sqlite_engine) as s:
        assert authenticate(s, token).name == "ann"
    dup = runner.invoke(cli, ["reviewers", "add", "ann"], env=env)
    assert dup.exit_code == 2 and "already exists" in dup.stderr
    listed = runner.invoke(cli, ["reviewers", "list", "--json"], env=env)
    assert listed.exit_code == 0
    rows = json.loads(listed.stdout)
    assert [(r["name"], r["active"], r["labeled"]) for r in rows] == [("ann", True, 0)]
    assert token not in listed.stdout


def test_terminal_review_session(
    cli: typer.Typer, env: dict[str, str], sqlite_engine: Engine
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=4)
    runner = CliRunner()
    assert runner.invoke(cli, ["reviewers", "add", "ann"], env=env).exit_code == 0
    keys = "a\nx\n\nboth miss the question\ns\nq\n"
    args = ["review", "--dataset", routed.name, "--reviewer", "ann", "--embedder", "tfidf"]
    result = runner.invoke(cli, args, input=keys, env=env)
    assert result.exit_code == 0, result.output
    assert "Response A" in result.stdout and "Response B" in result.stdout
    assert "A reason is required" in result.stderr
    assert "Labeled 2, skipped 1." in result.stdout
    with transaction(sqlite_engine) as s:
        labels = list(s.scalars(select(HumanLabel).order_by(HumanLabel.id)))
        assignments = list(s.scalars(select(ReviewAssignment)))
    assert [(h.label, h.reason, h.kind) for h in labels] == [
        ("A", None, "review"),
        ("both_bad", "both miss the question", "review"),
    ]
    assert all(h.duration_s is not None and h.duration_s >= 0 for h in labels)
    assert len(assignments) == 4 and sum(a.completed_at is not None for a in assignments) == 2
    # Skipped and quit items are not offered again; the queue is empty for ann.
    again = runner.invoke(cli, args, input="q\n", env=env)
    assert again.exit_code == 0 and "No items left for ann" in again.stdout


def test_review_unknown_reviewer_or_dataset(
    cli: typer.Typer, env: dict[str, str], sqlite_engine: Engine
) -> None:
    routed = make_routed_dataset(sqlite_engine, n_review=1)
    runner = CliRunner()
    args = ["review", "--dataset", routed.name, "--reviewer", "ghost", "--embedder", "tfidf"]
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 2 and "no reviewer named 'ghost'" in result.stderr
    runner.invoke(cli, ["reviewers", "add", "ann"], env=env)
    args = ["review", "--dataset", "nope", "--reviewer", "ann", "--embedder", "tfidf"]
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 2 and "no dataset named 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_reviewers_deactivate_and_activate(
    cli: typer.Typer, env: dict[str, str], sqlite_engine: Engine
) -> None:
    runner = CliRunner()
    token = runner.invoke(cli, ["reviewers", "add", "ann"], env=env).stdout.strip().splitlines()[-1]
    off = runner.invoke(cli, ["reviewers", "deactivate", "ann"], env=env)
    assert off.exit_code == 0 and "deactivated" in off.stderr
    listed = json.loads(runner.invoke(cli, ["reviewers", "list", "--json"], env=env).stdout)
    assert [(r["name"], r["active"]) for r in listed] == [("ann", False)]
    with transaction(sqlite_engine) as s, pytest.raises(AuthenticationFailed):
        authenticate(s, token)
    on = runner.invoke(cli, ["reviewers", "activate", "ann"], env=env)
    assert on.exit_code == 0
    with transaction(sqlite_engine) as s:
        assert authenticate(s, token).name == "ann"
    unknown = runner.invoke(cli, ["reviewers", "deactivate", "nobody"], env=env)
    assert unknown.exit_code == 2 and "no reviewer named 'nobody'" in unknown.stderr
