"""``/v1/next`` under concurrent reviewers with N routed pairs (issue 24), on a live server.

Usage::

    .venv/bin/python bench/next_latency.py --pairs 20000 --reviewers 20 --items 10
    .venv/bin/python bench/next_latency.py --database-url postgresql+psycopg://127.0.0.1:5432/x

Set-up: a fresh PostgreSQL database (created beside ``--admin-url``'s and dropped afterwards,
unless ``--database-url`` names one) gets N pairs in one dataset, routed as ``referee route``
stores them (``--review-share`` of them to ``human_review``, the rest ``auto_accept``), written
with bulk inserts; ``--reviewers`` reviewers are added with their tokens.

Then ``referee serve --embedder tfidf --gold-rate 0`` starts as a subprocess (uvicorn, one
process; it builds the review queue before listening, and that time is printed) and the
reviewers work at once from this process over HTTP (``httpx.AsyncClient``, one connection
each): each asks ``GET /v1/next`` and answers the item, ``--items`` times. Printed: the
latency of every ``/v1/next`` (client-side, loopback) as p50, p95 and max, and the requests
per second of the whole run. The server and the client share this machine's CPUs.

Then, with the server stopped, each reviewer leases and answers ``--direct-items`` more items
in this process, one reviewer after the other: the time of each ``lease_next`` transaction
(p50, p95, max) is what one request costs the server with nobody queued in front of it. On a
shared, loaded machine the concurrent figures mostly measure waiting for a CPU; the load
average is printed with them.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import insert, select, text

from referee.db.engine import ensure_schema, make_engine, transaction
from referee.db.models import Dataset, DatasetMember, Pair, Policy, Reviewer, RoutingDecision
from referee.review.tokens import add_reviewer

DATASET = "scale"
ADMIN_URL = "postgresql+psycopg://127.0.0.1:5432/test"


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database beside ``admin_url``'s, dropped afterwards."""
    admin = make_engine(admin_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"referee_next_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def populate(url: str, n: int, review_share: float, reviewers: int) -> list[str]:
    """N routed pairs and the reviewers' tokens."""
    engine = make_engine(url)
    ensure_schema(engine)
    every = max(1, round(1 / review_share)) if review_share > 0 else n + 1
    with transaction(engine) as s:
        ds = Dataset(name=DATASET)
        s.add(ds)
        s.flush()
        policy = Policy(dataset_id=ds.id, version=1, body={"target_agreement": 0.85})
        s.add(policy)
        s.flush()
        for start in range(0, n, 5_000):
            ids = [f"p{i:08d}" for i in range(start, min(n, start + 5_000))]
            s.execute(insert(Pair), [_pair(ds.id, pid, i) for i, pid in enumerate(ids, start)])
            s.execute(
                insert(RoutingDecision),
                [_decision(pid, policy.id, i, every) for i, pid in enumerate(ids, start)],
            )
        tokens = []
        for r in range(reviewers):
            reviewer, token = add_reviewer(s, f"rev{r:02d}")
            s.add(DatasetMember(reviewer_id=reviewer.id, dataset_id=ds.id))
            tokens.append(token)
    engine.dispose()
    return tokens


def _pair(dataset_id: int, pid: str, i: int) -> dict[str, object]:
    topic = ("sorting", "cooking", "physics", "tax law", "guitar", "running", "rust")[i % 7]
    return {
        "id": pid,
        "dataset_id": dataset_id,
        "prompt": f"Question {i} about {topic}: explain {topic} briefly.",
        "response_a": f"Answer A on {topic}, variant {i % 13}.",
        "response_b": f"Answer B on {topic}, variant {i % 17}.",
        "meta": {},
        "content_hash": hashlib.sha256(pid.encode()).hexdigest(),
    }


def _decision(pid: str, policy_id: int, i: int, every: int) -> dict[str, object]:
    review = i % every == 0
    return {
        "pair_id": pid,
        "policy_id": policy_id,
        "decision": "human_review" if review else "auto_accept",
        "label": None if review else "A",
        "source": "human" if review else "ai",
        "reasons": ["low_confidence"] if review else [],
        "confidence": 0.3 + 0.6 * ((i * 37) % 100) / 100 if review else 0.97,
        "current": True,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(url: str, log: Path) -> Iterator[tuple[str, float]]:
    """``referee serve`` on a free port; yields its base URL and its start-up seconds."""
    port = free_port()
    env = {**os.environ, "REFEREE_DATABASE_URL": url, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    cmd = [sys.executable, "-m", "referee.cli.main", "serve", "--port", str(port),
           "--embedder", "tfidf", "--gold-rate", "0"]  # fmt: skip
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"referee serve exited {proc.returncode}: {log.read_text()}")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}", time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def reviewer(base: str, token: str, items: int, latencies: list[float]) -> int:
    """Lease and answer ``items`` items; each ``/v1/next`` time goes into ``latencies``."""
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        for _ in range(items):
            started = time.perf_counter()
            got = await client.get("/v1/next", params={"dataset": DATASET})
            latencies.append(time.perf_counter() - started)
            if got.status_code == 204:
                break
            got.raise_for_status()
            pair_id = got.json()["pair_id"]
            answer = await client.post(f"/v1/items/{pair_id}/label", json={"label": "A"})
            answer.raise_for_status()
            done += 1
    return done


async def run_reviewers(base: str, tokens: list[str], items: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    started = time.perf_counter()
    done = await asyncio.gather(*(reviewer(base, t, items, latencies) for t in tokens))
    return latencies, sum(done), time.perf_counter() - started


def direct_latency(url: str, reviewers: int, items: int) -> list[float]:
    """Seconds of each ``lease_next`` (its transaction included) run in this process, one
    reviewer after the other with nobody else leasing: the server-side cost of one request,
    without HTTP and without waiting behind the other reviewers' requests on a busy CPU."""
    from referee.review import LabelSubmission, QueueConfig, lease_next, submit_label
    from routing.embeddings import TfidfEmbedder

    engine = make_engine(url)
    config = QueueConfig(gold_rate=0.0)
    times: list[float] = []
    with transaction(engine) as s:
        people = list(s.scalars(select(Reviewer).where(Reviewer.name.like("rev%"))))
    for person in people[:reviewers]:
        for _ in range(items):
            started = time.perf_counter()
            with transaction(engine) as s:
                got = lease_next(s, DATASET, person, config, embedder=TfidfEmbedder())
            times.append(time.perf_counter() - started)
            if got is None:
                break
            with transaction(engine) as s:
                submit_label(s, got.item.pair_id, person, LabelSubmission("A"))
    engine.dispose()
    return times


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0-100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, default=20_000)
    parser.add_argument("--review-share", type=float, default=0.2)
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--items", type=int, default=10, help="items each reviewer answers")
    parser.add_argument("--direct-items", type=int, default=5,
                        help="then leases per reviewer timed in-process, one at a time")  # fmt: skip
    parser.add_argument("--database-url", default=None, help="an empty PostgreSQL database")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    ns = parser.parse_args(argv)
    database = fresh_database(ns.admin_url) if ns.database_url is None else _given(ns)
    with tempfile.TemporaryDirectory(prefix="referee-next-") as tmp, database as url:
        started = time.perf_counter()
        tokens = populate(url, ns.pairs, ns.review_share, ns.reviewers)
        setup = time.perf_counter() - started
        with server(url, Path(tmp) / "serve.log") as (base, startup):
            latencies, done, wall = asyncio.run(run_reviewers(base, tokens, ns.items))
        direct = [v * 1000 for v in direct_latency(url, ns.reviewers, ns.direct_items)]
    ms = [v * 1000 for v in latencies]
    print(f"{ns.pairs:,} pairs routed on PostgreSQL, {round(ns.pairs * ns.review_share):,} "
          f"to human review; {ns.reviewers} reviewers at once, live `referee serve` (uvicorn)")  # fmt: skip
    print(f"set-up (bulk inserts) {setup:.1f} s; server start with queue build {startup:.1f} s")
    print("| requests | answered | p50 ms | p95 ms | max ms | requests/s |")
    print("|---------:|---------:|-------:|-------:|-------:|-----------:|")
    print(f"| {len(ms):>8} | {done:>8} | {percentile(ms, 50):>6.1f} | {percentile(ms, 95):>6.1f} "
          f"| {max(ms):>6.1f} | {2 * len(ms) / wall:>10.1f} |")  # fmt: skip
    if direct:
        print(f"in-process lease_next, one at a time ({len(direct)} leases by the same reviewers): "
              f"p50 {percentile(direct, 50):.1f} ms, p95 {percentile(direct, 95):.1f} ms, "
              f"max {max(direct):.1f} ms")  # fmt: skip
    print(f"machine load average (1 min) at the end: {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")  # fmt: skip


@contextmanager
def _given(ns: argparse.Namespace) -> Iterator[str]:
    yield str(ns.database_url)


if __name__ == "__main__":
    main()
