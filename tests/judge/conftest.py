"""Fixtures for judge tests: the fake OpenAI server and live judges pointed at it."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from judge.limits import LimitsRegistry, ModelLimits
from judge.pipeline import Judge, build_judge
from judge.setup import configure_litellm
from judge.spec import parse_judge_spec
from referee.fakes.openai_server import FakeOpenAIServer
from tests.judge.support import FAKE_KEY

configure_litellm()  # what the entry points do before they build judges

ServerFactory = Callable[..., FakeOpenAIServer]
JudgeFactory = Callable[..., Judge]


@pytest.fixture
def fake_server() -> Iterator[ServerFactory]:
    """Start fake servers with the given options; every one is stopped after the test."""
    started: list[FakeOpenAIServer] = []

    def start(**options: Any) -> FakeOpenAIServer:
        server = FakeOpenAIServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(params=["direct", "litellm"])
def transport(request: pytest.FixtureRequest) -> str:
    """Every live-judge test runs on both transports: the direct OpenAI route and litellm's."""
    return str(request.param)


@pytest.fixture
def make_judge(transport: str) -> JudgeFactory:
    """A live judge on a fake server, with short backoffs and its own limits registry.

    ``transport`` picks the call path; the test fails if the judge did not take it.
    """

    def make(
        server: FakeOpenAIServer,
        model: str = "openai/gpt-4o-mini",
        *,
        concurrency: int | None = 16,
        **options: Any,
    ) -> Judge:
        options.setdefault("api_key", FAKE_KEY)
        options.setdefault("max_retries", 3)
        options.setdefault("backoff_base_s", 0.01)
        options.setdefault("backoff_max_s", 0.05)
        options.setdefault("timeout_s", 10.0)
        if transport == "litellm":
            model = f"{model}{'&' if '?' in model else '?'}transport=litellm"
        spec = parse_judge_spec(model, api_base=server.base_url, **options)
        judge = build_judge(spec, LimitsRegistry(ModelLimits(concurrency=concurrency)))
        route = getattr(judge.provider, "route", None)
        assert (route is not None) == (transport == "direct"), (transport, spec.model)
        return judge

    return make
