"""The body limit and authentication come before the body: refused requests are not read.

Two levels: the guard itself, fed chunks by a counting ``receive`` (how many it consumed), and
a live uvicorn on 127.0.0.1 sent a 256 MB body in chunks, with and without a token, whose
resident memory must not grow by anything near the body's size.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from review_factory import make_reviewer, make_routed_dataset
from sqlalchemy import Engine
from test_api_review import auth, client_for

from referee.api.guard import RequestGuard

CHUNK = 64 * 1024


class Feed:
    """A ``receive`` that hands out ``chunks`` chunks of 64 KiB and counts what was taken."""

    def __init__(self, chunks: int) -> None:
        self.left = chunks
        self.taken = 0

    async def __call__(self) -> dict[str, Any]:
        self.taken += 1
        self.left -= 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": self.left > 0}


def run_guard(guard: RequestGuard, headers: list[tuple[bytes, bytes]], feed: Feed) -> list[Any]:
    sent: list[Any] = []
    scope = {"type": "http", "method": "POST", "path": "/v1/items/p/label", "headers": headers}

    async def send(message: Any) -> None:
        sent.append(message)

    with ThreadPoolExecutor(1) as pool:  # its own thread: no event loop may be running there
        pool.submit(asyncio.run, guard(scope, feed, send)).result()
    return sent


async def never_called(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("the application must not run")


def test_no_token_no_read(sqlite_engine: Engine) -> None:
    guard = RequestGuard(never_called, sqlite_engine, max_body_bytes=1 << 20)
    feed = Feed(10_000)
    chunked = [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")]
    for headers in (chunked, [*chunked, (b"authorization", b"Bearer rvw_wrong")]):
        sent = run_guard(guard, headers, feed)
        assert sent[0]["status"] == 401
    assert feed.taken == 0


def test_declared_length_over_the_limit_is_413_unread(sqlite_engine: Engine) -> None:
    make_routed_dataset(sqlite_engine, n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    guard = RequestGuard(never_called, sqlite_engine, max_body_bytes=1 << 20)
    feed = Feed(10_000)
    headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", str(400 << 20).encode()),
    ]
    assert run_guard(guard, headers, feed)[0]["status"] == 413
    assert feed.taken == 0


def test_chunked_body_stops_being_read_at_the_limit(sqlite_engine: Engine) -> None:
    make_routed_dataset(sqlite_engine, n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    guard = RequestGuard(never_called, sqlite_engine, max_body_bytes=1 << 20)
    feed = Feed(10_000)  # 625 MiB on offer
    headers = [
        (b"authorization", f"Bearer {token}".encode()),
        (b"content-type", b"application/json"),
        (b"transfer-encoding", b"chunked"),
    ]
    sent = run_guard(guard, headers, feed)
    assert sent[0]["status"] == 413
    assert feed.taken == (1 << 20) // CHUNK + 1  # the limit and one chunk past it, no more


def test_limit_is_a_setting(sqlite_engine: Engine) -> None:
    from fastapi.testclient import TestClient

    from referee.api.app import create_app
    from referee.settings import Settings, load_settings

    routed = make_routed_dataset(sqlite_engine, n_review=1)
    _, token = make_reviewer(sqlite_engine, "ann")
    settings = Settings(database_url=str(sqlite_engine.url), max_body_bytes=2048)
    client = TestClient(create_app(sqlite_engine, settings))
    pair = client.get("/v1/next", params={"dataset": routed.name}, headers=auth(token)).json()
    body = {"label": "A", "rationale": "r" * 4000}
    resp = client.post(f"/v1/items/{pair['pair_id']}/label", headers=auth(token), json=body)
    assert resp.status_code == 413 and "REFEREE_MAX_BODY_BYTES" in resp.json()["detail"]
    default = client_for(sqlite_engine)
    ok = default.post(f"/v1/items/{pair['pair_id']}/label", headers=auth(token), json=body)
    assert ok.status_code == 200, ok.text
    assert load_settings(max_body_bytes="8192").max_body_bytes == 8192


SERVER = """
import sys
import uvicorn
from referee.api.app import create_app
from referee.db.engine import make_engine, ensure_schema, transaction
from referee.review.tokens import add_reviewer
from referee.settings import Settings

url, port, token_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
engine = make_engine(url)
ensure_schema(engine)
with transaction(engine) as s:
    _, token = add_reviewer(s, "ann")
open(token_file, "w").write(token)
uvicorn.run(create_app(engine, Settings(database_url=url)), host="127.0.0.1", port=port,
            log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def send_big_body(port: int, token: str | None, total: int) -> tuple[int, int]:
    """POST ``total`` bytes chunked; (status answered, bytes the server let us send)."""
    head = [
        "POST /v1/items/p/label HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
    ]
    if token:
        head.append(f"Authorization: Bearer {token}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    piece = b"%x\r\n" % (1 << 20) + b" " * (1 << 20) + b"\r\n"
    sent = 0
    try:
        while sent < total:
            sock.sendall(piece)
            sent += 1 << 20
    except OSError:
        pass  # the server answered and closed: it will not read the rest
    reply = b""
    try:
        while b"\r\n" not in reply:
            more = sock.recv(4096)
            if not more:
                break
            reply += more
    except OSError:
        pass
    sock.close()
    status = int(reply.split(b" ")[1]) if reply.startswith(b"HTTP/") else 0
    return status, sent


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc for RSS")
def test_live_server_memory_stays_flat_under_a_256_mb_body(tmp_path: Path) -> None:
    port = free_port()
    token_file = tmp_path / "token"
    script = tmp_path / "serve.py"
    script.write_text(SERVER)
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    proc = subprocess.Popen(
        [sys.executable, str(script), url, str(port), str(token_file)],
        env={"LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": "/usr/bin:/bin"},
    )
    try:
        for _ in range(300):
            if token_file.exists() and token_file.read_text():
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    pass
            time.sleep(0.1)
        token = token_file.read_text()
        before = rss_kib(proc.pid)
        for who, expected in ((None, 401), (token, 413)):
            status, sent = send_big_body(port, who, 256 << 20)
            assert status == expected
            assert sent < 256 << 20  # the server closed the connection instead of reading on
        growth_mib = (rss_kib(proc.pid) - before) / 1024
        assert growth_mib < 64, f"server grew by {growth_mib:.0f} MiB for a 256 MiB body"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
