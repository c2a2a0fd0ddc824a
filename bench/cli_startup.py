"""CLI start-up: wall time of light commands against bare Python baselines, as ratios.

Usage: python bench/cli_startup.py [--runs 5]

Baselines (best of ``--runs`` each): a bare interpreter that imports typer and rich (what any
Typer CLI pays), and one that also imports SQLAlchemy (what a command reading the database
pays). Targets: ``referee --help`` within 3x of the first; ``status``, ``config``, ``jobs`` and
``job ID`` within 2x of the second. Every command runs against a fresh SQLite database made
once before timing (so schema creation is not timed).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFEREE = [sys.executable, "-m", "referee.cli.main"]


def best_of(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    """The fastest of ``runs`` wall times of ``cmd`` (seconds)."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REFEREE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'cli.db'}"}
        subprocess.run([*REFEREE, "status"], env=env, check=True, capture_output=True)
        bare = best_of([sys.executable, "-c", "import typer, rich"], args.runs, env)
        bare_db = best_of([sys.executable, "-c", "import typer, rich, sqlalchemy"], args.runs, env)
        rows = [("--help", bare, 3.0, best_of([*REFEREE, "--help"], args.runs, env))]
        for command in (["status"], ["config"], ["jobs"], ["job", "1"]):
            seconds = best_of([*REFEREE, *command], args.runs, env)
            rows.append((" ".join(command), bare_db, 2.0, seconds))
    print(f"baselines: typer+rich {bare:.3f} s; typer+rich+sqlalchemy {bare_db:.3f} s")
    for name, base, target, seconds in rows:
        ratio = seconds / base
        verdict = "ok" if ratio <= target else "OVER"
        print(
            f"referee {name:<8} {seconds:.3f} s = {ratio:.1f}x its baseline "
            f"(target <= {target:.0f}x) {verdict}"
        )


if __name__ == "__main__":
    main()
