"""The direct OpenAI-compatible route: what litellm builds for it, parsing, errors, sessions."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from judge.llm import StructuredRequest, classify_litellm_error
from judge.openai_http import (
    SESSIONS,
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderResponseError,
    env_proxy,
    parse_completion,
    route_for,
)
from judge.prompts import build_messages
from judge.rubric import DEFAULT_RUBRIC
from judge.runtime import LoopThread
from judge.spec import parse_judge_spec

BASE = "http://127.0.0.1:9/v1"


def prepared(mode: str = "json") -> dict[str, object]:
    """The acompletion kwargs instructor prepares for a judge (as LiteLLMProvider does)."""
    kwargs = {"model": "openai/gpt-4o-mini", "temperature": 0.0, "max_tokens": 300}
    if mode == "json":
        kwargs["logprobs"] = True
    messages = build_messages(DEFAULT_RUBRIC, "", "", "")
    return StructuredRequest(mode, messages, kwargs).prepared  # type: ignore[arg-type]


def test_litellm_builds_the_url_headers_and_body_of_an_openai_compatible_endpoint() -> None:
    route = route_for("openai/gpt-4o-mini", BASE, "sk-test", prepared("json"))
    assert route is not None
    assert route.url == f"{BASE}/chat/completions"
    body = route.body([{"role": "user", "content": "hello"}])
    assert body["model"] == "gpt-4o-mini"  # litellm's provider prefix is not sent
    assert body["messages"] == [{"role": "user", "content": "hello"}]
    assert body["response_format"] == {"type": "json_object"}
    assert body["max_tokens"] == 300 and body["temperature"] == 0.0 and body["logprobs"] is True
    assert "stream" not in body and "extra_body" not in body
    tools = route_for("openai/gpt-4o-mini", BASE, "sk-test", prepared("tools"))
    assert tools is not None
    tool_body = tools.body([])
    assert tool_body["tools"][0]["function"]["name"] == tool_body["tool_choice"]["function"]["name"]


def test_litellm_maps_parameters_per_model_for_the_route() -> None:
    """A reasoning model gets max_completion_tokens and no temperature, as litellm sends it."""
    route = route_for("openai/o3-mini", BASE, "sk-test", prepared("tools"))
    assert route is not None
    body = route.body([])
    assert body["max_completion_tokens"] == 300
    assert "max_tokens" not in body and "temperature" not in body


def test_the_api_key_comes_from_the_spec_else_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    with_env = route_for("openai/gpt-4o-mini", BASE, None, prepared())
    assert with_env is not None
    assert with_env.headers["Authorization"] == "Bearer sk-from-env"
    explicit = route_for("openai/gpt-4o-mini", BASE, "sk-explicit", prepared())
    assert explicit is not None
    assert explicit.headers["Authorization"] == "Bearer sk-explicit"


def test_other_providers_and_unroutable_models_go_through_litellm() -> None:
    assert route_for("anthropic/claude-3-5-sonnet-20240620", None, "k", prepared()) is None
    assert route_for("not-a-model-litellm-knows", None, "k", prepared()) is None


def test_a_spec_can_ask_for_litellm_for_every_call() -> None:
    assert parse_judge_spec("openai/gpt-4o-mini?transport=litellm").transport == "litellm"
    assert parse_judge_spec("openai/gpt-4o-mini").transport == "auto"
    with pytest.raises(Exception, match="transport must be auto or litellm"):
        parse_judge_spec("openai/gpt-4o-mini?transport=raw")


def completion_body(**changes: object) -> dict[str, object]:
    content = json.dumps({"winner": "first", "confidence": 0.8, "rationale": "r"})
    choice: dict[str, object] = {
        "index": 0,
        "message": {"role": "assistant", "content": content},
        "finish_reason": "stop",
        "logprobs": {"content": [{"token": "first", "logprob": -0.1, "top_logprobs": []}]},
    }
    body: dict[str, object] = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [choice],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }
    for key, value in changes.items():
        if key.startswith("choice_"):
            choice[key.removeprefix("choice_")] = value
        else:
            body[key] = value
    return body


def test_a_completion_is_parsed_with_its_logprobs_read_apart() -> None:
    answer = parse_completion(json.dumps(completion_body()).encode(), "m")
    assert answer.logprob_tokens == [("first", -0.1)]
    assert answer.completion.choices[0].logprobs is None
    assert answer.completion.usage is not None and answer.completion.usage.prompt_tokens == 10


def test_servers_that_differ_from_openai_in_small_ways_are_accepted() -> None:
    body = completion_body(choice_finish_reason="eos")
    del body["id"], body["created"], body["object"]
    answer = parse_completion(json.dumps(body).encode(), "fallback-model")
    assert answer.completion.choices[0].finish_reason == "stop"
    assert answer.completion.id == "" and answer.completion.model == "m"
    cut = parse_completion(json.dumps(completion_body(choice_finish_reason="length")).encode(), "m")
    assert cut.completion.choices[0].finish_reason == "length"  # a cut-off answer stays visible


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<html>busy</html>", "not JSON"),
        (json.dumps({"choices": []}).encode(), "no choices"),
        (json.dumps({"choices": [{"text": "x"}]}).encode(), "no message"),
    ],
)
def test_a_body_that_is_no_completion_is_a_response_error(raw: bytes, message: str) -> None:
    with pytest.raises(ProviderResponseError, match=message):
        parse_completion(raw, "m")


@asynccontextmanager
async def raw_http_server(answer: Callable[[], bytes]) -> AsyncIterator[str]:
    """A server that answers every request with ``answer()`` (bytes of a whole HTTP response)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"\r\n", b""):
            pass
        writer.write(answer())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        await server.wait_closed()


def http_answer(status: str, body: bytes, *headers: str) -> Callable[[], bytes]:
    head = [f"HTTP/1.1 {status}", f"content-length: {len(body)}", "connection: close", *headers]
    return lambda: ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_http_errors_keep_status_message_and_retry_after() -> None:
    spec = parse_judge_spec("openai/gpt-4o-mini", api_base=BASE)
    error = json.dumps({"error": {"message": "slow down", "type": "rate_limit"}}).encode()

    async def call() -> None:
        async with raw_http_server(http_answer("429 Too Many", error, "retry-after: 7")) as base:
            route = route_for("openai/gpt-4o-mini", base, "k", prepared())
            assert route is not None
            await route.complete([{"role": "user", "content": "x"}], timeout_s=5)

    with pytest.raises(ProviderHTTPError) as caught:
        asyncio.run(call())
    assert caught.value.status_code == 429 and "slow down" in str(caught.value)
    failure = classify_litellm_error(caught.value, spec)
    assert failure is not None and failure.transient and failure.retry_after_s == 7.0


def test_a_non_json_200_is_a_transient_provider_error() -> None:
    spec = parse_judge_spec("openai/gpt-4o-mini", api_base=BASE)

    async def call() -> None:
        async with raw_http_server(http_answer("200 OK", b"upstream busy")) as base:
            route = route_for("openai/gpt-4o-mini", base, "k", prepared())
            assert route is not None
            await route.complete([{"role": "user", "content": "x"}], timeout_s=5)

    with pytest.raises(ProviderResponseError) as caught:
        asyncio.run(call())
    failure = classify_litellm_error(caught.value, spec)
    assert failure is not None and failure.transient


def test_a_refused_connection_is_a_transient_connection_error() -> None:
    spec = parse_judge_spec("openai/gpt-4o-mini", api_base=BASE)
    route = route_for("openai/gpt-4o-mini", "http://127.0.0.1:9/v1", "k", prepared())
    assert route is not None
    with pytest.raises(ProviderConnectionError) as caught:
        asyncio.run(route.complete([{"role": "user", "content": "x"}], timeout_s=5))
    failure = classify_litellm_error(caught.value, spec)
    assert failure is not None and failure.transient and "cannot connect" in failure.message


def test_the_proxy_is_read_from_the_environment_once_per_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    assert env_proxy("https://api.openai.com/v1/chat/completions") == "http://proxy.internal:3128"
    assert env_proxy("http://127.0.0.1:8000/v1/chat/completions") is None
    route = route_for("openai/gpt-4o-mini", "https://gateway.example/v1", "k", prepared())
    assert route is not None and route.proxy == "http://proxy.internal:3128"


def test_a_loops_http_session_is_closed_when_the_loop_shuts_down() -> None:
    async def session_of_this_loop() -> object:
        return await SESSIONS.get()

    from_run = asyncio.run(session_of_this_loop())
    assert from_run.closed  # type: ignore[attr-defined]
    thread = LoopThread("test-loop")
    session = thread.run(session_of_this_loop())
    assert thread.run(session_of_this_loop()) is session  # one session per loop, reused
    assert not session.closed  # type: ignore[attr-defined]
    thread.close()
    assert session.closed  # type: ignore[attr-defined]


def test_every_fallback_to_litellm_is_logged_once_with_its_reason(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import judge.openai_http as openai_http

    monkeypatch.setattr(openai_http, "_FALLBACKS_LOGGED", set())
    caplog.set_level(logging.INFO, logger="referee.judge")
    for _ in range(3):
        assert route_for("anthropic/claude-3-5-sonnet-20240620", None, "k", prepared()) is None
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    assert "provider 'anthropic' has no direct route" in caplog.records[0].getMessage()

    def broken(**kwargs: object) -> None:
        raise KeyError("a litellm release that moved things")

    caplog.clear()
    monkeypatch.setattr(openai_http.ProviderConfigManager, "get_provider_chat_config", broken)
    for _ in range(2):
        assert route_for("openai/gpt-4o-mini", BASE, "sk-test", prepared()) is None
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    message = caplog.records[0].getMessage()
    assert "openai/gpt-4o-mini" in message and "request building failed" in message
    assert "a litellm release that moved things" in message
