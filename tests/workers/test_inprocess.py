"""The job path in-process on SQLite: chunking, idempotence, failures, cancel, resume, CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from judge.retry import RetryBudget, RetryPolicy
from referee.db.engine import transaction
from referee.db.models import Job, JobItem, Judgment, Pair
from referee.fakes.openai_server import FakeOpenAIServer, prefer_longer
from referee.jobs import store, summaries
from referee.jobs.sql_store import SqlJobStore
from tests.helpers import run_cli
from tests.workers.seed import seed_dataset, write_replay
from workers.chunk import process_chunk
from workers.context import WorkerConfig, WorkerContext
from workers.errors import JobStateError, UnknownDatasetError
from workers.jobs import resume_prelabel, run_prelabel, start_prelabel, wait_for_job
from workers.runner import InProcessRunner

MODEL = "openai/gpt-4o-mini"


@pytest.fixture
def ctx(sqlite_engine: Engine, sqlite_url: str) -> Iterator[WorkerContext]:
    config = WorkerConfig(
        database_url=sqlite_url,
        api_key="sk-fake",
        retry=RetryBudget(http=RetryPolicy(max_retries=1, base_delay_s=0.01)),
    )
    context = WorkerContext(config, SqlJobStore(sqlite_engine))
    yield context
    context.close()


def judgment_keys(engine: Engine) -> list[tuple[str, str, str]]:
    with transaction(engine) as s:
        return [
            tuple(r) for r in s.execute(select(Judgment.pair_id, Judgment.judge, Judgment.order))
        ]


def test_replay_job_judges_every_pair_both_orders(ctx: WorkerContext, tmp_path: Path) -> None:
    engine = ctx.store.engine
    ids = seed_dataset(engine, "toy", 37, frozen_every=5)
    replay = write_replay(tmp_path / "j.jsonl", ids)
    seen: list[int] = []
    summary = run_prelabel(
        SqlJobStore(engine), dataset="toy", judges=[f"replay:{replay}"], runner=InProcessRunner(ctx),
        chunk_size=8, poll_s=0.05, progress_callback=lambda s: seen.append(s.done),
    )  # fmt: skip
    assert (summary.status, summary.done, summary.failed, summary.pending) == ("done", 37, 0, 0)
    keys = judgment_keys(engine)
    assert sorted(keys) == sorted((p, "recorded-judge", o) for p in ids for o in ("AB", "BA"))
    assert seen and seen[-1] == 37 and seen == sorted(seen)
    with transaction(engine) as s:  # frozen-eval pairs are pre-labeled like the others
        frozen = s.scalars(select(Pair.id).where(Pair.frozen_eval)).all()
    assert frozen and {p for p, _, _ in keys} >= set(frozen)


def test_one_failing_pair_never_fails_its_chunk(ctx: WorkerContext, tmp_path: Path) -> None:
    ids = seed_dataset(ctx.store.engine, "toy", 10)
    replay = write_replay(tmp_path / "j.jsonl", ids[:7])  # three pairs unknown to the replay
    summary = run_prelabel(
        ctx.store, dataset="toy", judges=[f"replay:{replay}"], runner=InProcessRunner(ctx),
        chunk_size=10, poll_s=0.05,
    )  # fmt: skip
    assert (summary.status, summary.done, summary.failed) == ("partial", 7, 3)
    assert {f["pair_id"] for f in summary.failures} == set(ids[7:])
    assert all("no recorded verdict" in f["error"] for f in summary.failures)


def test_redelivered_chunk_duplicates_nothing_and_pays_nothing(ctx: WorkerContext) -> None:
    ids = seed_dataset(ctx.store.engine, "toy", 6)
    with FakeOpenAIServer(prefer_longer) as srv:
        job_id, stream, at = store.create_job(
            ctx.store.engine, "toy", {"judges": [MODEL], "api_base": srv.base_url}
        )
        pair_ids = list(stream)
        first = process_chunk(ctx, job_id, pair_ids, at)
        again = process_chunk(ctx, job_id, pair_ids, at)  # the broker delivered it twice
        assert (first.done, again.claimed) == (6, 0)
        assert srv.request_count == 12
        # a new job over the same pairs reuses every stored verdict: zero provider calls
        summary = run_prelabel(
            ctx.store, dataset="toy", judges=[MODEL], api_base=srv.base_url,
            runner=InProcessRunner(ctx), poll_s=0.05,
        )  # fmt: skip
        assert summary.done == 6 and srv.request_count == 12
    assert len(judgment_keys(ctx.store.engine)) == len(set(judgment_keys(ctx.store.engine))) == 12
    assert ids == pair_ids


def test_stale_claims_are_taken_over_fresh_ones_are_not(ctx: WorkerContext) -> None:
    seed_dataset(ctx.store.engine, "toy", 4)
    job_id, stream, at = store.create_job(ctx.store.engine, "toy", {"judges": []})
    ids = list(stream)
    got = store.claim_items(
        ctx.store.engine, job_id, ids, enqueued_at=at, stale_after_s=60, max_attempts=2
    )
    assert got == ids
    assert (
        store.claim_items(
            ctx.store.engine, job_id, ids, enqueued_at=at, stale_after_s=60, max_attempts=2
        )
        == []
    )
    with transaction(ctx.store.engine) as s:  # the holder died two minutes ago
        s.execute(update(JobItem).values(updated_at=store.utcnow() - timedelta(seconds=120)))
    assert (
        store.claim_items(
            ctx.store.engine, job_id, ids, enqueued_at=at, stale_after_s=60, max_attempts=2
        )
        == ids
    )
    with transaction(ctx.store.engine) as s:
        s.execute(update(JobItem).values(updated_at=store.utcnow() - timedelta(seconds=120)))
    # a third claim exceeds max_attempts: the items are failed with the reason
    assert (
        store.claim_items(
            ctx.store.engine, job_id, ids, enqueued_at=at, stale_after_s=60, max_attempts=2
        )
        == []
    )
    summary = summaries.summarize_job(ctx.store.engine, job_id, failures=10)
    assert summary.failed == 4 and "worker was lost" in summary.failures[0]["error"]


def test_stalled_job_is_rearmed_once(ctx: WorkerContext) -> None:
    seed_dataset(ctx.store.engine, "toy", 3)
    job_id, stream, _ = store.create_job(ctx.store.engine, "toy", {"judges": []})
    ids = list(stream)
    assert store.take_stalled(ctx.store.engine, job_id, 60)[0] == []  # progressing: leave it
    old = store.utcnow() - timedelta(seconds=120)
    with transaction(ctx.store.engine) as s:
        s.execute(update(JobItem).values(updated_at=old))
        s.execute(update(Job).values(updated_at=old))
    items, at = store.take_stalled(ctx.store.engine, job_id, 60)
    assert items == ids
    assert store.take_stalled(ctx.store.engine, job_id, 60)[0] == []  # someone already re-armed it
    assert (
        store.claim_items(
            ctx.store.engine, job_id, ids, enqueued_at=at, stale_after_s=60, max_attempts=5
        )
        == ids
    )


def test_bad_api_key_fails_the_job_fast(ctx: WorkerContext) -> None:
    seed_dataset(ctx.store.engine, "toy", 40)
    with FakeOpenAIServer(prefer_longer, api_key="sk-right") as srv:
        summary = run_prelabel(
            ctx.store, dataset="toy", judges=[MODEL], api_base=srv.base_url,
            runner=InProcessRunner(ctx, threads=1), chunk_size=10, concurrency=2, poll_s=0.05,
        )  # fmt: skip
        calls = srv.request_count
    assert summary.status == "failed"
    assert summary.error and "API key" in summary.error
    # the calls in flight when the first 401 came back and the few started before the chunk
    # stopped (concurrency 2: a handful), not all 80
    assert calls <= 8
    assert summary.done == 0


def test_transient_failures_end_as_failed_pairs_then_resume_finishes(ctx: WorkerContext) -> None:
    seed_dataset(ctx.store.engine, "toy", 5)
    with FakeOpenAIServer(prefer_longer, always_status=503) as srv:
        runner = InProcessRunner(ctx)
        summary = run_prelabel(
            ctx.store, dataset="toy", judges=[MODEL], api_base=srv.base_url, runner=runner,
            poll_s=0.05,
        )  # fmt: skip
        assert (summary.status, summary.failed) == ("failed", 5)
        assert all("TransientProviderError" in f["error"] for f in summary.failures)
        srv.always_status = None
        assert resume_prelabel(ctx.store, summary.id, runner=runner) == 5
        final = wait_for_job(ctx.store, summary.id, runner=runner, poll_s=0.05)
    assert (final.status, final.done, final.failed) == ("done", 5, 0)
    assert len(judgment_keys(ctx.store.engine)) == 10


def test_cancelled_job_chunks_do_nothing(ctx: WorkerContext) -> None:
    seed_dataset(ctx.store.engine, "toy", 4)
    with FakeOpenAIServer(prefer_longer) as srv:
        job_id, stream, at = store.create_job(
            ctx.store.engine, "toy", {"judges": [MODEL], "api_base": srv.base_url}
        )
        ids = list(stream)
        store.cancel_job(ctx.store.engine, job_id)
        report = process_chunk(ctx, job_id, ids, at)
        assert report.skipped == "job is cancelled" and srv.request_count == 0
    with pytest.raises(JobStateError):
        store.cancel_job(ctx.store.engine, job_id)


def test_unknown_dataset_is_an_input_error(ctx: WorkerContext) -> None:
    with pytest.raises(UnknownDatasetError, match="no dataset named 'nope'"):
        start_prelabel(ctx.store, dataset="nope", judges=[MODEL], runner=InProcessRunner(ctx))


def test_cli_prelabel_jobs_job_and_cancel(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    ids = seed_dataset(sqlite_engine, "toy", 12)
    replay = write_replay(tmp_path / "j.jsonl", ids)
    res = run_cli(
        sqlite_url, "prelabel", "--dataset", "toy", "--judge", f"replay:{replay}", "--json"
    )
    assert res.exit_code == 0, res.output
    import json

    doc = json.loads(res.stdout)
    assert (doc["status"], doc["done"], doc["total"]) == ("done", 12, 12)
    listed = json.loads(run_cli(sqlite_url, "jobs", "--json").stdout)
    assert [j["id"] for j in listed] == [doc["id"]]
    shown = json.loads(run_cli(sqlite_url, "job", str(doc["id"]), "--json").stdout)
    assert shown["done"] == 12
    calls = shown["calls"]  # both orders of 12 pairs, each pair delivered once
    assert (calls["verdicts"], calls["unparseable"], calls["deliveries"]) == (24, 0, 12)
    assert set(calls["latency_ms"]) == {"p50", "p90", "p99", "max"}
    assert "calls: 24 verdicts paid for" in run_cli(sqlite_url, "job", str(doc["id"])).stdout
    res = run_cli(sqlite_url, "job", "cancel", str(doc["id"]))
    assert res.exit_code == 2 and "already done" in res.output
    res = run_cli(sqlite_url, "prelabel", "--dataset", "nope", "--judge", MODEL)
    assert res.exit_code == 2 and "no dataset named 'nope'" in res.output
    res = run_cli(sqlite_url, "job", "999", "--json")
    assert res.exit_code == 2 and "no job with id 999" in res.output
    res = run_cli(sqlite_url, "worker", env={"REFEREE_BROKER_URL": ""})
    assert res.exit_code == 2 and "REFEREE_BROKER_URL" in res.output
    with transaction(sqlite_engine) as s:
        assert s.scalar(select(func.count()).select_from(Judgment)) == 24


def test_a_failing_pair_costs_the_retry_budget_and_no_more(
    sqlite_engine: Engine, sqlite_url: str
) -> None:
    budget = RetryBudget(
        http=RetryPolicy(max_retries=1, base_delay_s=0.01),
        max_reasks=0,  # a 500 is never re-asked
        pair_attempts=2,
        pair_pause_s=0.01,
    )
    config = WorkerConfig(database_url=sqlite_url, api_key="sk-fake", retry=budget)
    context = WorkerContext(config, SqlJobStore(sqlite_engine))
    seed_dataset(sqlite_engine, "toy", 1)
    try:
        with FakeOpenAIServer(prefer_longer, always_status=500) as srv:
            job_id, stream, at = store.create_job(
                sqlite_engine, "toy", {"judges": [MODEL], "api_base": srv.base_url}
            )
            ids = list(stream)
            report = process_chunk(context, job_id, ids, at)
            # one delivery: both orders x (1 retry + 1) x 2 pair attempts
            assert (report.failed, srv.request_count) == (1, 8)
            assert srv.request_count == budget.calls_per_pair() // budget.max_claims
    finally:
        context.close()


def test_percentiles_are_nearest_rank() -> None:
    assert summaries.percentiles([]) == {}
    assert summaries.percentiles([float(v) for v in range(1, 101)]) == {
        "p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0,
    }  # fmt: skip
    assert summaries.percentiles([7.0]) == {"p50": 7.0, "p90": 7.0, "p99": 7.0, "max": 7.0}


def test_verbose_logs_each_chunk_with_its_rate(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    ids = seed_dataset(sqlite_engine, "toy", 6)
    replay = write_replay(tmp_path / "j.jsonl", ids)
    env = {**os.environ, "REFEREE_DATABASE_URL": sqlite_url}
    env.pop("REFEREE_BROKER_URL", None)
    prelabel = ["prelabel", "--dataset", "toy", "--judge", f"replay:{replay}", "--json"]
    for flags, shown in (([], False), (["-v"], True)):
        done = subprocess.run(
            [sys.executable, "-m", "referee.cli.main", *flags, *prelabel],
            capture_output=True, text=True, env=env, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        chunk_line = "INFO referee.workers: job" in done.stderr and "chunk of" in done.stderr
        assert chunk_line == shown, done.stderr


def test_jobs_table_keeps_long_judge_names_apart_at_80_columns(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    ids = seed_dataset(sqlite_engine, "toy", 2)
    first = write_replay(tmp_path / "a.jsonl", ids, judge="gpt-4/vanilla")
    second = write_replay(tmp_path / "b.jsonl", ids, judge="gpt-4/vanilla_norules")
    res = run_cli(
        sqlite_url, "prelabel", "--dataset", "toy", "--judge", f"replay:{first}#gpt-4/vanilla",
        "--judge", f"replay:{second}#gpt-4/vanilla_norules",
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    table = run_cli(sqlite_url, "jobs", env={"COLUMNS": "80"}).stdout
    cells = [
        "".join(line.split("│")[-2].split()) for line in table.splitlines() if line.count("│") > 2
    ]  # the judges column, line by line: folded cells run over lines but lose no character
    joined = "".join(cells)
    assert joined.count("gpt-4/vanilla_norules") == 1 and joined.count("gpt-4/vanilla") == 2
    assert "vanilla…" not in table and "norul…" not in table
