"""Reliability with real services: PostgreSQL, Redis, `referee worker` processes.

1. SIGKILL a worker three times during a 2,000-pair job: it completes, one judgment per pair and
   order, none lost, none duplicated.
2. A provider failing 20% of calls (429/500) and answering garbage 10% of the time: the job
   completes, every pair judged or failed with a reason, calls within 1.5x the minimum.
3. Redis restarted (its queue lost) mid-job: the job completes, nothing lost.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from referee.db.engine import ensure_schema, make_engine, transaction
from referee.db.models import Judgment
from referee.fakes.openai_server import FakeOpenAIServer, prefer_longer
from referee.jobs import summaries
from referee.jobs.sql_store import SqlJobStore
from tests.workers.conftest import RedisServer, Worker
from tests.workers.seed import seed_dataset, write_replay
from workers.celery_app import make_celery_app
from workers.jobs import start_prelabel, wait_for_job
from workers.runner import CeleryRunner

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]


def pg_engine(url: str) -> Engine:
    engine = make_engine(url)
    ensure_schema(engine)
    return engine


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def judgment_counts(engine: Engine) -> tuple[int, int]:
    """(rows, distinct pair x judge x order)."""
    with transaction(engine) as s:
        rows = s.scalar(select(func.count()).select_from(Judgment)) or 0
        distinct = s.execute(
            select(func.count()).select_from(
                select(Judgment.pair_id, Judgment.judge, Judgment.order).distinct().subquery()
            )
        ).scalar_one()
    return rows, distinct


def test_sigkill_three_times_loses_and_duplicates_nothing(
    pg_url: str, redis_url: str, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    engine = pg_engine(pg_url)
    ids = seed_dataset(engine, "big", 2000)
    replay = write_replay(tmp_path / "j.jsonl", ids)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    runner = CeleryRunner(make_celery_app(redis_url), queue=queue)
    worker = start_worker(pg_url, redis_url, queue, "--chunks", "2")
    job_id = start_prelabel(
        SqlJobStore(engine), dataset="big", judges=[f"replay:{replay}"], runner=runner, chunk_size=20,
        stale_after_s=3.0,
    )  # fmt: skip
    kills = 0
    for threshold in (300, 800, 1300):
        wait_until(
            lambda t=threshold: summaries.summarize_job(engine, job_id).done >= t,
            180,
            f"{threshold} done",
        )
        worker.kill()
        kills += 1
        assert summaries.summarize_job(engine, job_id).pending > 0  # really mid-job
        worker = start_worker(pg_url, redis_url, queue, "--chunks", "2")
    summary = wait_for_job(SqlJobStore(engine), job_id, runner=runner, poll_s=0.2, timeout_s=240)
    assert kills == 3
    assert (summary.status, summary.done, summary.failed) == ("done", 2000, 0)
    assert judgment_counts(engine) == (4000, 4000)
    engine.dispose()


def test_faulty_provider_job_completes_within_call_budget(
    pg_url: str, redis_url: str, start_worker: Callable[..., Worker]
) -> None:
    engine = pg_engine(pg_url)
    n = 300
    seed_dataset(engine, "faulty", n)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    runner = CeleryRunner(make_celery_app(redis_url), queue=queue)
    with FakeOpenAIServer(
        prefer_longer, rate_limit_rate=0.10, fault_rate=0.10, garbage_rate=0.10,
        retry_after_s=0.05, seed=3,
    ) as srv:  # fmt: skip
        start_worker(pg_url, redis_url, queue, "--concurrency", "32", max_retries="6")
        job_id = start_prelabel(
            SqlJobStore(engine), dataset="faulty", judges=["openai/gpt-4o-mini"], api_base=srv.base_url,
            runner=runner, chunk_size=25,
        )  # fmt: skip
        summary = wait_for_job(
            SqlJobStore(engine), job_id, runner=runner, poll_s=0.5, timeout_s=300
        )
        calls = srv.request_count
        statuses = dict(srv.status_counts)
    assert summary.status == ("partial" if summary.failed else "done")
    assert summary.done + summary.failed == n
    full = summaries.summarize_job(engine, job_id, failures=n)
    assert all(f["error"] for f in full.failures)  # every failed pair says why
    rows, distinct = judgment_counts(engine)
    assert rows == distinct >= 2 * summary.done  # no duplicates
    assert statuses.get(429, 0) > 0 and statuses.get(500, 0) > 0
    assert calls <= 1.5 * 2 * n, f"{calls} calls for {2 * n} verdicts"
    with transaction(engine) as s:  # garbage ended as re-asks or kept as unparseable, raw kept
        unparseable = s.scalars(select(Judgment.raw).where(Judgment.status == "unparseable")).all()
    assert all(raw for raw in unparseable)
    engine.dispose()


def test_redis_restart_mid_job_loses_nothing(
    pg_url: str, private_redis: RedisServer, start_worker: Callable[..., Worker], tmp_path: Path
) -> None:
    engine = pg_engine(pg_url)
    ids = seed_dataset(engine, "restart", 1000)
    replay = write_replay(tmp_path / "j.jsonl", ids)
    queue = "referee"
    runner = CeleryRunner(make_celery_app(private_redis.url), queue=queue)
    start_worker(pg_url, private_redis.url, queue, "--chunks", "2")
    job_id = start_prelabel(
        SqlJobStore(engine), dataset="restart", judges=[f"replay:{replay}"], runner=runner, chunk_size=10,
        stale_after_s=3.0,
    )  # fmt: skip
    wait_until(lambda: summaries.summarize_job(engine, job_id).done >= 150, 180, "150 done")
    private_redis.stop()  # every queued chunk is gone with it (no persistence)
    time.sleep(2.0)
    assert summaries.summarize_job(engine, job_id).pending > 0
    private_redis.start()
    # the workers' sweepers re-arm it, and so does this waiting client (as `prelabel --wait` does)
    summary = wait_for_job(SqlJobStore(engine), job_id, runner=runner, poll_s=0.2, timeout_s=240)
    assert (summary.status, summary.done, summary.failed) == ("done", 1000, 0)
    assert judgment_counts(engine) == (2000, 2000)
    engine.dispose()
