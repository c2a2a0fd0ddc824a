"""A fake OpenAI-compatible chat-completions server: real HTTP on 127.0.0.1, no real model.

It answers ``POST /v1/chat/completions`` (and ``/chat/completions``) the way the request asks:
a tool call when the request has ``tools``, JSON content otherwise (``response_format``), with
``usage`` token counts and, when asked, content ``logprobs``. A *policy* decides the verdict from
what the judge was shown; on demand it answers with garbage, 429 + Retry-After, 500, 401 or
slowly, by script or at seeded random rates. It counts requests overall and per shown pair.

    with FakeOpenAIServer(policy=always("first")) as srv:
        judge = build_judge(parse_judge_spec("openai/gpt-4o-mini", api_base=srv.base_url,
                                             api_key="sk-fake"))
        ...
        assert srv.request_count == 2

As a process (for benchmarks)::

    python -m referee.fakes.openai_server --port 8123 --latency-ms 500 --policy longer

``GET /stats`` returns the counters as JSON; ``POST /reset`` zeroes them.
It is a single asyncio server with keep-alive on its own thread: slow answers (latency) do not
block other requests. This module is the server (lifecycle, counters, routing) and its command
line; by job, the rest is :mod:`~referee.fakes.http_wire` (HTTP on the wire),
:mod:`~referee.fakes.policies` (the verdict), :mod:`~referee.fakes.faults` (which requests fail,
and how) and :mod:`~referee.fakes.completions` (the successful answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from judge.conversation import flat_prompt
from judge.conversation_prompt import parse_conversation_message
from judge.prompts import ShownPair, parse_user_message
from referee.fakes.completions import completion
from referee.fakes.faults import Reply, choose_fault, error_body, fault_reply
from referee.fakes.http_wire import encode_response, read_request
from referee.fakes.policies import (
    GARBAGE,
    GARBAGE_TEXT,
    POLICIES,
    FakeRequest,
    Policy,
    ScriptStep,
    always,
    prefer_containing,
    prefer_longer,
)

_CHAT_PATHS: Final[tuple[str, ...]] = ("/v1/chat/completions", "/chat/completions")


@dataclass
class Stats:
    """Counters; read them through :class:`FakeOpenAIServer` properties."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    per_shown: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    first_request_at: float | None = None  # wall-clock time of the first chat request
    last_answer_at: float | None = None  # wall-clock time the last chat answer was sent


def _shown(content: str) -> ShownPair | None:
    """The pair a judge's user message shows; a conversation's prompt is its flat text."""
    shown = parse_user_message(content)
    if shown is not None:
        return shown
    conversation = parse_conversation_message(content)
    if conversation is None:
        return None
    return ShownPair(flat_prompt(conversation.turns), conversation.first, conversation.second)


class FakeOpenAIServer:
    """The fake server; a context manager that starts it on a free port in a thread."""

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        fault_rate: float = 0.0,
        fault_status: int = 500,
        rate_limit_rate: float = 0.0,
        garbage_rate: float = 0.0,
        retry_after_s: float | None = 1.0,
        script: Sequence[ScriptStep] = (),
        always_status: int | None = None,
        api_key: str | None = None,
        logprob: float = 0.9,
        seed: int = 0,
        record_bodies: bool = False,
    ) -> None:
        self.policy: Policy = policy or always("first")
        # every chat request body as received, when asked (privacy tests read what judges saw)
        self.record_bodies = record_bodies
        self.bodies: list[bytes] = []
        self.host = host
        self.port = port
        self.latency_s = latency_s
        self.fault_rate = fault_rate
        self.fault_status = fault_status
        self.rate_limit_rate = rate_limit_rate
        self.garbage_rate = garbage_rate
        self.retry_after_s = retry_after_s
        self.script: list[ScriptStep] = list(script)
        self.always_status = always_status
        self.api_key = api_key
        self.logprob = logprob
        self._rng = random.Random(seed)
        self._stats = Stats()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The ``api_base`` to give a judge: ``http://127.0.0.1:PORT/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        """Start serving in a background thread; returns once the port is bound."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    asyncio.start_server(self._connection, self.host, self.port, backlog=4096)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="fake-openai-server", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and join the thread."""
        loop, server = self._loop, self._server
        if loop is None or server is None:
            return

        async def shutdown() -> None:
            server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._loop = self._server = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- counters -------------------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """Chat-completion requests received (every status)."""
        return self._stats.requests

    @property
    def status_counts(self) -> Counter[int]:
        """Responses sent, by HTTP status."""
        with self._lock:
            return Counter(self._stats.statuses)

    @property
    def max_in_flight(self) -> int:
        """Most chat requests ever handled at the same time."""
        return self._stats.max_in_flight

    @property
    def prompt_tokens(self) -> int:
        """Sum of ``usage.prompt_tokens`` over successful answers."""
        return self._stats.prompt_tokens

    @property
    def completion_tokens(self) -> int:
        """Sum of ``usage.completion_tokens`` over successful answers."""
        return self._stats.completion_tokens

    def count_for(self, prompt: str, first: str, second: str) -> int:
        """Requests that showed ``first`` as Response 1 and ``second`` as Response 2."""
        with self._lock:
            return self._stats.per_shown[(prompt, first, second)]

    def count_for_pair(self, prompt: str, response_a: str, response_b: str) -> dict[str, int]:
        """Requests per order (``{"AB": n, "BA": m}``) for a pair's text."""
        return {
            "AB": self.count_for(prompt, response_a, response_b),
            "BA": self.count_for(prompt, response_b, response_a),
        }

    def stats(self) -> dict[str, Any]:
        """The counters as a JSON-ready dict."""
        with self._lock:
            return {
                "requests": self._stats.requests,
                "statuses": {str(k): v for k, v in self._stats.statuses.items()},
                "prompt_tokens": self._stats.prompt_tokens,
                "completion_tokens": self._stats.completion_tokens,
                "distinct_shown": len(self._stats.per_shown),
                "max_in_flight": self._stats.max_in_flight,
                "first_request_at": self._stats.first_request_at,
                "last_answer_at": self._stats.last_answer_at,
            }

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._stats = Stats()

    # -- HTTP (the wire format is :mod:`referee.fakes.http_wire`) ---------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                request = await read_request(reader, loop.time)
                if request is None:
                    break
                status, extra, payload, is_chat = await self._route(
                    request.method, request.path, request.headers, request.body
                )
                answer = encode_response(status, extra, payload)
                if is_chat:
                    # the answer is ready; send it `latency_s` after the request arrived, so the
                    # server's own work is inside the latency, as a provider's would be
                    await self._hold(request.arrived + self.latency_s - loop.time())
                writer.write(answer)
                await writer.drain()
                if is_chat:
                    self._stats.last_answer_at = time.time()
                if request.headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _hold(self, delay_s: float) -> None:
        """Wait ``delay_s`` seconds as one of the requests in flight."""
        with self._lock:
            self._stats.in_flight += 1
            self._stats.max_in_flight = max(self._stats.max_in_flight, self._stats.in_flight)
        try:
            await asyncio.sleep(max(0.0, delay_s))
        finally:
            with self._lock:
                self._stats.in_flight -= 1

    async def _route(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], Any, bool]:
        """``(status, extra headers, JSON payload, is a chat completion)``."""
        if method == "GET" and path.rstrip("/") in ("/stats", "/v1/stats"):
            return 200, {}, self.stats(), False
        if method == "POST" and path.rstrip("/") in ("/reset", "/v1/reset"):
            self.reset()
            return 200, {}, {"ok": True}, False
        if method == "GET" and path.rstrip("/") in ("/v1/models", "/models"):
            return 200, {}, {"object": "list", "data": []}, False
        if method != "POST" or path.rstrip("/") not in _CHAT_PATHS:
            return 404, {}, error_body(f"no route {method} {path}", "not_found"), False
        if self.record_bodies:
            with self._lock:
                self.bodies.append(body)
        try:
            parsed = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return 400, {}, error_body("request body is not JSON", "invalid_request_error"), False
        return (*self._chat(parsed, headers), True)

    def _chat(self, body: Mapping[str, Any], headers: Mapping[str, str]) -> Reply:
        messages = body.get("messages") or []
        shown = None
        for message in messages:
            if message.get("role") == "user" and isinstance(message.get("content"), str):
                shown = _shown(message["content"])
                if shown is not None:
                    break
        with self._lock:
            if self._stats.first_request_at is None:
                self._stats.first_request_at = time.time()
            self._stats.requests += 1
            number = self._stats.requests
            if shown is not None:
                self._stats.per_shown[(shown.prompt, shown.first, shown.second)] += 1
            step: ScriptStep | None = self.script.pop(0) if self.script else None
            roll = self._rng.random()
        status, extra, payload = self._decide(body, headers, shown, number, step, roll)
        with self._lock:
            self._stats.statuses[status] += 1
            if status == 200:
                usage = payload["usage"]
                self._stats.prompt_tokens += usage["prompt_tokens"]
                self._stats.completion_tokens += usage["completion_tokens"]
        return status, extra, payload

    def _decide(
        self,
        body: Mapping[str, Any],
        headers: Mapping[str, str],
        shown: ShownPair | None,
        number: int,
        step: ScriptStep | None,
        roll: float,
    ) -> Reply:
        if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, {}, error_body("Incorrect API key provided.", "invalid_api_key")
        forced, garbage = choose_fault(
            step,
            roll,
            always_status=self.always_status,
            rate_limit_rate=self.rate_limit_rate,
            fault_rate=self.fault_rate,
            fault_status=self.fault_status,
            garbage_rate=self.garbage_rate,
        )
        if forced is not None and forced != 200:
            return fault_reply(forced, body, self.retry_after_s)
        answer = GARBAGE if garbage else self.policy(FakeRequest(body, shown, headers, number))
        if isinstance(answer, int):
            return fault_reply(answer, body, self.retry_after_s)
        return 200, {}, completion(body, answer, self.logprob)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the fake server in the foreground until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--policy", choices=sorted(POLICIES), default="longer")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of 500 answers")
    parser.add_argument("--rate-limit-rate", type=float, default=0.0, help="share of 429s")
    parser.add_argument("--garbage-rate", type=float, default=0.0)
    parser.add_argument("--retry-after", type=float, default=1.0, help="Retry-After seconds")
    parser.add_argument("--always-status", type=int, default=None)
    parser.add_argument("--api-key", default=None, help="require this bearer key (else 401)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(
        POLICIES[args.policy],
        host=args.host,
        port=args.port,
        latency_s=args.latency_ms / 1000.0,
        fault_rate=args.fault_rate,
        rate_limit_rate=args.rate_limit_rate,
        garbage_rate=args.garbage_rate,
        retry_after_s=args.retry_after,
        always_status=args.always_status,
        api_key=args.api_key,
        seed=args.seed,
    ).start()
    print(f"fake OpenAI server listening on {server.base_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()


__all__ = [
    "GARBAGE",
    "GARBAGE_TEXT",
    "POLICIES",
    "FakeOpenAIServer",
    "FakeRequest",
    "Policy",
    "always",
    "prefer_containing",
    "prefer_longer",
]
