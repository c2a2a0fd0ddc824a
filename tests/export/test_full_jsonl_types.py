"""Issue 20: the full JSON Lines export (``--format jsonl``) and a release's ``rows.jsonl`` load
in ``datasets`` at any size and mix, every column with one type, and still read back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Engine

from formats.full_jsonl import write_jsonl
from formats.rows import HumanAnswer, JudgeRef, LabeledPair
from formats.typed_jsonl import witness_order
from tests.export.release_data import answer, routed_dataset
from tests.helpers import run_cli

FIRST_PLAIN = 25_000  # rows before this are AI labels without answers: nulls everywhere
TEXT = "lorem ipsum dolor sit amet " * 6  # rows of ~700 bytes: 30,000 rows are ~20 MB


def _answer(i: int, k: int, kind: str, label: str) -> HumanAnswer:
    full = (i + k) % 3 == 0  # some answers give strength, ratings and rubric version, some not
    return HumanAnswer(
        annotator=f"annotator-{k + 1}",
        label=label,
        kind=kind,
        at="2026-12-07T10:00:00.000000+00:00",
        rationale="because" if k else None,
        reason="both refuse" if label == "both_bad" else None,
        unsafe=label == "both_bad" and i % 2 == 0,
        strength="slight" if full and label in ("A", "B") else None,
        ratings={"helpfulness": 4, f"dim{i % 4}": 2} if full else None,
        rubric_version="v2" if full else None,
        label_id=1_000 * i + k if k < 2 else None,
        origin="0123456789abcdef" if k < 2 else None,
    )


def _ai(i: int) -> LabeledPair:
    return LabeledPair(
        f"p{i:05d}", "d", f"question {i} {TEXT}", f"a {i} {TEXT}", f"b {i} {TEXT}",
        "A" if i % 2 else "B", "ai", "ai", decision="auto_accept", policy_version=3,
        judges=(JudgeRef("gpt-4", "p1"),), ai_label="A" if i % 2 else "B", ai_confidence=0.93,
        labeled_at="2026-12-07T10:00:00.000000+00:00", rubric_version="p1",
        meta={"source": "synthetic", "index": i},
    )  # fmt: skip


def _late(i: int) -> LabeledPair:
    """After the first 25,000 rows: ties, both-bad, gold and reviewed pairs, meta keys varying."""
    kind = ("tie", "both_bad", "gold", "review", "review_strength")[i % 5]
    if kind == "gold":
        answers: tuple[HumanAnswer, ...] = (_answer(i, 0, "gold", "B"),)
        label, source, method = "B", "gold", "gold"
    else:
        label = {"tie": "tie", "both_bad": "both_bad"}.get(kind, "A")
        answers = tuple(_answer(i, k, "review", label) for k in range(3))
        source, method = "human", "majority"
    return LabeledPair(
        f"p{i:05d}", "d", f"question {i} {TEXT}", f"a {i} {TEXT}", f"b {i} {TEXT}",
        label, source, method, decision=None if source == "gold" else "human_review",
        policy_version=None if source == "gold" else 3, answers=answers,
        agreement=1.0 if source == "human" else None, labeled_at="2026-12-07T11:00:00.250000+00:00",
        reasons=("near_threshold",) if source == "human" else (),
        rubric_version="v2", redaction_version="r1" if i % 7 == 0 else None,
        strength="slight" if kind == "review_strength" else None,
        ratings={"helpfulness": 3} if kind == "review_strength" else None,
        meta={f"key{i % 11}": i, "tags": ["x"]} if i % 2 else {"other": None},
        # late rows only: conversations and k-wise refs (issue 22), null in the first 25,000
        messages=[{"role": "user", "content": f"hi {i}"}] if i % 3 == 0 else None,
        group_id=f"rec{i // 6}" if i % 3 == 0 else None,
        response_a_ref="0" if i % 3 == 0 else None,
        response_b_ref="1" if i % 3 == 0 else None,
    )  # fmt: skip


def mixed_rows(n: int = 30_000) -> list[LabeledPair]:
    """A mixed export: AI labels with nulls in many columns first, everything else after."""
    return [_ai(i) if i < FIRST_PLAIN else _late(i) for i in range(n)]


ANSWER = pa.struct(
    [
        ("annotator", pa.string()),
        ("label", pa.string()),
        ("kind", pa.string()),
        ("at", pa.string()),
        ("rationale", pa.string()),
        ("reason", pa.string()),
        ("unsafe", pa.bool_()),
        ("strength", pa.string()),
        ("ratings", pa.list_(pa.struct([("dimension", pa.string()), ("score", pa.int64())]))),
        ("rubric_version", pa.string()),
        ("label_id", pa.int64()),
        ("origin", pa.string()),
    ]
)
EXPECTED: dict[str, pa.DataType] = {
    **dict.fromkeys(
        ["pair_id", "dataset", "prompt", "response_a", "response_b", "label", "source", "method",
         "decision", "ai_label", "labeled_at", "rubric_version", "redaction_version", "strength",
         "meta_json", "group_id", "response_a_ref", "response_b_ref"],
        pa.string(),
    ),
    "policy_version": pa.int64(),
    "n_answers": pa.int64(),
    "ai_confidence": pa.float64(),
    "agreement": pa.float64(),
    "judges": pa.list_(pa.struct([("judge", pa.string()), ("prompt_version", pa.string())])),
    "annotators": pa.list_(pa.string()),
    "reasons": pa.list_(pa.string()),
    "answers": pa.list_(ANSWER),
    "ratings": pa.list_(pa.struct([("dimension", pa.string()), ("score", pa.int64())])),
    "messages": pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
}  # fmt: skip


def load(path: Path, cache: Path, chunk: int | None = None) -> Any:
    """``datasets.load_dataset("json")`` of one file (``chunk``: bytes per block it infers)."""
    datasets = pytest.importorskip("datasets")
    extra = {} if chunk is None else {"chunksize": chunk}
    return datasets.load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(cache), **extra
    )


def assert_types(loaded: Any) -> None:
    """Every column of the full export has its expected type (lists of structs field by
    field: the order of a struct's fields is the order of the keys)."""
    schema = loaded.data.schema
    assert sorted(schema.names) == sorted(EXPECTED)
    for name, expected in EXPECTED.items():
        got = schema.field(name).type
        assert got.equals(expected), (name, str(got), str(expected))


def test_a_30000_row_mixed_full_export_loads_in_datasets_and_reads_back(tmp_path: Path) -> None:
    rows = mixed_rows()
    out = tmp_path / "full.jsonl"
    assert write_jsonl(rows, out) == 30_000
    assert out.stat().st_size > 10 << 20  # more than datasets' first block (10 MB)
    loaded = load(out, tmp_path / "cache")
    assert loaded.num_rows == 30_000
    assert_types(loaded)
    strengths = loaded["strength"]
    assert strengths.count("slight") == 1_000 and strengths.count(None) == 29_000
    assert sum(1 for m in loaded["meta_json"] if "key" in m) == 2_500

    lines = out.read_bytes().splitlines()
    assert {len(json.loads(line)) for line in lines} == {len(EXPECTED)}  # every key every row
    back = {r.pair_id: r for r in (LabeledPair.from_json(json.loads(line)) for line in lines)}
    assert len(back) == 30_000
    assert all(back[r.pair_id] == r for r in rows)  # ratings and meta come back as dicts


def test_rows_written_before_read_as_they_did() -> None:
    """A row frozen before the export was type-stable (optional keys left out, ``meta`` and
    ``ratings`` dicts) reads to the same pair."""
    old = {
        "pair_id": "p1", "dataset": "d", "prompt": "q", "response_a": "a", "response_b": "b",
        "label": "A", "source": "human", "method": "majority", "decision": None,
        "policy_version": None, "judges": [], "ai_label": None, "ai_confidence": None,
        "annotators": ["annotator-1"], "n_answers": 1, "agreement": 1.0,
        "answers": [{"annotator": "annotator-1", "label": "A", "kind": "review", "at": None,
                     "rationale": None, "reason": None, "strength": "much",
                     "ratings": {"clarity": 5}, "label_id": 7}],
        "labeled_at": None, "reasons": [], "rubric_version": "v1", "redaction_version": None,
        "strength": "much", "ratings": {"clarity": 5}, "meta": {"source": "x"},
    }  # fmt: skip
    row = LabeledPair.from_json(old)
    assert row.meta == {"source": "x"} and row.ratings == {"clarity": 5}
    (answer,) = row.answers
    assert (answer.strength, answer.ratings, answer.label_id, answer.unsafe) == (
        "much",
        {"clarity": 5},
        7,
        False,
    )
    assert answer.rubric_version is None and answer.origin is None
    again = LabeledPair.from_json(json.loads(json.dumps(row.to_json())))
    assert again == row  # the new form reads back to the same pair


def test_witness_rows_cover_nested_fields_and_empty_lists() -> None:
    docs: list[dict[str, Any]] = [
        {"x": None, "items": [], "answers": [{"s": None}]},
        {"x": None, "items": [], "answers": [{"s": None}]},
        {"x": None, "items": ["a"], "answers": [{"s": None}]},
        {"x": 1, "items": [], "answers": [{"s": "slight"}]},
        {"x": 2, "items": ["b"], "answers": []},
    ]
    assert witness_order(docs) == [0, 2, 3, 1, 4]


def _fits(got: pa.DataType, expected: pa.DataType) -> bool:
    """``got`` is ``expected``, but for fields null in every row of the file (type null)."""
    if pa.types.is_null(got):
        return True
    if pa.types.is_list(expected):
        return pa.types.is_list(got) and _fits(got.value_type, expected.value_type)
    if pa.types.is_struct(expected):
        names = [expected.field(i).name for i in range(expected.num_fields)]
        return pa.types.is_struct(got) and all(
            _fits(got.field(n).type, expected.field(n).type) for n in names
        )
    return bool(got.equals(expected))


def test_a_releases_rows_load_in_datasets_block_by_block(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    """A real release (gold rows with answers, AI rows without, reviewed rows with a tie) read
    in blocks of 4 KB, so that its first rows alone decide every column's type."""
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(
        sqlite_engine, [(review[0], "alice", "B", "review"), (review[1], "bob", "tie", "review")]
    )
    out = tmp_path / "v1"
    made = run_cli(
        sqlite_url, "release", "--dataset", "d", "--name", "v1", "--out", str(out),
        "--min-agreement-items", "0", "--drop-leaked",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    rows = out / "rows.jsonl"
    lines = rows.read_bytes().splitlines()
    assert len(rows.read_bytes()) > 10 * 4096  # many blocks
    loaded = load(rows, tmp_path / "cache", chunk=4096)
    assert loaded.num_rows == len(lines)
    schema = loaded.data.schema
    for name, expected in EXPECTED.items():  # a field with a value anywhere has its type
        assert _fits(schema.field(name).type, expected), (name, str(schema.field(name).type))
    for name in ("policy_version", "ai_confidence", "agreement", "labeled_at", "answers"):
        got = schema.field(name).type  # columns with values in some rows only: typed
        assert not pa.types.is_null(got) and _fits(got, EXPECTED[name]), name
    assert {json.loads(line)["source"] for line in lines} >= {"gold", "ai", "human"}
