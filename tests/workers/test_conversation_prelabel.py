"""``referee prelabel`` on conversation pairs against the fake provider that records requests:
the turns reach the judge in both orders, the verdicts carry the conversation prompt version and
the number of dropped turns, single-turn pairs keep their version, and a second job pays nothing."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select

from judge.conversation import Message, flat_prompt, messages_to_json
from judge.conversation_prompt import conversation_prompt_version, parse_conversation_message
from judge.prompts import prompt_version
from judge.rubric import DEFAULT_RUBRIC
from referee.db.engine import transaction
from referee.db.models import Judgment, Pair
from referee.fakes.openai_server import FakeOpenAIServer, prefer_longer
from tests.helpers import run_cli
from tests.workers.seed import seed_dataset

SHORT = (
    Message("system", "Be brief."),
    Message("user", "Hi"),
    Message("assistant", "Hello"),
    Message("user", "What is 2 + 2?"),
)
HISTORY = [
    Message("user" if i % 2 == 0 else "assistant", f"turn {i} " + "w" * 600) for i in range(30)
]
LONG = (*HISTORY, Message("user", "So, what now?"))


def make_conversations(engine: Engine) -> tuple[str, str, str]:
    plain, short, long = seed_dataset(engine, "conv", 3)
    with transaction(engine) as s:
        for pair_id, turns in ((short, SHORT), (long, LONG)):
            pair = s.get_one(Pair, pair_id)
            pair.messages = messages_to_json(turns)
            pair.prompt = flat_prompt(turns)
    return plain, short, long


def test_prelabel_sends_turns_in_both_orders_and_records_truncation(
    sqlite_engine: Engine, sqlite_url: str
) -> None:
    plain, short, long = make_conversations(sqlite_engine)
    judge = "openai/gpt-4o-mini?context_tokens=4096"
    with FakeOpenAIServer(prefer_longer, record_bodies=True) as srv:
        env = {"REFEREE_API_KEY": "sk-fake", "REFEREE_API_BASE": srv.base_url}
        args = ("prelabel", "--dataset", "conv", "--judge", judge, "--json")
        res = run_cli(sqlite_url, *args, env=env)
        assert res.exit_code == 0, res.output
        assert srv.request_count == 6
        shown = [
            parse_conversation_message(json.loads(body)["messages"][-1]["content"])
            for body in srv.bodies
        ]
        again = run_cli(sqlite_url, *args, env=env)  # stored verdicts reused: no new request
        assert again.exit_code == 0, again.output
        assert srv.request_count == 6
    conversations = [s for s in shown if s is not None]
    assert len(conversations) == 4
    short_seen = [s for s in conversations if s.turns == SHORT]
    assert len(short_seen) == 2 and {s.first for s in short_seen} == {
        s.second for s in short_seen
    }  # both orders
    long_seen = [s for s in conversations if s.turns[-1] == LONG[-1]]
    assert len(long_seen) == 2 and long_seen[0].dropped > 0
    assert long_seen[0].turns == LONG[long_seen[0].dropped :]  # oldest turns went first
    with transaction(sqlite_engine) as s:
        rows = s.execute(
            select(Judgment.pair_id, Judgment.prompt_version, Judgment.turns_dropped)
        ).all()
    by_pair = {p: {(v, d) for q, v, d in rows if q == p} for p in (plain, short, long)}
    conv_version = conversation_prompt_version(DEFAULT_RUBRIC)
    assert by_pair[plain] == {(prompt_version(DEFAULT_RUBRIC), None)}
    assert by_pair[short] == {(conv_version, 0)}
    assert by_pair[long] == {(conv_version, long_seen[0].dropped)}
    assert len(rows) == 6
