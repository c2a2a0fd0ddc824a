"""Retry delays, Retry-After parsing, token buckets and logprob confidence (pure units)."""

from __future__ import annotations

import asyncio
import math
import random
from email.utils import formatdate

import pytest

from judge.errors import PermanentProviderError, TransientProviderError
from judge.limits import LimitsRegistry, ModelLimits, TokenBucket
from judge.logprobs import verdict_probability
from judge.retry import (
    DEFAULT_BUDGET,
    Failure,
    RetryBudget,
    backoff_delay,
    call_with_retries,
    parse_retry_after,
)
from judge.spec import RetryPolicy, parse_judge_spec


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"Retry-After": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after(
        {"retry-after": formatdate(1_000_010.0, usegmt=True)}, now=1_000_000.0
    ) == pytest.approx(10.0)
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_backoff_is_full_jitter_under_an_exponential_ceiling() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_s=0.5, max_delay_s=3.0)
    rng = random.Random(1)
    for attempt, ceiling in enumerate([0.5, 1.0, 2.0, 3.0, 3.0]):
        delays = [backoff_delay(attempt, policy, rng) for _ in range(200)]
        assert min(delays) >= 0.0 and max(delays) <= ceiling
        assert max(delays) > 0.8 * ceiling  # spread over the whole interval


def test_call_with_retries_honours_retry_after_and_stops_on_permanent() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    failures = iter([Failure(True, "busy", 429, 2.5), Failure(True, "oops", 500)])
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError("x")
        return "ok"

    policy = RetryPolicy(max_retries=3, base_delay_s=0.1, max_delay_s=0.1)
    result = asyncio.run(
        call_with_retries(flaky, policy, lambda e: next(failures), describe="j", sleep=sleep)
    )
    assert result == "ok" and calls == 3
    assert waits[0] == 2.5 and 0 <= waits[1] <= 0.1

    async def denied() -> str:
        raise RuntimeError("no")

    with pytest.raises(PermanentProviderError, match="j: bad key"):
        asyncio.run(
            call_with_retries(
                denied, policy, lambda e: Failure(False, "bad key", 401), describe="j", sleep=sleep
            )
        )
    with pytest.raises(TransientProviderError):
        asyncio.run(
            call_with_retries(
                denied,
                RetryPolicy(max_retries=1),
                lambda e: Failure(True, "busy", 503),
                describe="j",
                sleep=sleep,
            )
        )
    with pytest.raises(RuntimeError):
        asyncio.run(call_with_retries(denied, policy, lambda e: None, describe="j", sleep=sleep))


def test_token_bucket_waits_for_debt_to_be_repaid() -> None:
    bucket = TokenBucket(per_minute=60)  # one per second
    assert bucket.reserve(60) == 0.0
    wait = bucket.reserve(1)
    assert 0.9 < wait <= 1.0
    assert 1.9 < bucket.reserve(1) <= 2.0


def test_limits_registry_shares_one_limiter_per_model() -> None:
    registry = LimitsRegistry(ModelLimits(concurrency=4), {"openai/x": ModelLimits(concurrency=1)})
    assert registry.limiter("openai/x") is registry.limiter("openai/x")
    assert registry.limiter("openai/x").limits.concurrency == 1
    assert registry.limiter("openai/y").limits.concurrency == 4


def test_requests_per_minute_limit_delays_calls() -> None:
    registry = LimitsRegistry(ModelLimits(concurrency=None, requests_per_minute=600))
    limiter = registry.limiter("m")

    async def burst(n: int) -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(n):
            async with limiter.slot(0):
                pass
        return loop.time() - start

    assert asyncio.run(burst(600)) < 0.5  # the bucket starts full (refills < 5 meanwhile)
    assert asyncio.run(burst(10)) >= 0.4  # then 10 per second: >= 5 of these must wait


def test_verdict_probability_joins_the_winner_tokens() -> None:
    tokens = [
        ('{"', 0.0),
        ("winner", 0.0),
        ('":"', 0.0),
        ("sec", math.log(0.5)),
        ("ond", math.log(0.8)),
        ('"}', 0.0),
    ]
    assert verdict_probability(tokens) == pytest.approx(0.4)
    assert verdict_probability([("no json", -1.0)]) is None
    assert verdict_probability([]) is None


def test_the_retry_budget_states_its_worst_case_in_calls_per_pair() -> None:
    budget = RetryBudget()
    # 2 orders x (2 re-asks + 1) x (4 retries + 1) x 2 pair attempts x 5 deliveries
    assert budget.calls_per_order() == 15
    assert budget.calls_per_pair() == 300
    assert budget.calls_per_pair(judges=3) == 900
    nothing = RetryBudget(RetryPolicy(max_retries=0), max_reasks=0, pair_attempts=1, max_claims=1)
    assert nothing.calls_per_pair() == 2  # both orders, once
    with pytest.raises(ValueError):
        RetryBudget(pair_attempts=0)


def test_the_settings_defaults_are_the_budget_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from referee.jobs.config import worker_config
    from referee.settings import Settings

    monkeypatch.delenv("REFEREE_MAX_RETRIES", raising=False)
    monkeypatch.delenv("REFEREE_MAX_REASKS", raising=False)
    assert worker_config(Settings(database_url="sqlite://")).retry == DEFAULT_BUDGET
    spec = parse_judge_spec("openai/gpt-4o-mini")
    assert (spec.retry, spec.max_reasks) == (DEFAULT_BUDGET.http, DEFAULT_BUDGET.max_reasks)
