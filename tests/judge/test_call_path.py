"""The lean call path: instructor's request prepared once, re-asks, cached prices, key check."""

from __future__ import annotations

import asyncio
from typing import Any

import litellm
import pytest
from instructor.v2 import Mode, Provider, mode_registry

from judge.llm import _RESPONSE_MODEL, StructuredRequest
from judge.pricing import PriceBook, litellm_cost
from judge.prompts import build_messages
from judge.rubric import DEFAULT_RUBRIC
from referee.fakes.openai_server import GARBAGE
from referee.fakes.policies import FakeRequest
from tests.judge.conftest import JudgeFactory, ServerFactory
from tests.judge.support import make_pairs

CALL = {"model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 64}


@pytest.mark.parametrize(("mode", "instructor_mode"), [("json", Mode.JSON), ("tools", Mode.TOOLS)])
def test_a_prepared_request_equals_what_instructor_builds_per_call(
    mode: Any, instructor_mode: Mode
) -> None:
    structured = StructuredRequest(mode, build_messages(DEFAULT_RUBRIC, "", "", ""), CALL)
    messages = build_messages(DEFAULT_RUBRIC, "What is 2+2?", "4", "5")
    handlers = mode_registry.get_handlers(Provider.OPENAI, instructor_mode)
    _, expected = handlers.request_handler(
        response_model=_RESPONSE_MODEL, kwargs={**CALL, "messages": messages}
    )
    assert structured.request(messages[-1:]) == expected
    if mode == "json":
        system = expected["messages"][0]["content"]
        assert system.startswith(messages[0]["content"]) and '"winner"' in system
        assert expected["response_format"] == {"type": "json_object"}
    else:
        assert (
            expected["tools"][0]["function"]["name"] == expected["tool_choice"]["function"]["name"]
        )


def test_prepared_requests_do_not_share_message_dicts() -> None:
    structured = StructuredRequest("json", build_messages(DEFAULT_RUBRIC, "", "", ""), CALL)
    first = structured.request([{"role": "user", "content": "one"}])
    first["messages"][0]["content"] = "mutated by a provider adapter"
    second = structured.request([{"role": "user", "content": "two"}])
    assert second["messages"][0]["content"] != "mutated by a provider adapter"
    assert second["messages"][-1] == {"role": "user", "content": "two"}


def test_a_reask_sends_the_bad_answer_back_with_instructors_correction(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    bodies: list[dict[str, Any]] = []

    def record(request: FakeRequest) -> Any:
        bodies.append(dict(request.body))
        return GARBAGE if len(bodies) == 1 else {"winner": "first", "confidence": 0.7}

    server = fake_server(policy=record)
    verdict = asyncio.run(make_judge(server).judge_order(make_pairs(1)[0], "AB"))
    assert verdict.status == "ok" and verdict.attempts == 2
    first, second = (body["messages"] for body in bodies)
    assert second[: len(first)] == first
    assistant, correction = second[len(first) :]
    assert assistant["role"] == "assistant" and "kind of fine" in assistant["content"]
    assert correction["role"] == "user" and "Correct your JSON" in correction["content"]


def test_tools_mode_reasks_too_and_ends_unparseable_with_the_raw_arguments(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(policy=lambda request: {"winner": "Response 3", "confidence": 0.5})
    judge = make_judge(server, mode="tools", max_reasks=1)
    verdict = asyncio.run(judge.judge_order(make_pairs(1)[0], "BA"))
    assert verdict.status == "unparseable" and "Response 3" in (verdict.raw or "")
    assert verdict.attempts == 2 and server.request_count == 2
    assert verdict.error and "after 2 tries" in verdict.error


def test_cached_rates_give_litellms_price_and_unknown_models_cost_nothing() -> None:
    book = PriceBook()
    expected = litellm_cost("openai/gpt-4o-mini", 1234, 56)
    assert expected is not None and expected > 0
    assert book.cost("openai/gpt-4o-mini", 1234, 56) == pytest.approx(expected, rel=1e-12)
    assert book.cost("openai/house-model-7", 1234, 56) == 0.0
    assert book.rates("openai/house-model-7") is None


def test_calls_above_the_tier_threshold_are_priced_by_litellm_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    book = PriceBook(tiered_above=100)
    seen: list[tuple[int, int]] = []

    def priced(model: str, prompt_tokens: int, completion_tokens: int) -> tuple[float, float]:
        seen.append((prompt_tokens, completion_tokens))
        return (prompt_tokens * 1e-6, completion_tokens * 2e-6)

    monkeypatch.setattr(
        litellm,
        "cost_per_token",
        lambda model, prompt_tokens, completion_tokens: priced(
            model, prompt_tokens, completion_tokens
        ),
    )
    assert book.cost("m", 90, 5) == pytest.approx(90e-6 + 10e-6)
    assert book.cost("m", 90, 5) == pytest.approx(90e-6 + 10e-6)
    assert book.cost("m", 500, 50) == pytest.approx(500e-6 + 100e-6)
    assert seen == [(1000, 0), (0, 1000), (500, 50)]  # two probes once, then the big call
