"""``referee agreement`` and ``referee annotators`` against a fresh SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import Engine

from calibration.agreement import fleiss_kappa, rating_counts
from calibration.krippendorff import krippendorff_alpha_from_ratings
from referee.db.engine import transaction
from referee.db.models import Dataset, HumanLabel, Pair
from tests.helpers import run_cli

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def add_dataset(engine: Engine, name: str, n_pairs: int) -> list[str]:
    ids = [f"{name}-{i:03d}" for i in range(n_pairs)]
    with transaction(engine) as session:
        ds = Dataset(name=name)
        session.add(ds)
        session.flush()
        for pid in ids:
            session.add(
                Pair(
                    id=pid,
                    dataset_id=ds.id,
                    prompt="p",
                    response_a="a",
                    response_b="b",
                    meta={},
                    content_hash=pid.ljust(64, "0")[:64],
                )
            )
    return ids


def add_labels(engine: Engine, rows: list[tuple[str, str, str, str, float | None]]) -> None:
    with transaction(engine) as session:
        for n, (pair_id, annotator, label, kind, duration) in enumerate(rows):
            session.add(
                HumanLabel(
                    pair_id=pair_id,
                    annotator=annotator,
                    label=label,
                    kind=kind,
                    duration_s=duration,
                    created_at=T0 + timedelta(seconds=n),
                )
            )


def two_reviewers(engine: Engine) -> tuple[list[str], list[str]]:
    ids = add_dataset(engine, "duo", 40)
    rng = np.random.default_rng(0)
    a = [("A", "B", "tie")[i] for i in rng.integers(0, 3, 40)]
    b = [x if rng.random() < 0.75 else "B" for x in a]
    add_labels(engine, [(p, "ann1", x, "review", None) for p, x in zip(ids, a, strict=True)])
    add_labels(engine, [(p, "ann2", x, "review", None) for p, x in zip(ids, b, strict=True)])
    return a, b


def test_two_annotators_json(sqlite_engine: Engine, sqlite_url: str) -> None:
    a, b = two_reviewers(sqlite_engine)
    result = run_cli(sqlite_url, "agreement", "--dataset", "duo", "--kind", "review", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["items"] == 40 and doc["annotators"] == 2 and doc["labels"] == 80
    assert doc["percent_agreement"] == pytest.approx(np.mean(np.array(a) == np.array(b)))
    assert doc["cohen_kappa"] == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)
    items = list(range(40)) * 2
    assert doc["krippendorff_alpha"] == pytest.approx(
        krippendorff_alpha_from_ratings(items, a + b), abs=1e-12
    )
    assert doc["fleiss_kappa"] == pytest.approx(
        fleiss_kappa(rating_counts(items, a + b).counts), abs=1e-12
    )
    assert doc["fleiss_items"] == 40 and doc["fleiss_raters_per_item"] == 2
    for key in ("percent_agreement", "krippendorff_alpha", "fleiss_kappa", "cohen_kappa"):
        ci = doc["ci"][key]
        assert ci["low"] <= doc[key] <= ci["high"], key


def test_three_annotators_unequal_counts(sqlite_engine: Engine, sqlite_url: str) -> None:
    ids = add_dataset(sqlite_engine, "trio", 6)
    rows = []
    for n, pid in enumerate(ids):
        rows += [(pid, "x", "A", "gold", None), (pid, "y", "A" if n % 2 else "B", "gold", None)]
        if n < 4:
            rows.append((pid, "z", "A", "review", None))
    add_labels(sqlite_engine, rows)
    doc = json.loads(run_cli(sqlite_url, "agreement", "--dataset", "trio", "--json").stdout)
    assert doc["kind"] == "all" and doc["annotators"] == 3
    assert doc["cohen_kappa"] is None and len(doc["pairwise"]) == 3
    # 4 items have 3 raters, 2 items have 2: Fleiss uses the modal count (3)
    assert doc["fleiss_raters_per_item"] == 3 and doc["fleiss_items"] == 4
    gold_only = json.loads(
        run_cli(sqlite_url, "agreement", "--dataset", "trio", "--kind", "gold", "--json").stdout
    )
    assert gold_only["annotators"] == 2 and gold_only["percent_agreement"] == 0.5


def test_latest_label_of_an_annotator_counts_once(sqlite_engine: Engine, sqlite_url: str) -> None:
    ids = add_dataset(sqlite_engine, "dup", 2)
    add_labels(
        sqlite_engine,
        [
            (ids[0], "x", "B", "gold", None),
            (ids[0], "y", "A", "review", None),
            (ids[0], "x", "A", "review", None),  # later: x changed their mind
            (ids[1], "x", "B", "review", None),
            (ids[1], "y", "B", "review", None),
        ],
    )
    doc = json.loads(run_cli(sqlite_url, "agreement", "--dataset", "dup", "--json").stdout)
    assert doc["labels"] == 4 and doc["percent_agreement"] == 1.0


def test_table_output(sqlite_engine: Engine, sqlite_url: str) -> None:
    two_reviewers(sqlite_engine)
    result = run_cli(sqlite_url, "agreement", "--dataset", "duo", "--resamples", "50")
    assert result.exit_code == 0
    assert "Krippendorff" in result.stdout and "Cohen's kappa" in result.stdout


def test_unknown_dataset_and_kind(sqlite_engine: Engine, sqlite_url: str) -> None:
    two_reviewers(sqlite_engine)
    for args in (
        ("agreement", "--dataset", "nope"),
        ("annotators", "--dataset", "nope"),
        ("agreement", "--dataset", "duo", "--kind", "weird"),
        ("agreement", "--dataset", "duo", "--kind", "gold"),
    ):
        result = run_cli(sqlite_url, *args, "--json")
        assert result.exit_code == 2, args
        assert result.stdout == ""
        assert len(result.stderr.strip().splitlines()) == 1
        assert "error:" in result.stderr
    assert (
        "kinds present: review"
        in run_cli(sqlite_url, "agreement", "--dataset", "duo", "--kind", "gold").stderr
    )


def test_annotators_table(sqlite_engine: Engine, sqlite_url: str) -> None:
    ids = add_dataset(sqlite_engine, "crowd", 30)
    rng = np.random.default_rng(1)
    rows = []
    for pid in ids:
        truth = ("A", "B", "tie")[rng.integers(0, 3)]
        rows.append((pid, "expert", truth, "gold", None))
        for person in ("r1", "r2", "r3"):
            rows.append((pid, person, truth, "review", 30.0 + rng.random()))
        rows.append((pid, "clicker", ("A", "B", "tie")[rng.integers(0, 3)], "review", 1.0))
    add_labels(sqlite_engine, rows)
    result = run_cli(sqlite_url, "annotators", "--dataset", "crowd", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["gold_items"] == 30 and doc["rated_kinds"] == ["review"]
    table = {row["annotator"]: row for row in doc["annotators"]}
    assert set(table) == {"r1", "r2", "r3", "clicker"}
    assert table["r1"]["gold_accuracy"] == 1.0 and table["r1"]["status"] == "ok"
    assert table["clicker"]["paused"] and doc["paused"] == 1
    assert table["clicker"]["fast_items"] == 30
    text = run_cli(sqlite_url, "annotators", "--dataset", "crowd")
    assert text.exit_code == 0 and "paused clicker" in text.stdout
    lenient = json.loads(
        run_cli(
            sqlite_url,
            "annotators",
            "--dataset",
            "crowd",
            "--min-accuracy",
            "0",
            "--min-kappa",
            "-1",
            "--json",
        ).stdout
    )
    assert lenient["paused"] == 0
