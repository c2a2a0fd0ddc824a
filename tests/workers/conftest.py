"""Fixtures of the workers' tests: databases with a seeded dataset, worker processes, a private
redis-server, and the fake OpenAI-compatible server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from judge.setup import configure_litellm
from tests.conftest import port_open, service_missing

configure_litellm()  # what the entry points do before they build judges

PYTHON = sys.executable
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A private, non-persistent redis-server on a free port (restartable)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis(redis_url: str) -> Iterator[RedisServer]:
    """A redis-server of our own (so restarting it disturbs nobody)."""
    del redis_url  # skip/fail exactly like the shared Redis fixture
    if shutil.which("redis-server") is None:
        service_missing("redis-server binary")
    server = RedisServer()
    server.start()
    yield server
    server.stop()


class Worker:
    """A `referee worker` subprocess; kill it hard or stop it."""

    def __init__(self, env: dict[str, str], queue: str, log: Path, *extra: str) -> None:
        self.env = env
        self.queue = queue
        self.log = log
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        args = [
            PYTHON, "-m", "referee.cli.main", "worker", "--queues", self.queue,
            "--loglevel", "WARNING", "--sweep-every", "0.5",
            "--hostname", f"w{uuid.uuid4().hex[:6]}@%h", *self.extra,
        ]  # fmt: skip
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                args, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO,
                start_new_session=True,
            )  # fmt: skip
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[object]:
    """``start_worker(db_url, broker_url, queue, *extra_args, api_key=...)`` -> Worker."""
    started: list[Worker] = []

    def start(db_url: str, broker_url: str, queue: str, *extra: str, **env: str) -> Worker:
        full = {
            **os.environ,
            "REFEREE_DATABASE_URL": db_url,
            "REFEREE_BROKER_URL": broker_url,
            "REFEREE_API_KEY": "sk-fake",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            **{f"REFEREE_{k.upper()}": v for k, v in env.items()},
        }
        worker = Worker(full, queue, tmp_path / f"worker-{len(started)}.log", *extra).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
