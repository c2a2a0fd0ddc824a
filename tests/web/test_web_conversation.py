"""A conversation on the review page: the earlier turns as a chat with roles, long histories
collapsed behind a toggle, keys unchanged, and every turn's text inert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine, select

from judge.conversation import Message, flat_prompt, messages_to_json
from referee.db.engine import transaction
from referee.db.models import HumanLabel, Pair
from referee.review.tokens import add_reviewer
from tests.helpers import grant_every_dataset
from tests.web.conftest import LiveServer
from tests.web.test_web_review import labels_of, open_review, wait_for_new_item

Page = Any

TURNS = (
    Message("system", "You are a **careful** support bot."),
    Message("user", "My order has not arrived."),
    Message("assistant", "Sorry to hear that. What is the order number?"),
    Message("user", "It is 1234."),
    Message("tool", '{"status": "shipped"}'),
    Message("assistant", "It shipped yesterday."),
    Message(
        "user",
        "When will it come? <script>window.__xss = 'turn'</script>"
        "<img src=x onerror=\"window.__xss='img'\">",
    ),
)


def make_chat_dataset(engine: Engine) -> tuple[str, str]:
    """Two review pairs: a seven-turn conversation and a single-turn prompt."""
    routed = make_routed_dataset(engine, "chat", n_review=2)
    chat_id, plain_id = routed.review
    as_conversation(engine, chat_id)
    return chat_id, plain_id


def as_conversation(engine: Engine, pair_id: str) -> None:
    """Make ``pair_id`` the seven-turn conversation :func:`check_conversation` expects."""
    with transaction(engine) as s:
        pair = s.get_one(Pair, pair_id)
        pair.messages = messages_to_json(TURNS)
        pair.prompt = flat_prompt(TURNS)
        pair.response_a = "Tomorrow, most likely."
        pair.response_b = "I cannot know."


def roles(page: Page) -> list[str]:
    found: list[str] = page.locator("#prompt .turn .role").all_text_contents()
    return found


def check_conversation(page: Page) -> None:
    assert page.locator("#prompt-title").text_content() == "Conversation (7 turns)"
    # the last four turns, roles labelled; three earlier ones behind the toggle
    assert roles(page) == ["User", "Tool", "Assistant", "User"]
    toggle = page.locator("#turns-toggle")
    assert toggle.text_content() == "Show 3 earlier turns"
    assert toggle.get_attribute("aria-expanded") == "false"
    last = page.locator("#prompt .turn").last
    assert "<script>window.__xss = 'turn'</script>" in (last.text_content() or "")
    toggle.click()
    assert roles(page) == ["System", "User", "Assistant", "User", "Tool", "Assistant", "User"]
    assert page.locator("#turns-toggle").text_content() == "Hide 3 earlier turns"
    assert page.locator("#prompt .turn-system strong").text_content() == "careful"  # markdown
    forbidden = page.evaluate("() => document.querySelectorAll('#prompt :is(script, img)').length")
    assert forbidden == 0
    # both candidate replies side by side, as for a single-turn prompt
    assert page.locator("#response-a").text_content() == "Tomorrow, most likely."
    assert page.locator("#response-b").text_content() == "I cannot know."
    page.locator("#turns-toggle").click()
    assert len(roles(page)) == 4


def test_conversation_turns_render_with_roles_toggle_and_keys_work(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    chat_id, plain_id = make_chat_dataset(sqlite_engine)
    _, token = make_reviewer(sqlite_engine, "ann")
    live = live_server()
    page = page_factory()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    shown = open_review(page, live, token, "chat")
    answered: list[tuple[str, str]] = []
    for _ in range(2):
        if shown == chat_id:
            check_conversation(page)
            page.keyboard.press("b")  # after the toggle's clicks the keys still answer
            assert page.locator("[data-label=B]").get_attribute("aria-pressed") == "true"
            answered.append((chat_id, "B"))
        else:
            assert shown == plain_id
            assert page.locator("#prompt-title").text_content() == "Prompt"
            assert page.locator("#prompt .turn").count() == 0
            assert page.locator("#turns-toggle").count() == 0
            page.keyboard.press("a")
            answered.append((plain_id, "A"))
        page.keyboard.press("Enter")
        if len(answered) < 2:
            shown = wait_for_new_item(page, shown)
    page.locator("#notice").wait_for(state="visible")
    assert sorted(p for p, _ in answered) == sorted([chat_id, plain_id])
    assert sorted((p, lab) for p, lab, _ in labels_of(sqlite_engine, "ann")) == sorted(answered)
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []


def test_a_lead_adjudicating_a_conversation_sees_the_chat(
    sqlite_engine: Engine, live_server: Callable[..., LiveServer], page_factory: Callable[..., Page]
) -> None:
    """The lead's adjudication is the review page opened with the lead's token: a spot check
    that disagreed with the AI label reaches the lead (no expert exists) as the same chat."""
    routed = make_routed_dataset(sqlite_engine, "chat", n_review=0, n_spot=1, ai_label="A")
    (pair_id,) = routed.spot
    as_conversation(sqlite_engine, pair_id)
    _, ann = make_reviewer(sqlite_engine, "ann")
    with transaction(sqlite_engine) as s:
        lead, lead_token = add_reviewer(s, "lee", role="lead")
        grant_every_dataset(s, lead)
    live = live_server()
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {ann}"}) as api:
        assert api.get("/v1/next", params={"dataset": "chat"}).json()["pair_id"] == pair_id
        assert api.post(f"/v1/items/{pair_id}/label", json={"label": "B"}).status_code == 200
    page = page_factory()
    assert open_review(page, live, lead_token, "chat") == pair_id
    check_conversation(page)
    page.keyboard.press("a")
    page.keyboard.press("Enter")
    page.locator("#notice").wait_for(state="visible")
    with transaction(sqlite_engine) as s:
        answers = s.execute(
            select(HumanLabel.pair_id, HumanLabel.label, HumanLabel.kind).where(
                HumanLabel.annotator == "lee"
            )
        ).all()
    assert [tuple(a) for a in answers] == [(pair_id, "A", "adjudication")]
    assert page.evaluate("() => window.__xss") is None
