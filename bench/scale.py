"""End to end at scale: each stage of issue #24 as its own ``referee`` command, measured.

Usage::

    .venv/bin/python bench/scale.py --pairs 10000
    .venv/bin/python bench/scale.py --pairs 2000 --database-url postgresql+psycopg://127.0.0.1/test

Stages, each a fresh ``referee`` subprocess on one database (a fresh SQLite file in a temporary
folder unless ``--database-url``): ingest of N generated pairs (the shared LLMFAO and LLMBar texts
repeated under unique ids, or synthetic texts when ``/work/shared/data`` is absent); prelabel
in-process (no broker) against the fake OpenAI-compatible server at a fixed latency; import of
``--gold`` gold labels; calibrate; route; labels final; release; export dpo.

For each stage it prints wall time, the command's peak RSS (``ru_maxrss`` of that child alone,
from ``os.wait4``), rows per second (pairs for every stage but the gold import) and, for
prelabel, the ratio to the provider's ideal rate: ``concurrency / latency`` calls per second,
half that in pairs per second (two orders per pair). Two runs at different N show which
commands' memory grows with the dataset. ``--json FILE`` also writes the rows as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from referee.fakes.openai_server import POLICIES, FakeOpenAIServer

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
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"stage {stage} failed (exit {proc.returncode}): {err.decode()[-2000:]}")
    return StageResult(stage, wall, usage.ru_maxrss / 1024, rows, rows / wall if wall else 0.0)


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
    print(f"\n{ns.pairs:,} pairs on {ns.database_url or 'SQLite'}; provider {ns.latency_ms:g} ms "
          f"x {ns.concurrency} concurrent = ideal {ideal:.1f} pairs/s")  # fmt: skip
    print(f"| {'stage':<22} | {'wall s':>8} | {'peak RSS MB':>11} | {'rows/s':>9} | ideal |")
    print(f"|{'-' * 24}|{'-' * 10}|{'-' * 13}|{'-' * 11}|-------|")
    for r in rows:
        ratio = f"{r.ideal_ratio:.2f}" if r.ideal_ratio is not None else ""
        print(f"| {r.stage:<22} | {r.wall_s:>8.2f} | {r.peak_rss_mb:>11.0f} | "
              f"{r.rows_per_s:>9.0f} | {ratio:>5} |")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--gold", type=int, default=None, help="gold pairs (default N/10, ≤1000)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--chunk-size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    ns = parser.parse_args(argv)
    ns.gold = min(ns.gold if ns.gold is not None else min(1000, ns.pairs // 10), ns.pairs)
    ideal = ns.concurrency / (ns.latency_ms / 1000.0) / 2.0
    results: list[StageResult] = []
    with (
        tempfile.TemporaryDirectory(prefix="referee-scale-") as tmp,
        FakeOpenAIServer(
            POLICIES["longer"], latency_s=ns.latency_ms / 1000.0, seed=ns.seed
        ) as server,
    ):
        workdir = Path(tmp)
        pairs, gold = write_inputs(workdir, ns.pairs, ns.gold, ns.seed)
        url = ns.database_url or f"sqlite:///{workdir / 'scale.db'}"
        env = {**os.environ, "REFEREE_DATABASE_URL": url, "REFEREE_API_KEY": "sk-fake",
               "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # fmt: skip
        env.pop("REFEREE_BROKER_URL", None)
        for stage, args, rows in stages(ns, workdir, pairs, gold, server.base_url):
            result = run_stage(stage, args, env, rows)
            if stage == "prelabel":
                result = StageResult(**{**asdict(result), "ideal_ratio": result.rows_per_s / ideal})
            results.append(result)
            print(f"{stage}: {result.wall_s:.2f} s, {result.peak_rss_mb:.0f} MB", flush=True)
    print_table(results, ns, ideal)
    if ns.json is not None:
        ns.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


if __name__ == "__main__":
    main()
