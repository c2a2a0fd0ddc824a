"""Test data for the workers' tests: a dataset of synthetic pairs and a replay file for it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.db.models import Dataset, Pair


def seed_dataset(engine: Engine, name: str, n: int, *, frozen_every: int = 0) -> list[str]:
    """Insert ``n`` pairs into a new dataset ``name``; every ``frozen_every``-th is frozen-eval."""
    ids = [f"{name}-{i:05d}" for i in range(n)]
    with transaction(engine) as session:
        ds = Dataset(name=name)
        session.add(ds)
        session.flush()
        session.add_all(
            Pair(
                id=pid,
                dataset_id=ds.id,
                prompt=f"Question {i}: what is {i} + {i}?",
                response_a=f"The answer is {2 * i}.",
                response_b=f"It is {2 * i + 1}.",
                meta={},
                content_hash=hashlib.sha256(pid.encode()).hexdigest(),
                frozen_eval=bool(frozen_every) and i % frozen_every == 0,
            )
            for i, pid in enumerate(ids)
        )
    return ids


def write_replay(path: Path, pair_ids: list[str], judge: str = "recorded-judge") -> Path:
    """A judgments.jsonl that says A for every pair in both orders."""
    with path.open("w", encoding="utf-8") as out:
        for pid in pair_ids:
            for order in ("AB", "BA"):
                line = {"pair_id": pid, "judge": judge, "order": order, "winner": "A",
                        "confidence": 0.9, "raw": "A"}  # fmt: skip
                out.write(json.dumps(line) + "\n")
    return path
