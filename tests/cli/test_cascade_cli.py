"""Judge cascades end to end: gold judged by every stage, ``calibrate --cascade``,
``prelabel --cascade`` (the strong judge sees only what the cheap one left), ``route``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select

from referee.db.engine import transaction
from referee.db.models import Judgment
from tests.helpers import run_cli

N_PAIRS, N_GOLD = 600, 300
CHEAP_PRICE = "input_cost_per_mtok=0.5&output_cost_per_mtok=1.5"
STRONG_PRICE = "input_cost_per_mtok=30&output_cost_per_mtok=60"


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _data(tmp: Path) -> tuple[Path, Path, Path]:
    """Pairs, gold labels on the first ``N_GOLD`` pairs, and recorded verdicts of a cheap judge
    (right 97% on the easy half, where it states 0.9, else 60% at 0.6) and a strong one (right
    93% everywhere), both orders."""
    rng = np.random.default_rng(7)
    pairs, labels, verdicts = [], [], []
    for i in range(N_PAIRS):
        pid = f"c-{i:04d}"
        truth = "A" if rng.random() < 0.5 else "B"
        other = "B" if truth == "A" else "A"
        easy = rng.random() < 0.5
        cheap = truth if rng.random() < (0.97 if easy else 0.6) else other
        strong = truth if rng.random() < 0.93 else other
        pairs.append(
            {"id": pid, "prompt": f"question {i}", "response_a": "x" * 400, "response_b": "y" * 400}
        )
        if i < N_GOLD:
            labels.append({"pair_id": pid, "annotator": "expert", "label": truth})
        for order in ("AB", "BA"):
            verdicts.append(
                {
                    "pair_id": pid,
                    "judge": "cheap",
                    "order": order,
                    "winner": cheap,
                    "confidence": 0.9 if easy else 0.6,
                    "raw": "Output (a)",
                }
            )
            verdicts.append(
                {
                    "pair_id": pid,
                    "judge": "strong",
                    "order": order,
                    "winner": strong,
                    "confidence": None,
                    "raw": "Output (a) is better because it answers the question.",
                }
            )
    return (
        _write(tmp / "pairs.jsonl", pairs),
        _write(tmp / "labels.jsonl", labels),
        _write(tmp / "judgments.jsonl", verdicts),
    )


def _json(url: str, *args: str) -> dict[str, Any]:
    result = run_cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def _judged(engine: Engine, judge: str) -> set[str]:
    with transaction(engine) as session:
        return set(session.scalars(select(Judgment.pair_id).where(Judgment.judge == judge)))


def test_cascade_sends_the_strong_judge_only_what_the_cheap_one_left(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    pairs, labels, verdicts = _data(tmp_path)
    cheap = f"replay:{verdicts}#cheap?{CHEAP_PRICE}"
    strong = f"replay:{verdicts}#strong?{STRONG_PRICE}"
    assert run_cli(sqlite_url, "ingest", str(pairs), "--dataset", "d").exit_code == 0
    assert run_cli(sqlite_url, "labels", "import", str(labels), "--kind", "gold").exit_code == 0

    # calibrating a cascade before every stage judged the gold says what to run
    no_gold = run_cli(sqlite_url, "calibrate", "--dataset", "d", "--cascade", "--judge", "cheap")
    assert no_gold.exit_code != 0

    gold_job = _json(
        sqlite_url, "prelabel", "--dataset", "d", "--gold-only", "--judge", cheap, "--judge", strong
    )
    assert gold_job["total"] == N_GOLD and gold_job["status"] == "done"
    assert len(_judged(sqlite_engine, "strong")) == N_GOLD

    calibrated = _json(
        sqlite_url,
        "calibrate",
        "--dataset",
        "d",
        "--cascade",
        "--judge",
        "cheap",
        "--judge",
        "strong",
    )
    first, second = calibrated["stages"]
    assert first["certified"] and second["certified"]
    assert first["gold_reaching"] == N_GOLD
    assert second["gold_reaching"] == N_GOLD - first["accepted_gold"]
    assert calibrated["delta_per_stage"] == calibrated["delta"] / 2

    wrong_order = run_cli(
        sqlite_url, "prelabel", "--dataset", "d", "--cascade", "--judge", strong, "--judge", cheap
    )
    assert wrong_order.exit_code != 0
    assert "same order" in wrong_order.output

    report = _json(
        sqlite_url, "prelabel", "--dataset", "d", "--cascade", "--judge", cheap, "--judge", strong
    )
    cheap_run, strong_run = report["stages"]
    assert cheap_run["pairs"] == N_PAIRS - N_GOLD  # the gold pairs were judged already
    strong_judged = _judged(sqlite_engine, "strong")
    assert strong_run["pairs"] == len(strong_judged) - N_GOLD
    assert cheap_run["accepted"] > 0.25 * N_PAIRS
    assert len(strong_judged) < N_PAIRS - cheap_run["accepted"] + N_GOLD
    assert report["spend_ratio"] is not None and report["spend_ratio"] < 0.8

    routed = _json(sqlite_url, "route", "--dataset", "d", "--spot-check-rate", "0")
    assert routed["cascade"][0]["judges"] == ["cheap"]
    accepted = routed["decisions"]["auto_accept"]
    assert accepted == cheap_run["accepted"] + strong_run["accepted"]
    with transaction(sqlite_engine) as session:
        stored = session.scalar(select(func.count()).select_from(Judgment))
    assert stored == 2 * (N_PAIRS + len(strong_judged))  # both orders, nothing judged twice

    again = _json(
        sqlite_url, "prelabel", "--dataset", "d", "--cascade", "--judge", cheap, "--judge", strong
    )
    assert [s["pairs"] for s in again["stages"]] == [0, 0]  # nothing left to judge
