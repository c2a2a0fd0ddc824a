"""``GET /v1/next`` carries the conversation of a conversation pair, and nothing more for a
single-turn pair."""

from __future__ import annotations

from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine

from judge.conversation import Message, flat_prompt, messages_to_json
from referee.db.engine import transaction
from referee.db.models import Pair
from tests.api.test_api_review import auth, client_for

TURNS = (
    Message("system", "You are terse."),
    Message("user", "Hi <b>there</b>"),
    Message("assistant", "Hello."),
    Message("user", "Name a prime."),
)


def test_next_carries_messages_only_for_conversation_pairs(engine: Engine) -> None:
    routed = make_routed_dataset(engine, "conv", n_review=2)
    chat_id, plain_id = routed.review
    with transaction(engine) as s:
        pair = s.get_one(Pair, chat_id)
        pair.messages = messages_to_json(TURNS)
        pair.prompt = flat_prompt(TURNS)
    _, token = make_reviewer(engine, "ann")
    client = client_for(engine)
    seen: dict[str, dict[str, object]] = {}
    for _ in range(2):
        resp = client.get("/v1/next", params={"dataset": "conv"}, headers=auth(token))
        assert resp.status_code == 200, resp.text
        item = resp.json()
        seen[item["pair_id"]] = item
        label = client.post(
            f"/v1/items/{item['pair_id']}/label", json={"label": "A"}, headers=auth(token)
        )
        assert label.status_code == 200, label.text
    assert seen[chat_id]["messages"] == messages_to_json(TURNS)  # roles, order, raw text
    assert seen[chat_id]["prompt"] == flat_prompt(TURNS)
    assert "messages" not in seen[plain_id]
