"""Ingest and import: counts on real data, atomicity and one precise message per bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.helpers import run_cli, snapshot

GOOD = [
    {"id": "p1", "prompt": "Say hi", "response_a": "hi", "response_b": "hello", "meta": {"s": 1}},
    {"id": "p2", "prompt": "Add 2+2", "response_a": "4", "response_b": "5"},
]


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def seeded(engine: Engine, db_url: str, tmp_path: Path) -> str:
    """A database holding dataset 'd' with pairs p1, p2 and a gold label on p1."""
    assert (
        run_cli(
            db_url, "ingest", str(write_jsonl(tmp_path / "good.jsonl", GOOD)), "--dataset", "d"
        ).exit_code
        == 0
    )
    labels = write_jsonl(
        tmp_path / "gold.jsonl", [{"pair_id": "p1", "annotator": "g", "label": "A"}]
    )
    assert run_cli(db_url, "labels", "import", str(labels), "--kind", "gold").exit_code == 0
    return db_url


def assert_rejected(engine: Engine, db_url: str, args: list[str], *expected: str) -> str:
    before = snapshot(engine)
    result = run_cli(db_url, *args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.stderr, result.stderr
    assert result.stdout == ""
    assert snapshot(engine) == before, "a rejected file changed the database"
    return result.stderr


def test_reingest_identical_is_noop(engine: Engine, seeded: str, tmp_path: Path) -> None:
    before = snapshot(engine)
    path = write_jsonl(tmp_path / "again.jsonl", GOOD)
    result = run_cli(seeded, "ingest", str(path), "--dataset", "d", "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert (doc["inserted"], doc["unchanged"]) == (0, 2)
    after = snapshot(engine)
    after.pop("audit_log"), before.pop("audit_log")
    assert after == before


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (['{"id": "x1", "prompt": "p", "response_a": "a"'], ["line 2", "broken JSON"]),
        ([{"id": "x1", "prompt": "p", "response_a": "a"}], ["line 2", "'response_b'", "missing"]),
        (
            [{"id": "x1", "prompt": "  ", "response_a": "a", "response_b": "b"}],
            ["line 2", "'prompt'", "empty"],
        ),
        (
            [{"id": "x1", "prompt": 5, "response_a": "a", "response_b": "b"}],
            ["line 2", "'prompt'", "must be a string"],
        ),
        (
            [{"id": "x1", "prompt": "p", "response_a": "a", "response_b": "b", "meta": [1]}],
            ["line 2", "'meta'", "must be an object"],
        ),
        (
            [
                {"id": "x1", "prompt": "p", "response_a": "a", "response_b": "b"},
                {"id": "x1", "prompt": "p", "response_a": "a", "response_b": "b"},
            ],
            ["line 3", "'id'", "duplicate id 'x1'", "first on line 2"],
        ),
        (
            [{"id": "p1", "prompt": "changed", "response_a": "hi", "response_b": "hello"}],
            ["line 2", "'id'", "already stored with different content"],
        ),
        ([], ["empty"]),
    ],
    ids=[
        "broken-json",
        "missing",
        "empty-field",
        "wrong-type",
        "meta-type",
        "duplicate",
        "conflict",
        "empty-file",
    ],
)
def test_bad_pairs_rejected(
    engine: Engine, seeded: str, tmp_path: Path, lines: list[object], expected: list[str]
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    )
    # a valid new record first (line 1): it must not be written either
    if lines:
        good = json.dumps({"id": "new", "prompt": "p", "response_a": "a", "response_b": "b"})
        path.write_text(good + "\n" + path.read_text())
    stderr = assert_rejected(engine, seeded, ["ingest", str(path), "--dataset", "d"], *expected)
    assert str(path) in stderr


def test_non_utf8_names_line(engine: Engine, seeded: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    good = json.dumps({"id": "n1", "prompt": "p", "response_a": "a", "response_b": "b"})
    path.write_bytes(good.encode() + b"\n" + '{"id": "n2", "prompt": "caf\xe9"}'.encode("latin-1"))
    assert_rejected(engine, seeded, ["ingest", str(path), "--dataset", "d"], "line 2", "UTF-8")


def test_large_field_refused_by_documented_limit(
    engine: Engine, seeded: str, tmp_path: Path
) -> None:
    big = {"id": "big", "prompt": "p", "response_a": "x" * 10_000_000, "response_b": "b"}
    path = write_jsonl(tmp_path / "big.jsonl", [big])
    assert_rejected(
        engine,
        seeded,
        ["ingest", str(path), "--dataset", "d"],
        "line 1",
        "'response_a'",
        "over the limit",
        "REFEREE_MAX_FIELD_BYTES",
    )
    result = run_cli(
        seeded, "ingest", str(path), "--dataset", "d", env={"REFEREE_MAX_FIELD_BYTES": "20000000"}
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"pair_id": "p2", "annotator": "g", "label": "C"}, ["'label'", "unknown value"]),
        ({"pair_id": "nope", "annotator": "g", "label": "A"}, ["'pair_id'", "unknown pair"]),
        ({"pair_id": "p1", "annotator": "g", "label": "B"}, ["'label'", "already gave"]),
        ({"pair_id": "p2", "label": "A"}, ["'annotator'", "missing"]),
    ],
    ids=["unknown-label", "unknown-pair", "conflict", "missing-annotator"],
)
def test_bad_labels_rejected(
    engine: Engine, seeded: str, tmp_path: Path, record: dict[str, str], expected: list[str]
) -> None:
    ok = {"pair_id": "p2", "annotator": "z", "label": "tie"}
    path = write_jsonl(tmp_path / "labels.jsonl", [ok, record])
    assert_rejected(
        engine, seeded, ["labels", "import", str(path), "--kind", "gold"], "line 2", *expected
    )


def test_judgments_import_and_unknown_pair(engine: Engine, seeded: str, tmp_path: Path) -> None:
    good = {
        "pair_id": "p1",
        "judge": "j",
        "order": "BA",
        "winner": "A",
        "confidence": 0.8,
        "raw": "Output (b)",
    }
    bad = {"pair_id": "ghost", "judge": "j", "order": "AB", "winner": "A"}
    path = write_jsonl(tmp_path / "j.jsonl", [good, bad])
    assert_rejected(engine, seeded, ["judgments", "import", str(path)], "line 2", "unknown pair")
    wrong = {"pair_id": "p1", "judge": "j", "order": "XY", "winner": "A", "confidence": 2}
    path = write_jsonl(tmp_path / "j2.jsonl", [wrong])
    stderr = assert_rejected(engine, seeded, ["judgments", "import", str(path)], "'order'")
    assert "'confidence'" in stderr
    path = write_jsonl(tmp_path / "j3.jsonl", [good])
    result = run_cli(seeded, "judgments", "import", str(path), "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["inserted"] == 1
    status = json.loads(run_cli(seeded, "status", "--dataset", "d", "--json").stdout)
    assert status["judgments"] == {"j": {"BA": 1}}
    assert status["labels"] == {"gold": 1}


def test_first_twenty_problems_then_count(engine: Engine, seeded: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "many.jsonl", [{"id": f"m{i}"} for i in range(30)])
    stderr = assert_rejected(engine, seeded, ["ingest", str(path), "--dataset", "d"])
    assert stderr.count("error:") == 20
    assert "and 70 more problems" in stderr  # 30 records x 3 missing fields = 90


def test_csv_with_column_map(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "theirs.csv"
    path.write_text(
        "uid,instruction,output_1,output_2,lang\n"
        'c1,"Write ""hi""","hi,\nthere",hello,en\n'
        "c2,Count,1 2 3,one two,fr\n",
        encoding="utf-8",
    )
    result = run_cli(
        db_url,
        "ingest",
        str(path),
        "--dataset",
        "csv",
        "--map",
        "id=uid,prompt=instruction,response_a=output_1,response_b=output_2",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == 2
    status = json.loads(run_cli(db_url, "status", "--dataset", "csv", "--json").stdout)
    assert status["pairs"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("uid,instruction,output_1\nc9,x,y\n", encoding="utf-8")
    assert_rejected(
        engine,
        db_url,
        [
            "ingest",
            str(bad),
            "--dataset",
            "csv",
            "--map",
            "id=uid,prompt=instruction,response_a=output_1",
        ],
        "line 2",
        "'response_b'",
    )


def test_unknown_dataset_and_missing_file(engine: Engine, db_url: str, tmp_path: Path) -> None:
    result = run_cli(db_url, "status", "--dataset", "nope")
    assert result.exit_code == 2 and "no dataset named 'nope'" in result.stderr
    result = run_cli(db_url, "ingest", str(tmp_path / "missing.jsonl"), "--dataset", "d")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_shared_data_counts(engine: Engine, db_url: str, shared_data: Path) -> None:
    # PandaLM repeats 99 ids (identical texts, other meta): strict by default, --dedupe folds
    expected = {
        "llmbar": (419, 419, 15084),
        "pandalm": (900, 2700, 900),
        "llmfao": (2139, 8931, 4278),
    }
    for name, (pairs, labels, judgments) in expected.items():
        folder = shared_data / name
        extra = ["--dedupe"] if name == "pandalm" else []
        if name == "pandalm":
            strict = run_cli(db_url, "ingest", str(folder / "pairs.jsonl"), "--dataset", name)
            assert strict.exit_code == 2 and "same prompt and responses" in strict.stderr
            assert "--dedupe" in strict.stderr
        for args in (
            ["ingest", str(folder / "pairs.jsonl"), "--dataset", name],
            ["labels", "import", str(folder / "labels.jsonl")],
            ["judgments", "import", str(folder / "judgments.jsonl")],
        ):
            result = run_cli(db_url, *args, *extra)
            assert result.exit_code == 0, result.output
        status = json.loads(run_cli(db_url, "status", "--dataset", name, "--json").stdout)
        assert status["pairs"] == pairs
        assert status["labels"] == {"gold": labels}
        assert sum(sum(o.values()) for o in status["judgments"].values()) == judgments


def test_parquet_ingest(engine: Engine, db_url: str, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "id": ["q1", "q2"],
            "prompt": ["p", "q"],
            "response_a": ["a", "b"],
            "response_b": ["c", "d"],
        }
    )
    path = tmp_path / "pairs.parquet"
    pq.write_table(table, path)
    result = run_cli(db_url, "ingest", str(path), "--dataset", "pq", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == 2
