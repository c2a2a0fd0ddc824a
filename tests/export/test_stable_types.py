"""Issue 20: exports load at any size (stable column types) and formats keep to their
extensions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from formats.dpo import write_dpo
from formats.rows import LabeledPair
from tests.helpers import run_cli


def _row(i: int, late: bool) -> LabeledPair:
    return LabeledPair(
        pair_id=f"p{i:05d}",
        dataset="d",
        prompt=f"question {i}",
        response_a=f"answer a {i}",
        response_b=f"answer b {i}",
        label="A" if i % 2 else "B",
        source="human" if late else "ai",
        method="majority" if late else "ai",
        agreement=0.75 if late else None,
        policy_version=None if late else 2,
        strength="slight" if late else None,
        rubric_version="v2" if late else None,
    )


def _mixed(n: int = 30_000, first_null: int = 25_000) -> list[LabeledPair]:
    return [_row(i, late=i >= first_null) for i in range(n)]


def test_a_large_mixed_dpo_file_loads_in_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    out = tmp_path / "train.jsonl"
    assert write_dpo(_mixed(), out) == 30_000
    loaded = datasets.load_dataset(
        "json", data_files=str(out), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert loaded.num_rows == 30_000
    assert str(loaded.features["strength"].dtype) == "string"
    assert str(loaded.features["agreement"].dtype) == "float64"
    assert str(loaded.features["rubric_version"].dtype) == "string"
    strengths = loaded["strength"]
    assert strengths.count("slight") == 5_000 and strengths.count(None) == 25_000
    head = [json.loads(x) for x in out.read_text().splitlines()[:2]]
    assert [r["strength"] for r in head] == [None, "slight"]  # the witness rows come first
    ids = sorted(json.loads(x)["pair_id"] for x in out.read_text().splitlines())
    assert ids == [f"p{i:05d}" for i in range(30_000)]  # every row once, none invented


def test_the_parquet_export_declares_its_schema(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "train.parquet"
    write_dpo(_mixed(300, 250), out)
    schema = pq.read_schema(out)
    assert str(schema.field("strength").type) == "string"
    assert str(schema.field("agreement").type) == "double"
    assert pq.read_table(out).num_rows == 300


@pytest.mark.parametrize(
    ("fmt", "name", "expected"),
    [
        ("jsonl", "full.parquet", ".jsonl"),
        ("label-studio", "tasks.jsonl", ".json"),
        ("argilla", "records.json", ".jsonl"),
        ("incidents", "incidents.csv", ".jsonl"),
        ("dpo", "train.json", ".jsonl or .parquet"),
    ],
)
def test_a_wrong_extension_is_refused_naming_the_right_ones(
    sqlite_url: str, tmp_path: Path, fmt: str, name: str, expected: str
) -> None:
    pairs = tmp_path / "in" / "pairs.jsonl"
    pairs.parent.mkdir()
    pairs.write_text(
        json.dumps({"id": "p1", "prompt": "q", "response_a": "a", "response_b": "b"}) + "\n"
    )
    assert run_cli(sqlite_url, "ingest", str(pairs), "--dataset", "d").exit_code == 0
    out = tmp_path / "out"
    out.mkdir()
    result = run_cli(sqlite_url, "export", "--dataset", "d", "--format", fmt, "--out",
                     str(out / name))  # fmt: skip
    assert result.exit_code == 2
    assert f"the {fmt} format is written as {expected}" in result.output
    assert list(out.iterdir()) == []
