"""Ingest rate and memory: stream N generated pairs into a fresh database, print the figures.

Usage: python bench/ingest_rate.py [--lines 1000000] [--database-url URL]

Runs each size in a fresh subprocess so peak memory (ru_maxrss) belongs to that size alone; a
flat peak across sizes shows the ingest streams instead of loading the file.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def write_pairs(path: Path, lines: int) -> None:
    """``lines`` pairs of realistic length (about 400 bytes each)."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(lines):
            out.write(
                json.dumps(
                    {
                        "id": f"bench-{i:08d}",
                        "prompt": f"Explain item {i} to a new colleague in two sentences.",
                        "response_a": f"Item {i} is a widget that does one thing well. " * 2,
                        "response_b": f"Item {i}: a thing. It exists and has an id. " * 2,
                        "meta": {"source": "bench", "index": i},
                    }
                )
                + "\n"
            )


def run_one(lines: int, url: str | None) -> dict[str, float]:
    """Ingest ``lines`` generated pairs in this process; returns rate and peak memory."""
    from referee.db.engine import ensure_schema, make_engine
    from referee.ingest import ingest_pairs

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pairs.jsonl"
        write_pairs(path, lines)
        db_url = url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(db_url)
        ensure_schema(engine)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        summary = ingest_pairs(engine, path, "bench", max_field_bytes=1_000_000)
        seconds = time.perf_counter() - start
        assert summary.inserted == lines
        return {
            "lines": lines,
            "seconds": seconds,
            "pairs_per_s": lines / seconds,
            "file_mb": path.stat().st_size / 1e6,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_before_mb": rss_before / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.database_url)))
        return
    results = []
    for lines in (args.lines // 10, args.lines):
        cmd = [sys.executable, __file__, "--one", str(lines)]
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=os.environ)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    for r in results:
        print(
            f"{r['lines']:>9,} lines ({r['file_mb']:.0f} MB): {r['pairs_per_s']:,.0f} pairs/s, "
            f"{r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB"
        )
    small, large = results
    print(
        f"memory ratio {large['lines'] // small['lines']}x lines -> "
        f"{large['peak_rss_mb'] / small['peak_rss_mb']:.2f}x peak RSS; "
        f"rate ratio {large['pairs_per_s'] / small['pairs_per_s']:.2f}"
    )


if __name__ == "__main__":
    main()
