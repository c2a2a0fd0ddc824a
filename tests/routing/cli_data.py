"""A small synthetic dataset written as interchange files and loaded through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tests.helpers import run_cli

JUDGE_COST = 0.01  # per judgment (two per pair)


def write_jsonl(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def build_dataset(
    tmp: Path, db_url: str, *, n: int = 160, n_gold: int = 100, n_frozen: int = 5, seed: int = 0
) -> dict[str, object]:
    """``n`` pairs (the last ``n_frozen`` frozen), one judge right in both orders on 88%, wrong
    in both on 3% and flipping on 9%; gold for the first ``n_gold``. Returns the truth.

    (The order-consistent verdicts are about 97% right, so 100 gold items certify target 0.8
    on every seed; at 91% they certified only by luck.)"""
    rng = np.random.default_rng(seed)
    truth = {f"s{i:04d}": str(rng.choice(["A", "B"])) for i in range(n)}
    ids = list(truth)
    pairs = [{"id": p, "prompt": f"q{p}", "response_a": "a", "response_b": "b"} for p in ids]
    judgments = []
    for p in ids:
        other = "B" if truth[p] == "A" else "A"
        r = rng.random()
        ab, ba = (
            (truth[p], truth[p]) if r < 0.88 else (other, other) if r < 0.91 else (truth[p], other)
        )
        for order, winner in (("AB", ab), ("BA", ba)):
            judgments.append(
                {
                    "pair_id": p,
                    "judge": "j1",
                    "order": order,
                    "winner": winner,
                    "confidence": None,
                    "cost": JUDGE_COST,
                }
            )
    labels = [{"pair_id": p, "annotator": "gold", "label": truth[p]} for p in ids[:n_gold]]
    normal, frozen = pairs[: n - n_frozen], pairs[n - n_frozen :]
    for args in (
        ("ingest", str(write_jsonl(tmp / "pairs.jsonl", normal)), "--dataset", "d"),
        (
            "ingest",
            str(write_jsonl(tmp / "frozen.jsonl", frozen)),
            "--dataset",
            "d",
            "--frozen-eval",
        ),
        ("judgments", "import", str(write_jsonl(tmp / "judgments.jsonl", judgments))),
        ("labels", "import", str(write_jsonl(tmp / "labels.jsonl", labels)), "--kind", "gold"),
    ):
        result = run_cli(db_url, *args)
        assert result.exit_code == 0, result.output
    return {"truth": truth, "frozen": [p["id"] for p in frozen], "n": n, "n_gold": n_gold}


def calibrate(db_url: str) -> None:
    result = run_cli(
        db_url,
        "calibrate",
        "--dataset",
        "d",
        "--target-agreement",
        "0.8",
        "--delta",
        "0.1",
        "--json",
    )
    assert result.exit_code == 0, result.output
