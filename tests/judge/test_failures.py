"""Transient faults are retried, permanent ones fail fast, garbage ends unparseable."""

from __future__ import annotations

import asyncio
import pickle
import time

import pytest

from judge.errors import (
    JudgeConfigError,
    PermanentJudgeError,
    PermanentProviderError,
    TransientProviderError,
)
from judge.pipeline import judge_pair
from judge.retry import RetryBudget, RetryPolicy
from judge.types import PairText
from referee.fakes.openai_server import GARBAGE, GARBAGE_TEXT, FakeRequest, always
from tests.judge.conftest import JudgeFactory, ServerFactory
from tests.judge.support import make_pairs

PAIR = PairText("p", "What is 2+2?", "4", "5")


def test_429_is_retried_after_the_retry_after_delay(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(policy=always("first"), script=[429], retry_after_s=1)
    judge = make_judge(server)  # backoff without Retry-After would be <= 0.05 s
    started = time.perf_counter()
    verdict = asyncio.run(judge.judge_order(PAIR, "AB"))
    elapsed = time.perf_counter() - started
    assert verdict.status == "ok" and verdict.winner == "A"
    assert server.status_counts == {429: 1, 200: 1}
    assert elapsed >= 1.0


def test_500s_are_retried_until_success(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(policy=always("first"), script=[500, 503])
    verdict = asyncio.run(make_judge(server).judge_order(PAIR, "BA"))
    assert verdict.status == "ok" and verdict.winner == "B"
    assert server.request_count == 3


def test_transient_failures_exhaust_retries_with_a_typed_error(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(always_status=500)
    judge = make_judge(server, max_retries=2)
    with pytest.raises(TransientProviderError) as caught:
        asyncio.run(judge.judge_order(PAIR, "AB"))
    assert server.request_count == 3
    assert "after 2 retries" in str(caught.value)
    assert caught.value.status_code == 500


@pytest.mark.parametrize("mode", ["json", "tools"])
def test_401_fails_fast_and_says_to_set_the_key(
    fake_server: ServerFactory, make_judge: JudgeFactory, mode: str
) -> None:
    server = fake_server(policy=always("first"), api_key="sk-the-right-one")
    judge = make_judge(server, api_key="sk-wrong", mode=mode)
    with pytest.raises(PermanentProviderError) as caught:
        asyncio.run(judge_pair(PAIR, judge))
    assert server.request_count == 2  # one per order, no retry, no re-ask
    assert caught.value.status_code == 401
    assert "API key" in str(caught.value) and "REFEREE_API_KEY" in str(caught.value)


def test_404_fails_fast_and_names_the_model(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(always_status=404)
    judge = make_judge(server, "openai/no-such-model")
    with pytest.raises(PermanentProviderError) as caught:
        asyncio.run(judge.judge_order(PAIR, "AB"))
    assert server.request_count == 1
    assert caught.value.status_code == 404
    assert "openai/no-such-model" in str(caught.value) and "not found" in str(caught.value)


def test_a_slow_provider_times_out_as_a_transient_failure(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(policy=always("first"), latency_s=1.5)
    judge = make_judge(server, timeout_s=0.3, max_retries=1)
    with pytest.raises(TransientProviderError) as caught:
        asyncio.run(judge.judge_order(PAIR, "AB"))
    assert "timeout" in str(caught.value)
    assert server.request_count == 2


@pytest.mark.parametrize("mode", ["json", "tools"])
def test_garbage_ends_unparseable_with_raw_text_after_the_reasks(
    fake_server: ServerFactory, make_judge: JudgeFactory, mode: str
) -> None:
    server = fake_server(policy=lambda request: GARBAGE)
    judge = make_judge(server, mode=mode, max_reasks=2)
    result = asyncio.run(judge_pair(PAIR, judge))
    for verdict in result.verdicts():
        assert verdict.status == "unparseable"
        assert verdict.winner is None
        assert verdict.raw == GARBAGE_TEXT
        assert verdict.attempts == 3
        assert verdict.error
        assert verdict.tokens_in > 0
    assert server.request_count == 6  # 1 + 2 re-asks, per order
    assert result.label is None and not result.consistent


def test_an_invalid_winner_is_not_turned_into_a_tie(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(policy=always("Response 3"))
    result = asyncio.run(judge_pair(PAIR, make_judge(server, max_reasks=1)))
    assert result.ab.status == "unparseable" and "Response 3" in (result.ab.raw or "")
    assert server.request_count == 4
    assert result.label is None


def test_a_reask_that_succeeds_counts_every_attempt(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(policy=always("second"), script=[GARBAGE])
    verdict = asyncio.run(make_judge(server).judge_order(PAIR, "AB"))
    assert verdict.status == "ok" and verdict.winner == "B"
    assert verdict.attempts == 2
    assert verdict.tokens_in == server.prompt_tokens
    assert verdict.tokens_out == server.completion_tokens


def test_a_failed_order_carries_the_completed_one_as_partial(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    def fail_when_b_first(request: FakeRequest) -> str | int:
        assert request.shown is not None
        return 404 if request.shown.first == "5" else "first"

    server = fake_server(policy=fail_when_b_first)
    judge = make_judge(server)
    with pytest.raises(PermanentProviderError) as caught:
        asyncio.run(judge_pair(PAIR, judge))
    assert set(caught.value.partial) == {(judge.name, "AB")}
    assert caught.value.partial[(judge.name, "AB")].winner == "A"


def test_errors_survive_pickling_with_their_context() -> None:
    verdict = asyncio.run(_replayless_verdict())
    error = TransientProviderError("slow down", status_code=429, partial={("j", "AB"): verdict})
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, TransientProviderError)
    assert str(copy) == "slow down" and copy.status_code == 429
    assert copy.partial == {("j", "AB"): verdict}
    for cls in (JudgeConfigError, PermanentProviderError):
        again = pickle.loads(pickle.dumps(cls("fix it", status_code=401)))
        assert isinstance(again, PermanentJudgeError) and again.status_code == 401


async def _replayless_verdict():  # type: ignore[no-untyped-def]
    from judge.types import OrderVerdict

    return OrderVerdict(order="AB", winner="A", status="ok", prompt_version="v", raw="x")


def test_probabilistic_faults_are_all_absorbed_by_retries(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(
        policy=always("first"), fault_rate=0.2, rate_limit_rate=0.1, retry_after_s=0, seed=7
    )
    judge = make_judge(server, max_retries=8)
    pairs = make_pairs(10)
    results = asyncio.run(_all(pairs, judge))
    assert all(r.ab.status == r.ba.status == "ok" for r in results)
    counts = server.status_counts
    assert counts[200] == 20 and counts[500] + counts[429] > 0


async def _all(pairs, judge):  # type: ignore[no-untyped-def]
    return await asyncio.gather(*(judge_pair(p, judge) for p in pairs))


def test_a_missing_api_key_fails_fast_without_a_request(
    fake_server: ServerFactory, make_judge: JudgeFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server = fake_server(policy=always("first"))
    judge = make_judge(server, api_key=None)
    with pytest.raises(PermanentProviderError) as caught:
        asyncio.run(judge.judge_order(PAIR, "AB"))
    assert "no API key" in str(caught.value) and "REFEREE_API_KEY" in str(caught.value)
    assert caught.value.status_code == 401
    assert server.request_count == 0


def test_one_answer_never_costs_more_calls_than_the_budget_says(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    """Worst case of layers 1-2: every call fails once, then answers garbage, re-ask after re-ask."""
    budget = RetryBudget(http=RetryPolicy(max_retries=1, base_delay_s=0.01), max_reasks=2)
    server = fake_server(policy=lambda request: GARBAGE, script=[500, GARBAGE] * 3)
    judge = make_judge(server, retry=budget, max_retries=None, max_reasks=None)
    verdict = asyncio.run(judge.judge_order(PAIR, "AB"))
    assert verdict.status == "unparseable" and verdict.attempts == 3
    assert server.request_count == budget.calls_per_order() == 6
