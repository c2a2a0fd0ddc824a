"""CLI start-up: wall time of light commands against bare Python baselines, as ratios.

Usage: python bench/cli_startup.py [--runs 5]

Baselines (best of ``--runs`` each): a bare interpreter that imports typer and rich (what any
Typer CLI pays), and one that also imports SQLAlchemy (what a command reading the database
pays). Targets: ``referee --help`` within 3x of the first; ``status``, ``config``, ``jobs`` and
``job ID`` within 2x of the second. Every command runs against a fresh SQLite database made
once before timing (so schema creation is not timed). The runs go round-robin over the baselines
and the commands, so a busy machine slows them alike and the ratios stay fair.
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


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    """The wall time of one run of ``cmd`` (seconds)."""
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def best_of(cmds: dict[str, list[str]], runs: int, env: dict[str, str]) -> dict[str, float]:
    """The fastest of ``runs`` wall times of every command, run round-robin (seconds)."""
    best = dict.fromkeys(cmds, float("inf"))
    for _ in range(runs):
        for name, cmd in cmds.items():
            best[name] = min(best[name], run_once(cmd, env))
    return best


LIGHT_COMMANDS = (["status"], ["config"], ["jobs"], ["job", "1"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REFEREE_DATABASE_URL": f"sqlite:///{Path(tmp) / 'cli.db'}"}
        subprocess.run([*REFEREE, "status"], env=env, check=True, capture_output=True)
        cmds = {
            "bare": [sys.executable, "-c", "import typer, rich"],
            "bare_db": [sys.executable, "-c", "import typer, rich, sqlalchemy"],
            "--help": [*REFEREE, "--help"],
            **{" ".join(c): [*REFEREE, *c] for c in LIGHT_COMMANDS},
        }
        best = best_of(cmds, args.runs, env)
    bare, bare_db = best["bare"], best["bare_db"]
    rows = [("--help", bare, 3.0)] + [(" ".join(c), bare_db, 2.0) for c in LIGHT_COMMANDS]
    print(f"baselines: typer+rich {bare:.3f} s; typer+rich+sqlalchemy {bare_db:.3f} s")
    for name, base, target in rows:
        ratio = best[name] / base
        verdict = "ok" if ratio <= target else "OVER"
        print(
            f"referee {name:<8} {best[name]:.3f} s = {ratio:.2f}x its baseline "
            f"(target <= {target:.0f}x) {verdict}"
        )


if __name__ == "__main__":
    main()
