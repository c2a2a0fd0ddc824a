"""`referee prelabel` as a real process: Ctrl-C, a fatal provider error with piped output, a
killed process resumed, and the exit status of jobs whose pairs failed (issue 12, items 1-4)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from referee.db.engine import transaction
from referee.db.models import Job, JobItem, Judgment, Pair
from referee.fakes.openai_server import FakeOpenAIServer, prefer_longer
from referee.jobs import store, summaries
from tests.helpers import run_cli
from tests.workers.conftest import REPO
from tests.workers.seed import seed_dataset, write_replay
from workers.summaries import JobSummary

MODEL = "openai/gpt-4o-mini"
Start = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def start_cli(tmp_path: Path) -> Iterator[Start]:
    """``start_cli(db_url, *args, stdout=...)``: `referee ARGS` as a process of its own group,
    killed (with its group) after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(db_url: str, *args: str, stdout: int | None = None) -> subprocess.Popen[bytes]:
        env = {
            **os.environ,
            "REFEREE_DATABASE_URL": db_url,
            "REFEREE_API_KEY": "sk-fake",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        env.pop("REFEREE_BROKER_URL", None)
        log = (tmp_path / f"cli-{len(started)}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "referee.cli.main", *args],
            env=env, cwd=REPO, start_new_session=True,
            stdout=log if stdout is None else stdout, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def stored_orders(engine: Engine) -> set[tuple[str, str]]:
    with transaction(engine) as s:
        return {(p, o) for p, o in s.execute(select(Judgment.pair_id, Judgment.order))}


def calls_per_order(engine: Engine, srv: FakeOpenAIServer) -> dict[tuple[str, str], int]:
    """How many requests the fake server got for each (pair, order)."""
    with transaction(engine) as s:
        pairs = s.scalars(select(Pair)).all()
        out: dict[tuple[str, str], int] = {}
        for p in pairs:
            for order, n in srv.count_for_pair(p.prompt, p.response_a, p.response_b).items():
                out[(p.id, order)] = n
    return out


def only_job(engine: Engine) -> JobSummary:
    (summary,) = summaries.summarize_jobs(engine)
    return summary


def test_ctrl_c_stops_calls_leaves_job_interrupted_and_resume_pays_nothing_twice(
    sqlite_engine: Engine, sqlite_url: str, start_cli: Start
) -> None:
    seed_dataset(sqlite_engine, "toy", 200)
    with FakeOpenAIServer(prefer_longer, latency_s=0.4) as srv:
        proc = start_cli(
            sqlite_url, "prelabel", "--dataset", "toy", "--judge", MODEL,
            "--api-base", srv.base_url, "--concurrency", "4", "--chunk-size", "10",
        )  # fmt: skip
        wait_until(lambda: srv.request_count >= 16, 90, "the job to be under way")
        proc.send_signal(signal.SIGINT)
        at_signal = srv.request_count
        assert proc.wait(20) == 130  # in flight: 4 calls of 0.4 s; nothing else to wait for
        time.sleep(1.0)
        after_exit = srv.request_count
        time.sleep(2.0)
        assert srv.request_count == after_exit  # stopped growing
        assert after_exit - at_signal <= 8  # at most the calls already queued for a slot
        job = only_job(sqlite_engine)
        assert job.status == "interrupted" and job.pending > 0 and job.failed == 0
        paid_before = stored_orders(sqlite_engine)
        assert paid_before and len(paid_before) < 400

        resumed = start_cli(sqlite_url, "prelabel", "--resume", str(job.id))
        assert resumed.wait(120) == 0
        calls = calls_per_order(sqlite_engine, srv)
    final = only_job(sqlite_engine)
    assert (final.status, final.done, final.failed, final.pending) == ("done", 200, 0, 0)
    assert len(stored_orders(sqlite_engine)) == 400
    assert all(calls[key] == 1 for key in paid_before)  # never paid for twice
    # a call cancelled in flight may be asked again; nothing else is
    assert sum(calls.values()) <= 400 + 4


def test_second_ctrl_c_exits_at_once(
    sqlite_engine: Engine, sqlite_url: str, start_cli: Start
) -> None:
    seed_dataset(sqlite_engine, "toy", 100)
    with FakeOpenAIServer(prefer_longer, latency_s=30.0) as srv:  # calls in flight never end
        proc = start_cli(
            sqlite_url, "prelabel", "--dataset", "toy", "--judge", MODEL,
            "--api-base", srv.base_url, "--concurrency", "4",
        )  # fmt: skip
        wait_until(lambda: srv.request_count >= 4, 90, "calls in flight")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        started = time.monotonic()
        assert proc.wait(10) == 130
        assert time.monotonic() - started < 2.0
        assert srv.request_count == 4
    assert only_job(sqlite_engine).status == "interrupted"


def test_sigterm_winds_down_like_ctrl_c(
    sqlite_engine: Engine, sqlite_url: str, start_cli: Start
) -> None:
    seed_dataset(sqlite_engine, "toy", 100)
    with FakeOpenAIServer(prefer_longer, latency_s=30.0) as srv:
        proc = start_cli(
            sqlite_url, "prelabel", "--dataset", "toy", "--judge", MODEL,
            "--api-base", srv.base_url, "--concurrency", "4",
        )  # fmt: skip
        wait_until(lambda: srv.request_count >= 4, 90, "calls in flight")
        proc.send_signal(signal.SIGTERM)
        # in flight for 30 s: cancelled after the grace period, within a few seconds
        assert proc.wait(15) == 128 + signal.SIGTERM
        assert srv.request_count == 4
    job = only_job(sqlite_engine)
    assert (job.status, job.done, job.pending) == ("interrupted", 0, 100)


def test_fatal_provider_error_with_piped_output_ends_promptly(
    sqlite_engine: Engine, sqlite_url: str, start_cli: Start
) -> None:
    seed_dataset(sqlite_engine, "toy", 400)
    with FakeOpenAIServer(prefer_longer, api_key="sk-right") as srv:  # our key is refused: 401
        proc = start_cli(
            sqlite_url, "prelabel", "--dataset", "toy", "--judge", MODEL,
            "--api-base", srv.base_url, "--chunk-size", "10", stdout=subprocess.PIPE,
        )  # fmt: skip
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("prelabel hung after a 401 with its output piped")
    assert proc.returncode == 1, output
    assert b"API key" in output
    assert only_job(sqlite_engine).status == "failed"


def test_killed_in_process_job_resumes_with_the_new_concurrency(
    sqlite_engine: Engine, sqlite_url: str, start_cli: Start
) -> None:
    seed_dataset(sqlite_engine, "toy", 150)
    with FakeOpenAIServer(prefer_longer, latency_s=0.3) as srv:
        proc = start_cli(
            sqlite_url, "prelabel", "--dataset", "toy", "--judge", MODEL,
            "--api-base", srv.base_url, "--concurrency", "8",
        )  # fmt: skip
        wait_until(lambda: srv.request_count >= 24, 90, "the job to be under way")
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        job = only_job(sqlite_engine)
        assert job.status == "running" and job.pending > 0  # nobody will finish it
        assert srv.max_in_flight == 8
        # `referee jobs` sees that its process is gone
        listed = json.loads(run_cli(sqlite_url, "jobs", "--json").stdout)
        host = os.uname().nodename
        assert [(j["status"], j["error"]) for j in listed] == [
            ("interrupted", f"interrupted: process {proc.pid} on {host}, which judged it, is gone")
        ]
        time.sleep(1.0)  # the dead process's calls leave the server before its counters reset
        srv.reset()
        srv.latency_s = 1.0  # long enough calls for the resumed job to fill every slot
        resumed = start_cli(sqlite_url, "prelabel", "--resume", str(job.id), "--concurrency", "32")
        assert resumed.wait(120) == 0
        assert srv.max_in_flight == 32  # not the job's original 8
    final = only_job(sqlite_engine)
    assert (final.status, final.done, final.pending) == ("done", 150, 0)
    assert len(stored_orders(sqlite_engine)) == 300


def test_a_live_owner_still_blocks_resume(sqlite_engine: Engine, sqlite_url: str) -> None:
    seed_dataset(sqlite_engine, "toy", 3)
    here = {"host": os.uname().nodename, "pid": os.getpid(), "started": None}
    job_id, _, _ = store.create_job(sqlite_engine, "toy", {"judges": [MODEL], "owner": here})
    res = run_cli(sqlite_url, "prelabel", "--resume", str(job_id))
    assert res.exit_code == 2 and f"still running in process {os.getpid()}" in res.output
    # on another machine the owner counts as gone once the job went quiet for stale_after_s
    # (an hour here; the job's clock is moved back rather than waited for, so no timing)
    elsewhere = {"host": "elsewhere.invalid", "pid": 1, "started": None}
    job_id, _, _ = store.create_job(
        sqlite_engine, "toy", {"judges": [MODEL], "owner": elsewhere, "stale_after_s": 3600}
    )
    res = run_cli(sqlite_url, "prelabel", "--resume", str(job_id))
    assert res.exit_code == 2 and "still running in process 1 on elsewhere.invalid" in res.output
    quiet_since = datetime.now(UTC) - timedelta(hours=2)
    with transaction(sqlite_engine) as s:
        s.execute(update(Job).where(Job.id == job_id).values(updated_at=quiet_since))
        s.execute(update(JobItem).where(JobItem.job_id == job_id).values(updated_at=quiet_since))
    with FakeOpenAIServer(prefer_longer) as srv:
        res = run_cli(
            sqlite_url, "prelabel", "--resume", str(job_id), "--json",
            env={"REFEREE_API_KEY": "sk-fake", "REFEREE_API_BASE": srv.base_url},
        )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["status"] == "done"


def test_failed_pairs_exit_1_with_a_summary(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    ids = seed_dataset(sqlite_engine, "toy", 10)
    replay = write_replay(tmp_path / "j.jsonl", ids[:7])  # three pairs the replay never saw
    res = run_cli(sqlite_url, "prelabel", "--dataset", "toy", "--judge", f"replay:{replay}")
    assert res.exit_code == 1, res.output
    job = only_job(sqlite_engine)
    assert (job.status, job.done, job.failed) == ("partial", 7, 3)
    assert f"job {job.id} partial: 3 of 10 pairs failed" in res.output
    assert "3 pair(s): ReplayMissError" in res.output  # the reason, once for the three pairs
    assert f"`referee job {job.id}`" in res.output
    # --json too: the document on stdout, the summary on stderr, exit 1
    res = run_cli(
        sqlite_url, "prelabel", "--dataset", "toy", "--judge", f"replay:{replay}", "--json"
    )
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    assert doc["status"] == "partial" and doc["failure_reasons"][0]["pairs"] == 3
    assert "3 of 10 pairs failed" in res.stderr


def test_all_pairs_failing_is_a_failed_job(sqlite_engine: Engine, sqlite_url: str) -> None:
    seed_dataset(sqlite_engine, "toy", 5)
    with FakeOpenAIServer(prefer_longer, always_status=400) as srv:
        res = run_cli(
            sqlite_url, "prelabel", "--dataset", "toy", "--judge", MODEL,
            "--api-base", srv.base_url, env={"REFEREE_API_KEY": "sk-fake"},
        )  # fmt: skip
    assert res.exit_code == 1, res.output
    job = only_job(sqlite_engine)
    assert (job.status, job.failed) == ("failed", 5)
    assert "5 of 5 pairs failed" in res.output and "5 pair(s): PermanentProviderError" in res.output
    listed = json.loads(run_cli(sqlite_url, "jobs", "--json").stdout)
    assert [j["status"] for j in listed] == ["failed"]
