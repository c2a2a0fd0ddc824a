"""A live Referee server (uvicorn in a thread, SQLite) and headless Chromium via Playwright.

The browser is Debian's ``/usr/bin/chromium`` (nothing is downloaded), started as
:mod:`tests.browser_launch` starts it: tests skip when it or the ``playwright`` package is
missing, and fail instead under ``REQUIRE_SERVICES=1``.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uvicorn
from numpy.typing import NDArray
from sqlalchemy import Engine

from referee.api.app import create_app
from referee.review import QueueConfig
from referee.settings import Settings
from tests.browser_launch import CHROMIUM, launch_chromium
from tests.conftest import service_missing

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "review"))


class OneHotEmbedder:
    """Orthogonal embeddings: queue order by uncertainty only, no model load."""

    name = "test-onehot"

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        return np.eye(len(texts), dtype=np.float32)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveServer:
    """A running server; ``url`` is its origin (``http://127.0.0.1:PORT``)."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(engine: Engine, **config: Any) -> LiveServer:
    """Serve ``create_app(engine)`` on a free loopback port until :meth:`LiveServer.stop`."""
    settings = Settings(database_url=str(engine.url))
    cfg = QueueConfig(**{"gold_rate": 0.0, **config})
    app = create_app(engine, settings, config=cfg, embedder=OneHotEmbedder())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return LiveServer(f"http://127.0.0.1:{port}", server, thread)


@pytest.fixture
def live_server(sqlite_engine: Engine) -> Iterator[Callable[..., LiveServer]]:
    """``live_server(**queue_config)`` starts a server on the test database; stopped after."""
    started: list[LiveServer] = []

    def start(**config: Any) -> LiveServer:
        live = start_server(sqlite_engine, **config)
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not Path(CHROMIUM).exists():
        service_missing(f"Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("the playwright package")
    with sync_playwright() as pw:
        chromium = launch_chromium(pw)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page_factory(browser: Any) -> Iterator[Callable[..., Any]]:
    """``page_factory(width, height)``: a fresh page in its own context (own sessionStorage)."""
    contexts: list[Any] = []

    def make(width: int = 1280, height: int = 800) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()
