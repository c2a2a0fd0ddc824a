"""The terminal review shows a conversation's turns with their roles before the two replies."""

from __future__ import annotations

import typer
from review_factory import make_routed_dataset
from sqlalchemy import Engine
from typer.testing import CliRunner

from judge.conversation import Message, flat_prompt, messages_to_json
from referee.cli import review as review_cli
from referee.db.engine import transaction
from referee.db.models import Pair

TURNS = (
    Message("system", "Answer in French."),
    Message("user", "Say hello [bold red]LOUDLY[/bold red]"),
    Message("assistant", "Bonjour."),
    Message("user", "And goodbye?"),
)


def test_terminal_review_shows_turns_with_roles_before_the_replies(
    sqlite_url: str, sqlite_engine: Engine
) -> None:
    routed = make_routed_dataset(sqlite_engine, "conv", n_review=1)
    with transaction(sqlite_engine) as s:
        pair = s.get_one(Pair, routed.review[0])
        pair.messages = messages_to_json(TURNS)
        pair.prompt = flat_prompt(TURNS)
        pair.response_a = "Au revoir."
        pair.response_b = "Goodbye."
    app = typer.Typer()
    review_cli.register(app)
    env = {"REFEREE_DATABASE_URL": sqlite_url, "COLUMNS": "100"}
    runner = CliRunner()
    assert runner.invoke(app, ["reviewers", "add", "ann"], env=env).exit_code == 0
    args = ["review", "--dataset", "conv", "--reviewer", "ann", "--embedder", "tfidf"]
    result = runner.invoke(app, args, input="a\nq\n", env=env)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Conversation (4 turns)" in out
    positions = [out.index(text) for text in ("System", "Answer in French.", "User", "Bonjour.")]
    assert positions == sorted(positions)
    assert out.index("And goodbye?") < out.index("Response A") < out.index("Au revoir.")
    assert "[bold red]LOUDLY[/bold red]" in out  # markup in a turn is text, not style
    assert "Labeled 1, skipped 0." in out
