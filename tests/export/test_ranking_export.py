"""Issue 22: the final labels of a k-wise record's pairs become a ranking (Bradley-Terry), a
ranking file and DPO pairs (best vs worst, or every ordered pair)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.export.kwise_data import CHAT, add_kwise, add_pair
from tests.export.release_data import cli_json
from tests.export.test_dpo_export import _through_trl
from tests.helpers import run_cli

R1 = {"0": "answer zero", "1": "answer one", "2": "answer two", "3": "answer three"}
# 2 beats everyone; 0 beats 1 and 3; 1 and 3 tie
R1_LABELS = {("0", "1"): "A", ("0", "2"): "B", ("0", "3"): "A", ("1", "2"): "B",
             ("1", "3"): "tie", ("2", "3"): "A"}  # fmt: skip
R2 = {"a": "first", "b": "second", "c": "third"}
# a and b both bad; a beats c; b vs c still pending
R2_LABELS = {("a", "b"): "both_bad", ("a", "c"): "A"}


def _kwise(engine: Engine) -> None:
    add_kwise(engine, "r1", R1, R1_LABELS, turns=CHAT)
    add_kwise(engine, "r2", R2, R2_LABELS)
    add_pair(engine, "plain", "x", "y", gold="A")  # from no k-wise record


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_ranking_file_orders_responses_as_the_pair_outcomes_say(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    _kwise(engine)
    out = tmp_path / "ranking.jsonl"
    doc = cli_json(db_url, "export", "--dataset", "d", "--format", "ranking", "--out", str(out))
    assert doc["rows"] == 2 and doc["excluded"]["not_k_wise"]["count"] == 1
    r1, r2 = _rows(out)
    assert r1["group_id"] == "r1" and r1["messages"][-1]["content"] == "And of Italy?"
    assert [r["ref"] for r in r1["responses"]] == ["2", "0", "1", "3"]
    assert [r["rank"] for r in r1["responses"]] == [1, 2, 3, 4]
    best = r1["responses"][0]
    assert (best["text"], best["wins"], best["losses"], best["ties"]) == ("answer two", 3, 0, 0)
    assert best["comparisons"] == 3 and best["lower"] < best["score"] < best["upper"]
    rank = {r["ref"]: r["rank"] for r in r1["responses"]}
    for (a, b), label in R1_LABELS.items():  # every decisive outcome agrees with the order
        if label in ("A", "B"):
            winner, loser = (a, b) if label == "A" else (b, a)
            assert rank[winner] < rank[loser]
    tied = {r["ref"]: r for r in r1["responses"][2:]}
    assert tied["1"]["score"] == tied["3"]["score"] and tied["1"]["ties"] == 1
    assert r1["pairs"] == 6

    # both-bad is counted, not fitted; the pending pair is left out
    assert [r["ref"] for r in r2["responses"]] == ["a", "b", "c"]
    by_ref = {r["ref"]: r for r in r2["responses"]}
    assert (by_ref["a"]["both_bad"], by_ref["b"]["both_bad"], by_ref["c"]["both_bad"]) == (1, 1, 0)
    assert by_ref["b"]["score"] == 0 and by_ref["b"]["wins"] + by_ref["b"]["losses"] == 0
    assert r2["pairs"] == 2 and r2["messages"] is None and r2["prompt"] == "prompt of r2"


def test_dpo_from_rankings_best_worst_and_all_ordered(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    _kwise(sqlite_engine)
    best_worst = tmp_path / "bw.jsonl"
    doc = cli_json(sqlite_url, "export", "--dataset", "d", "--format", "dpo",
                   "--from-ranking", "best-worst", "--out", str(best_worst))  # fmt: skip
    rows = _rows(best_worst)
    assert doc["rows"] == 2 and doc["from_ranking"] == "best-worst"
    by_group = {r["group_id"]: r for r in rows}
    assert by_group["r1"]["pair_id"] == "r1:2>3"
    assert by_group["r1"]["chosen"] == [{"role": "assistant", "content": "answer two"}]
    assert by_group["r1"]["prompt"][0] == {"role": "system", "content": CHAT[0].content}
    assert by_group["r2"]["rejected"] == [{"role": "assistant", "content": "third"}]
    assert by_group["r2"]["prompt"] == [{"role": "user", "content": "prompt of r2"}]
    assert all(r["source"] == "ranking" and r["margin"] > 0 for r in rows)
    ds, prepared = _through_trl(best_worst, tmp_path, "json")
    assert ds.num_rows == prepared.num_rows == 2

    everything = tmp_path / "all.jsonl"
    cli_json(sqlite_url, "export", "--dataset", "d", "--format", "dpo",
             "--from-ranking", "all-ordered", "--out", str(everything))  # fmt: skip
    pairs = {r["pair_id"] for r in _rows(everything)}
    # r1: every ordered pair but the tie 1-3; r2: a > b > c (b and c never met: b had no loss)
    assert pairs == {"r1:2>0", "r1:2>1", "r1:2>3", "r1:0>1", "r1:0>3",
                     "r2:a>b", "r2:a>c", "r2:b>c"}  # fmt: skip


@pytest.mark.parametrize(
    ("args", "name", "message"),
    [
        (("--format", "jsonl", "--from-ranking", "best-worst"), "x.jsonl", "--from-ranking is for"),
        (("--format", "dpo", "--from-ranking", "best"), "x.jsonl", "best-worst, all-ordered"),
        (("--format", "dpo", "--from-ranking", "best-worst"), "x.parquet", "JSON Lines"),
        (("--format", "ranking"), "x.parquet", "ranking format"),
    ],
)
def test_bad_ranking_options_are_one_line_and_write_nothing(
    sqlite_engine: Engine,
    sqlite_url: str,
    tmp_path: Path,
    args: tuple[str, ...],
    name: str,
    message: str,
) -> None:
    _kwise(sqlite_engine)
    out = tmp_path / name
    result = run_cli(sqlite_url, "export", "--dataset", "d", *args, "--out", str(out))
    assert result.exit_code == 2, result.output
    assert message in result.output and not out.exists()
