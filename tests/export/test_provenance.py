"""Issue 20: provenance fields only where they mean something, read from a real export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from tests.export.release_data import answer, cli_json, routed_dataset

MICROSECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")


def _rows(url: str, out: Path) -> dict[str | None, list[dict[str, Any]]]:
    cli_json(url, "export", "--dataset", "d", "--format", "jsonl", "--out", str(out))
    by_source: dict[str | None, list[dict[str, Any]]] = {}
    for line in out.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        by_source.setdefault(row["source"], []).append(row)
    return by_source


def test_each_kind_of_row_carries_only_the_provenance_that_made_it(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(
        sqlite_engine, [(review[0], "alice", "B", "review"), (review[1], "bob", "tie", "review")]
    )
    rows = _rows(sqlite_url, tmp_path / "full.jsonl")
    assert {"gold", "ai", "human"} <= set(rows)

    for row in rows["gold"]:  # a reference label: no policy, no judges' verdict made it
        assert (row["method"], row["policy_version"], row["decision"]) == ("gold", None, None)
        assert {a["kind"] for a in row["answers"]} == {"gold"}
    for row in rows["ai"]:  # the judges' label under a policy; nobody answered
        assert row["method"] == "ai" and row["policy_version"] is not None and row["judges"]
        assert row["decision"] in ("auto_accept", "spot_check")
        assert (row["answers"], row["annotators"], row["n_answers"]) == ([], [], 0)
        assert (row["agreement"], row["strength"], row["ratings"]) == (None, None, None)
    for row in rows["human"]:  # people's answers, sent to them by a policy
        assert row["answers"] and row["agreement"] is not None and row["policy_version"] is not None
        assert {a["kind"] for a in row["answers"]} == {"review"}
    for row in rows.get(None, []):  # pending: no label, so nothing about one
        assert (row["label"], row["labeled_at"], row["agreement"]) == (None, None, None)
        assert row["strength"] is None and row["ratings"] is None

    answers = [a for group in rows.values() for row in group for a in row["answers"]]
    assert len({a["origin"] for a in answers}) == 1  # one database, one origin
    assert all(isinstance(a["label_id"], int) for a in answers)
    assert all(MICROSECONDS.match(a["at"]) for a in answers)
    labeled = [r for group in rows.values() for r in group if r["labeled_at"] is not None]
    assert labeled and all(MICROSECONDS.match(r["labeled_at"]) for r in labeled)
