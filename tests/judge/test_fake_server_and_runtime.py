"""The fake server as a subprocess, and running judges from synchronous code."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx

from judge.pipeline import judge_pair
from judge.prompts import build_messages
from judge.rubric import DEFAULT_RUBRIC
from judge.runtime import LoopThread, run_blocking
from referee.fakes.openai_server import always
from tests.judge.conftest import JudgeFactory, ServerFactory
from tests.judge.support import make_pairs


def test_fake_server_runs_as_a_process_and_answers_json_or_tools() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "referee.fakes.openai_server", "--port", "0", "--policy", "second"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base = line.strip().rsplit(" ", 1)[-1]
        assert base.startswith("http://127.0.0.1:")
        messages = build_messages(DEFAULT_RUBRIC, "q", "a", "b")
        as_json = httpx.post(
            f"{base}/chat/completions",
            json={"model": "m", "messages": messages, "response_format": {"type": "json_object"}},
        ).json()
        assert '"winner": "second"' in as_json["choices"][0]["message"]["content"]
        tool = {"type": "function", "function": {"name": "JudgeVerdict", "parameters": {}}}
        as_tool = httpx.post(
            f"{base}/chat/completions", json={"model": "m", "messages": messages, "tools": [tool]}
        ).json()
        call = as_tool["choices"][0]["message"]["tool_calls"][0]["function"]
        assert call["name"] == "JudgeVerdict" and '"second"' in call["arguments"]
        stats = httpx.get(base.removesuffix("/v1") + "/stats").json()
        assert stats["requests"] == 2 and stats["distinct_shown"] == 1
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_judges_run_from_sync_code_on_the_shared_loop_and_across_loops(
    fake_server: ServerFactory, make_judge: JudgeFactory
) -> None:
    server = fake_server(policy=always("first"))
    judge = make_judge(server, concurrency=2)
    first, second = make_pairs(2)
    assert run_blocking(judge_pair(first, judge)).ab.winner == "A"
    assert run_blocking(judge_pair(second, judge)).ba.winner == "B"
    # the same judge on a brand-new loop (asyncio.run per Celery task) and on another thread
    assert asyncio.run(judge_pair(first, judge)).ab.status == "ok"
    other = LoopThread("other")
    try:
        assert other.run(judge_pair(second, judge)).ab.status == "ok"
    finally:
        other.close()
    assert server.request_count == 8
