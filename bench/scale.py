"""End to end at scale: each stage of issue #24 as its own ``referee`` command, measured.

Usage::

    .venv/bin/python bench/scale.py --pairs 10000
    .venv/bin/python bench/scale.py --pairs 2000 --database-url postgresql+psycopg://127.0.0.1/test

    .venv/bin/python bench/scale.py --pairs 100000 \
        --database-url postgresql+psycopg://127.0.0.1/scale_run \
        --broker-url redis://127.0.0.1:6379/11 --workers 2

Stages, each a fresh ``referee`` subprocess on one database (a fresh SQLite file in a temporary
folder unless ``--database-url``): ingest of N generated pairs (the shared LLMFAO and LLMBar texts
repeated under unique ids, or synthetic texts when ``/work/shared/data`` is absent); prelabel
against the fake OpenAI-compatible server at a fixed latency; import of ``--gold`` gold labels;
calibrate; route; labels final; release; export dpo.

Prelabel runs in the ``referee prelabel`` process (no broker) unless ``--broker-url``: then
``--workers`` ``referee worker`` processes (``--concurrency`` calls each, ``--chunks`` chunks at
once) are started on that Redis before the stage and stopped after it, the command only enqueues
and waits, and the bench checks exactly-once verdicts (judgments = 2 x pairs, one per pair and
order). The workers' own peak RSS is printed as a row of its own.

For each stage it prints wall time, the command's peak RSS (``ru_maxrss`` of that child alone,
from ``os.wait4``), rows per second (pairs for every stage but the gold import) and, for
prelabel, the ratio to the provider's ideal rate: ``concurrency / latency`` calls per second,
half that in pairs per second (two orders per pair), times the number of workers. Two runs at different N show which
commands' memory grows with the dataset. ``--json FILE`` also writes the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SHARED = Path("/work/shared/data")
SOURCES = ("llmfao", "llmbar")
DATASET = "scale"
JUDGE = "openai/gpt-4o-mini"


@dataclass(frozen=True)
class StageResult:
    """One command's figures."""

    stage: str
    wall_s: float
    peak_rss_mb: float
    rows: int
    rows_per_s: float
    ideal_ratio: float | None = None
    cpu_s: float = 0.0


def base_texts() -> list[tuple[str, str, str]]:
    """(prompt, response_a, response_b) of the shared sets, or synthetic texts without them."""
    texts: list[tuple[str, str, str]] = []
    for name in SOURCES:
        path = SHARED / name / "pairs.jsonl"
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                texts.append((rec["prompt"], rec["response_a"], rec["response_b"]))
    if texts:
        return texts
    return [
        (f"Question {i}: explain topic {i} briefly.", f"Topic {i} is " + "x " * (40 + i % 50),
         f"Topic {i}: " + "y " * (30 + i % 70))
        for i in range(500)
    ]  # fmt: skip


def generated_pairs(n: int) -> Iterator[dict[str, object]]:
    """``n`` pairs with unique ids and prompts (a suffix keeps repeats apart)."""
    texts = base_texts()
    for i in range(n):
        prompt, a, b = texts[i % len(texts)]
        if i >= len(texts):
            prompt = f"{prompt}\n\n(copy {i // len(texts)})"
        yield {"id": f"s{i:08d}", "prompt": prompt, "response_a": a, "response_b": b, "meta": {}}


def write_inputs(workdir: Path, n: int, gold: int, seed: int) -> tuple[Path, Path]:
    """The pairs file and a gold file: the longer response, flipped on 10% of pairs."""
    rng = random.Random(seed)
    pairs, labels = workdir / "pairs.jsonl", workdir / "gold.jsonl"
    with pairs.open("w", encoding="utf-8") as pf, labels.open("w", encoding="utf-8") as lf:
        for i, rec in enumerate(generated_pairs(n)):
            pf.write(json.dumps(rec) + "\n")
            if i < gold:
                longer = "A" if len(str(rec["response_a"])) >= len(str(rec["response_b"])) else "B"
                flip = {"A": "B", "B": "A"}[longer]
                label = flip if rng.random() < 0.1 else longer
                lf.write(json.dumps({"pair_id": rec["id"], "annotator": "gold", "label": label}))
                lf.write("\n")
    return pairs, labels


def run_stage(stage: str, args: Sequence[str], env: dict[str, str], rows: int) -> StageResult:
    """Run ``referee ARGS`` as a child; its own peak RSS from ``os.wait4`` (kB on Linux)."""
    cmd = [sys.executable, "-m", "referee.cli.main", *args]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    code, peak_mb, cpu = reap(proc)
    wall = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"stage {stage} failed (exit {code}): {err.decode()[-2000:]}")
    return StageResult(stage, wall, peak_mb, rows, rows / wall if wall else 0.0, cpu_s=cpu)


def reap(proc: subprocess.Popen[bytes]) -> tuple[int, float, float]:
    """Wait for ``proc``: its exit code, its own peak RSS in MB (``os.wait4``, kB on Linux) and
    the CPU seconds it used (user + system)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def worker_command(ns: argparse.Namespace, index: int) -> list[str]:
    """``referee worker`` for the ``index``-th worker process."""
    return [sys.executable, "-m", "referee.cli.main", "worker", "--concurrency",
            str(ns.concurrency), "--chunks", str(ns.chunks), "--hostname",
            f"scale{index}@bench", "--log-level", "WARNING"]  # fmt: skip


def wait_for_workers(broker_url: str, count: int, procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Return once ``count`` workers answer a Celery ping (or fail if one exits first).

    A bare Celery app, not the project's (which brings the judge stack): this process must stay
    small, since a child's ``ru_maxrss`` starts from its parent's RSS at the fork."""
    from celery import Celery

    app = Celery("referee", broker=broker_url)
    app.conf.task_default_queue = "referee"
    app.control.purge()  # chunks left on the queue by an earlier, interrupted run
    deadline = time.monotonic() + 180
    while len(app.control.ping(timeout=1.0) or []) < count:
        if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
            raise SystemExit("a `referee worker` did not start: see its log in the work folder")


@contextmanager
def worker_pool(
    ns: argparse.Namespace, env: dict[str, str], workdir: Path, peaks: list[tuple[float, float]]
) -> Iterator[None]:
    """``ns.workers`` ``referee worker`` processes while the block runs (none without a broker);
    their (peak RSS in MB, CPU seconds) are appended to ``peaks`` once they have stopped
    (SIGTERM: warm stop)."""
    if not ns.broker_url:
        yield
        return
    procs = []
    for i in range(ns.workers):
        log = (workdir / f"worker{i}.log").open("wb")
        procs.append(subprocess.Popen(worker_command(ns, i), env=env,
                                      stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
    try:
        wait_for_workers(ns.broker_url, ns.workers, procs)
        yield
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        peaks.extend(reap(proc)[1:] for proc in procs)


def check_exactly_once(url: str, pairs: int) -> str:
    """Judgments = 2 x pairs with one row per (pair, order) (one judge): a line saying so, or
    exit with the counts when not."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT count(*) FROM judgments")).scalar_one()
        distinct = conn.execute(text(
            'SELECT count(*) FROM (SELECT pair_id, "order" FROM judgments '
            'GROUP BY pair_id, "order") t')).scalar_one()  # fmt: skip
    engine.dispose()
    if rows != 2 * pairs or distinct != rows:
        raise SystemExit(f"exactly-once broken: {rows} judgments, {distinct} distinct "
                         f"(pair, order), expected {2 * pairs}")  # fmt: skip
    return f"exactly once: {rows:,} judgments = 2 x {pairs:,} pairs, no duplicate"


def stages(
    ns: argparse.Namespace, workdir: Path, pairs: Path, gold: Path, api_base: str
) -> list[tuple[str, list[str], int]]:
    """(stage, arguments, rows) in order."""
    n, release = ns.pairs, workdir / "release"
    return [
        ("ingest", ["ingest", str(pairs), "--dataset", DATASET], n),
        ("prelabel", ["prelabel", "--dataset", DATASET, "--judge", JUDGE, "--api-base",
                      api_base, "--concurrency", str(ns.concurrency), "--chunk-size",
                      str(ns.chunk_size), "--json"], n),
        ("labels import (gold)", ["labels", "import", str(gold), "--kind", "gold"], ns.gold),
        ("calibrate", ["calibrate", "--dataset", DATASET, "--json"], n),
        ("route", ["route", "--dataset", DATASET, "--json"], n),
        ("labels final", ["labels", "final", "--dataset", DATASET, "--json"], n),
        ("release", ["release", "--dataset", DATASET, "--name", "v1", "--out", str(release),
                     "--min-agreement-items", "0"], n),
        ("export dpo", ["export", "--dataset", DATASET, "--release", "v1", "--format", "dpo",
                        "--out", str(workdir / "train_dpo.jsonl")], n),
    ]  # fmt: skip


def print_table(rows: Sequence[StageResult], ns: argparse.Namespace, ideal: float) -> None:
    where = f"{ns.workers} workers on {ns.broker_url}" if ns.broker_url else "in-process"
    print(f"\n{ns.pairs:,} pairs on {ns.database_url or 'SQLite'}, prelabel {where}; provider "
          f"{ns.latency_ms:g} ms x {ns.concurrency} concurrent x {ns.workers if ns.broker_url else 1}"
          f" = ideal {ideal:.1f} pairs/s")  # fmt: skip
    print(f"| {'stage':<22} | {'wall s':>8} | {'peak RSS MB':>11} | {'rows/s':>9} | ideal "
          f"| {'CPU s':>7} |")  # fmt: skip
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 13}|{'-' * 11}|-------|{'-' * 9}|")
    for r in rows:
        ratio = f"{r.ideal_ratio:.2f}" if r.ideal_ratio is not None else ""
        rss = f"{r.peak_rss_mb:>11.0f}" if r.peak_rss_mb else " " * 11
        print(f"| {r.stage:<22} | {r.wall_s:>8.2f} | {rss} | "
              f"{r.rows_per_s:>9.0f} | {ratio:>5} | {r.cpu_s:>7.1f} |")  # fmt: skip


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--gold", type=int, default=None, help="gold pairs (default N/10, ≤1000)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--broker-url", default=None, help="Redis: prelabel on `referee worker`s")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (with a broker)")
    parser.add_argument("--chunks", type=int, default=4, help="chunks at once per worker")
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=64, help="calls at once per process")
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument("--until", default=None, help="stop after this stage (e.g. prelabel)")
    ns = parser.parse_args(argv)
    ns.gold = min(ns.gold if ns.gold is not None else min(1000, ns.pairs // 10), ns.pairs)
    return ns


def run_all(
    ns: argparse.Namespace, workdir: Path, api_base: str, ideal: float
) -> list[StageResult]:
    """Every stage in order; the workers (if any) live around the prelabel stage."""
    pairs, gold = write_inputs(workdir, ns.pairs, ns.gold, ns.seed)
    url = ns.database_url or f"sqlite:///{workdir / 'scale.db'}"
    env = {**os.environ, "REFEREE_DATABASE_URL": url, "REFEREE_API_KEY": "sk-fake",
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # fmt: skip
    env.pop("REFEREE_BROKER_URL", None)
    results: list[StageResult] = []
    for stage, args, rows in stages(ns, workdir, pairs, gold, api_base):
        if stage != "prelabel":
            results.append(run_stage(stage, args, env, rows))
        else:
            results.extend(prelabel_stage(ns, args, env, workdir, ideal))
            if ns.broker_url:
                print(check_exactly_once(url, ns.pairs), flush=True)
        last = results[-2] if stage == "prelabel" and ns.broker_url else results[-1]
        print(f"{stage}: {last.wall_s:.2f} s, {last.peak_rss_mb:.0f} MB", flush=True)
        if stage == ns.until:
            break
    return results


def prelabel_stage(
    ns: argparse.Namespace, args: list[str], env: dict[str, str], workdir: Path, ideal: float
) -> list[StageResult]:
    """The prelabel row (with its ratio to the ideal) and, with workers, their peak RSS row."""
    peaks: list[tuple[float, float]] = []
    env = {**env, "REFEREE_BROKER_URL": ns.broker_url} if ns.broker_url else env
    with worker_pool(ns, env, workdir, peaks):
        result = run_stage("prelabel", args, env, ns.pairs)
    rows = [StageResult(**{**asdict(result), "ideal_ratio": result.rows_per_s / ideal})]
    if peaks:
        rows.append(StageResult("workers (largest RSS)", result.wall_s, max(p for p, _ in peaks),
                                ns.pairs, result.rows_per_s, cpu_s=sum(c for _, c in peaks)))  # fmt: skip
    return rows


@contextmanager
def fake_provider(ns: argparse.Namespace, peaks: list[tuple[float, float]]) -> Iterator[str]:
    """The fake OpenAI-compatible server as its own process (its counters grow with the pairs
    it saw, which must not inflate this process); yields its base URL, appends its (peak RSS
    MB, CPU s) to ``peaks`` once stopped."""
    cmd = [sys.executable, "-m", "referee.fakes.openai_server", "--port", "0", "--latency-ms",
           str(ns.latency_ms), "--policy", "longer", "--seed", str(ns.seed)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    try:
        if "listening on " not in line:
            raise SystemExit(f"the fake provider did not start: {line!r}")
        yield line.rsplit("listening on ", 1)[1].strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        peaks.append(reap(proc)[1:])


def main(argv: Sequence[str] | None = None) -> None:
    ns = parse_args(argv)
    processes = ns.workers if ns.broker_url else 1
    ideal = processes * ns.concurrency / (ns.latency_ms / 1000.0) / 2.0
    provider: list[tuple[float, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="referee-scale-") as tmp,
        fake_provider(ns, provider) as api_base,
    ):
        results = run_all(ns, Path(tmp), api_base, ideal)
    results.append(StageResult("(fake provider, all)", 0.0, provider[0][0], 0, 0.0,
                               cpu_s=provider[0][1]))  # fmt: skip
    print_table(results, ns, ideal)
    print(f"(this process's own peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
          " -- a floor under every child's figure)")  # fmt: skip
    if ns.json is not None:
        ns.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


if __name__ == "__main__":
    main()
