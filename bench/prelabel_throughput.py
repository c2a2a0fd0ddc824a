"""Pre-labeling throughput: the full pipeline against a bare asyncio loop, on a fake provider.

(a) bare: one asyncio loop of litellm + instructor calls (both orders of each pair), at
    ``--concurrency`` concurrent calls -- the ceiling our stack allows;
(b) pipeline: ``referee worker`` x ``--workers`` processes (Celery over Redis, PostgreSQL), the
    job created and enqueued as ``referee prelabel`` does; each worker gets concurrency / workers
    calls so the total matches (a).
Prints pairs/s for both, their ratio, and the ideal rate concurrency / latency (in calls/s,
i.e. half that in pairs/s since each pair is two calls); and the client CPU per call of each
path (process CPU of the bare loop; CPU of the worker processes, from /proc, for the pipeline),
with the machine's load average, since other work on the machine slows both; and the pipeline's
phases by the fake server's clock (enqueue to its first request, the time it was busy, its last
answer to the job marked done), which tell start-up and tail costs from steady throughput.
The bare loop calls ``litellm.acompletion`` through ``instructor.from_litellm``; the pipeline's
judges take the direct OpenAI-compatible route litellm builds for them (:mod:`judge.openai_http`),
as every ``openai/...`` judge does unless its spec says ``transport=litellm``.

    .venv/bin/python bench/prelabel_throughput.py --pairs 400 --latency-ms 0 --concurrency 32
    .venv/bin/python bench/prelabel_throughput.py --pairs 3000 --latency-ms 500 --concurrency 128
Needs PostgreSQL (``--pg``) and Redis (``--redis``).
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import argparse
import asyncio
import hashlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import instructor
import litellm
from sqlalchemy import text

from judge.prompts import build_messages
from judge.rubric import DEFAULT_RUBRIC
from judge.schema import JudgeVerdict
from judge.setup import configure_litellm
from referee.db.engine import ensure_schema, make_engine, transaction
from referee.db.models import Dataset, Pair
from referee.jobs.sql_store import SqlJobStore
from workers.celery_app import make_celery_app
from workers.jobs import DEFAULT_CHUNK_SIZE, start_prelabel, wait_for_job
from workers.runner import CeleryRunner

REPO = Path(__file__).resolve().parent.parent


def pair_texts(i: int) -> tuple[str, str, str]:
    return (f"Question {i}: what is {i} + {i}?", f"The answer is {2 * i}.", f"It is {2 * i + 1}.")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc; 0 elsewhere."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bare_loop(base: str, pairs: int, concurrency: int) -> tuple[float, float]:
    """Seconds and process CPU seconds for ``pairs`` x 2 structured calls (litellm+instructor)."""
    # typed as Any: instructor's stubs do not model an async litellm-style create function
    client: Any = instructor.from_litellm(litellm.acompletion, mode=instructor.Mode.JSON)
    sem = asyncio.Semaphore(concurrency)

    async def call(i: int, order: str) -> None:
        prompt, a, b = pair_texts(i)
        first, second = (a, b) if order == "AB" else (b, a)
        async with sem:
            await client.chat.completions.create(
                model="openai/gpt-4o-mini", api_base=base, api_key="sk-fake",
                response_model=JudgeVerdict, max_retries=0,
                messages=build_messages(DEFAULT_RUBRIC, prompt, first, second),
            )  # fmt: skip

    await asyncio.gather(*(call(i, o) for i in range(min(pairs, 20)) for o in ("AB", "BA")))
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(call(i, o) for i in range(pairs) for o in ("AB", "BA")))
    return time.perf_counter() - started, time.process_time() - cpu


def server_call(base: str, method: str, path: str) -> Any:
    """The fake server's JSON answer to ``METHOD base/path`` (its counters: stats, reset)."""
    request = urllib.request.Request(
        f"{base}/{path}", method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def seed(url: str, name: str, pairs: int) -> None:
    engine = make_engine(url)
    ensure_schema(engine)
    with transaction(engine) as session:
        ds = Dataset(name=name)
        session.add(ds)
        session.flush()
        for i in range(pairs):
            prompt, a, b = pair_texts(i)
            pid = f"{name}-{i:06d}"
            session.add(Pair(id=pid, dataset_id=ds.id, prompt=prompt, response_a=a, response_b=b,
                             meta={}, content_hash=hashlib.sha256(pid.encode()).hexdigest()))  # fmt: skip
    engine.dispose()


def pipeline(args: argparse.Namespace, base: str, db_url: str) -> tuple[float, float]:
    """Seconds from enqueue to the job's last pair (workers already warm), and the workers' CPU."""
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "REFEREE_DATABASE_URL": db_url, "REFEREE_BROKER_URL": args.redis,
           "REFEREE_API_KEY": "sk-fake"}  # fmt: skip
    per_worker = max(1, args.concurrency // args.workers)
    # The schema first: workers starting together on an empty database race to create it.
    schema = make_engine(db_url)
    ensure_schema(schema)
    schema.dispose()
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "referee.cli.main",
                "worker",
                "--queues",
                queue,
                "--concurrency",
                str(per_worker),
                "--chunks",
                str(args.chunks),
                "--loglevel",
                "WARNING",
                "--hostname",
                f"bench{k}-{queue}@%h",
            ],
            env=env,
            cwd=REPO,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for k in range(args.workers)
    ]
    engine = make_engine(db_url)
    runner = CeleryRunner(make_celery_app(args.redis), queue=queue)
    try:
        # Warm every worker before timing: wait until each answers a ping (imports done), then
        # give each of its chunk threads a small chunk, so every worker has built its judge and
        # opened its HTTP and database connections.
        app = runner.app
        names = {f"bench{k}-{queue}@{socket.gethostname()}" for k in range(args.workers)}
        deadline = time.monotonic() + 120
        while True:
            if any(proc.poll() is not None for proc in workers):
                raise SystemExit("a worker exited during start-up; run it by hand to see why")
            replies = app.control.ping(destination=sorted(names), timeout=1.0) or []
            if {name for reply in replies for name in reply} >= names:
                break
            if time.monotonic() > deadline:
                raise SystemExit("workers did not answer a ping within 120 s")
        warm_chunks = args.workers * args.chunks
        seed(db_url, "warm", 4 * warm_chunks)
        warm = start_prelabel(SqlJobStore(engine), dataset="warm", judges=["openai/gpt-4o-mini"],
                              api_base=base, runner=runner, chunk_size=4,
                              concurrency=per_worker)  # fmt: skip
        wait_for_job(SqlJobStore(engine), warm, poll_s=0.2, timeout_s=300)
        time.sleep(1.0)  # let the last warm chunks' acks and result writes settle
        seed(db_url, "bench", args.pairs)
        server_call(base, "POST", "reset")
        cpu = sum(process_cpu_s(proc.pid) for proc in workers)
        started, started_wall = time.perf_counter(), time.time()
        job = start_prelabel(SqlJobStore(engine), dataset="bench", judges=["openai/gpt-4o-mini"], api_base=base,
                             runner=runner, chunk_size=args.chunk_size,
                             concurrency=per_worker)  # fmt: skip
        summary = wait_for_job(SqlJobStore(engine), job, poll_s=0.05, timeout_s=1800)
        elapsed = time.perf_counter() - started
        cpu = sum(process_cpu_s(proc.pid) for proc in workers) - cpu
        if summary.done != args.pairs:
            print(f"warning: pipeline finished {summary.done}/{args.pairs} ({summary.status})")
        stats = server_call(base, "GET", "stats")
        first, last = stats["first_request_at"], stats["last_answer_at"]
        print(f"pipeline phases: enqueue to first provider request {first - started_wall:.2f} s, "
              f"provider busy {last - first:.2f} s, last answer to job done "
              f"{started_wall + elapsed - last:.2f} s")  # fmt: skip
        return elapsed, cpu
    finally:
        for proc in workers:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in workers:
            proc.wait(30)
        engine.dispose()


def main() -> None:
    configure_litellm()  # litellm set up for both paths as our judges' entry points do
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunks", type=int, default=4, help="chunks in flight per worker")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--garbage-rate", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-m", "referee.fakes.openai_server", "--port", str(args.port),
         "--latency-ms", str(args.latency_ms), "--fault-rate", str(args.fault_rate),
         "--garbage-rate", str(args.garbage_rate), "--policy", "longer"],
        stdout=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    assert server.stdout is not None
    server.stdout.readline()
    base = f"http://127.0.0.1:{args.port}/v1"
    admin = make_engine(args.pg).execution_options(isolation_level="AUTOCOMMIT")
    db = f"referee_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))
    db_url = f"{args.pg.rsplit('/', 1)[0]}/{db}"
    load_before = os.getloadavg()
    try:
        bare_s, bare_cpu = asyncio.run(bare_loop(base, args.pairs, args.concurrency))
        pipe_s, pipe_cpu = pipeline(args, base, db_url)
    finally:
        server.terminate()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    bare_rate, pipe_rate = args.pairs / bare_s, args.pairs / pipe_s
    print(f"pairs={args.pairs} latency={args.latency_ms:.0f}ms concurrency={args.concurrency} "
          f"workers={args.workers}")  # fmt: skip
    print(
        f"bare asyncio litellm+instructor: {bare_rate:8.1f} pairs/s ({2 * bare_rate:.1f} calls/s)"
    )
    print(
        f"pipeline (Celery+Redis+PG):      {pipe_rate:8.1f} pairs/s ({2 * pipe_rate:.1f} calls/s)"
    )
    print(f"pipeline / bare:                 {pipe_rate / bare_rate:8.2f}")
    calls = 2 * args.pairs
    print(f"client CPU per call: bare {1000 * bare_cpu / calls:.2f} ms, pipeline workers "
          f"{1000 * pipe_cpu / calls:.2f} ms (judge + Celery + PostgreSQL client)")  # fmt: skip
    load_after = os.getloadavg()
    print(f"load average (1 min) before {load_before[0]:.2f}, after {load_after[0]:.2f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    if args.latency_ms > 0:
        ideal = args.concurrency / (args.latency_ms / 1000.0) / 2
        print(f"ideal (concurrency/latency):     {ideal:8.1f} pairs/s")
        print(f"pipeline / ideal:                {pipe_rate / ideal:8.2f}")
        print(f"bare / ideal:                    {bare_rate / ideal:8.2f}")


if __name__ == "__main__":
    main()
