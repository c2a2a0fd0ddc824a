"""Label Studio and Argilla through the CLI: export, then ``labels import --format`` back.

The round trip goes into a second database holding the same pairs, as a team that labels in
Label Studio or Argilla and comes back to Referee for calibration, routing and reports would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from label_studio_sdk.label_interface import LabelInterface
from sqlalchemy import Engine, select

from referee.db.engine import ensure_schema, make_engine, transaction
from referee.db.models import HumanLabel
from tests.export.release_data import answer, answer_rated, cli_json, routed_dataset
from tests.helpers import run_cli, snapshot


def _labels(engine: Engine) -> set[tuple[str, str, str]]:
    with transaction(engine) as s:
        return {(h.pair_id, h.annotator, h.label) for h in s.scalars(select(HumanLabel))}


@pytest.mark.parametrize(
    ("fmt", "name", "side_file"),
    [
        ("label-studio", "tasks.json", "tasks.label_config.xml"),
        ("argilla", "records.jsonl", "records.settings.json"),
    ],
)
def test_export_then_import_back_into_a_fresh_database(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, fmt: str, name: str, side_file: str
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(
        sqlite_engine,
        [(review[0], "alice", "B", "review"), (review[1], "bob", "both_bad", "review")],
    )
    out = tmp_path / "out" / name
    out.parent.mkdir()
    doc = cli_json(sqlite_url, "export", "--dataset", "d", "--format", fmt, "--out", str(out))
    # every non-frozen pair is a task (pending ones too, to be labeled in the other tool)
    assert doc["rows"] == len(routed.truth) - len(routed.frozen)
    assert (out.parent / side_file).is_file()
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([name, side_file])
    if fmt == "label-studio":
        LabelInterface((out.parent / side_file).read_text()).validate()
        tasks = json.loads(out.read_text())
        with_ai_label = {p for p, (_, label) in routed.decisions.items() if label is not None}
        assert with_ai_label
        for task in tasks:
            assert bool(task.get("predictions")) == (task["data"]["pair_id"] in with_ai_label)
    second_url = f"sqlite:///{tmp_path / 'second.db'}"
    second = make_engine(second_url)
    ensure_schema(second)
    pairs = run_cli(second_url, "ingest", str(tmp_path / "pairs.jsonl"), "--dataset", "d")
    assert pairs.exit_code == 0, pairs.output
    back = cli_json(second_url, "labels", "import", str(out), "--format", fmt, "--kind", "review")
    # issue 20: exported gold answers never come back as review votes, even in another database
    assert back["inserted"] == 2 and back["other_kind_skipped"] == 100
    gold = cli_json(second_url, "labels", "import", str(out), "--format", fmt, "--kind", "gold")
    assert gold["inserted"] == 100 and gold["other_kind_skipped"] == 2
    labels = _labels(second)
    by_pair = {(p, lab) for p, _, lab in labels}
    assert (review[0], "B") in by_pair and (review[1], "both_bad") in by_pair
    assert all(annotator.startswith("annotator-") for _, annotator, _ in labels)
    again = cli_json(second_url, "labels", "import", str(out), "--format", fmt, "--kind", "review")
    assert again["inserted"] == 0 and again["unchanged"] == 2
    second.dispose()


def _second_database(tmp_path: Path) -> tuple[str, Engine]:
    """A fresh database holding the same pairs (ingested from the dataset's pairs file)."""
    url = f"sqlite:///{tmp_path / 'second.db'}"
    engine = make_engine(url)
    ensure_schema(engine)
    pairs = run_cli(url, "ingest", str(tmp_path / "pairs.jsonl"), "--dataset", "d")
    assert pairs.exit_code == 0, pairs.output
    return url, engine


@pytest.mark.parametrize(
    ("fmt", "name", "side_file"),
    [
        ("label-studio", "tasks.json", "tasks.label_config.xml"),
        ("argilla", "records.jsonl", "records.settings.json"),
    ],
)
def test_schema_fields_go_out_and_come_back(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, fmt: str, name: str, side_file: str
) -> None:
    """A 5-point dataset rating two dimensions: the exported config has the controls, and the
    strength, ratings and rationale of every answer are stored again after the round trip."""
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    config = cli_json(
        sqlite_url, "review-config", "--dataset", "d", "--scale", "5",
        "--dimensions", "helpfulness,safety",
    )  # fmt: skip
    assert (config["scale"], config["dimensions"]) == (5, ["helpfulness", "safety"])
    given = [
        (review[0], "alice", "B", "much", {"helpfulness": 4, "safety": 5}),
        (review[1], "bob", "A", "slight", {"helpfulness": 3, "safety": 2}),
        (review[2], "carol", "tie", None, {"helpfulness": 2, "safety": 2}),
    ]
    answer_rated(sqlite_engine, given)
    out = tmp_path / "out" / name
    out.parent.mkdir()
    cli_json(sqlite_url, "export", "--dataset", "d", "--format", fmt, "--out", str(out))
    side = out.parent / side_file
    if fmt == "label-studio":
        interface = LabelInterface(side.read_text())
        interface.validate()
        assert {c.name: c.tag for c in interface.controls} == {
            "preference": "Choices",
            "strength": "Choices",
            "rating_helpfulness": "Rating",
            "rating_safety": "Rating",
            "rationale": "TextArea",
        }
        tasks = json.loads(out.read_text())
        rated = [a for t in tasks for a in t["annotations"] if len(a["result"]) > 1]
        assert len(rated) == len(given)
        assert all(interface.validate_annotation(a) for a in rated)
    else:
        questions = {q["name"]: q["type"] for q in json.loads(side.read_text())["questions"]}
        assert questions == {
            "preference": "label_selection",
            "strength": "label_selection",
            "rating_helpfulness": "rating",
            "rating_safety": "rating",
            "rationale": "text",
        }
    second_url, second = _second_database(tmp_path)
    back = cli_json(second_url, "labels", "import", str(out), "--format", fmt, "--kind", "review")
    assert back["inserted"] == len(given) and back["other_kind_skipped"] == 100  # gold stays gold
    with transaction(second) as s:
        stored = [
            (h.pair_id, h.label, h.strength, h.ratings, h.rationale)
            for h in s.scalars(select(HumanLabel).order_by(HumanLabel.pair_id))
        ]
    rated = [row for row in stored if row[3] is not None]  # annotators come back pseudonymised
    assert rated == [
        (pair_id, label, strength, ratings, f"{annotator} on {pair_id}")
        for pair_id, annotator, label, strength, ratings in sorted(given)
    ]
    assert sum(row[2] is not None for row in stored) == 2  # alice's and bob's strengths only
    again = cli_json(second_url, "labels", "import", str(out), "--format", fmt, "--kind", "review")
    assert again["inserted"] == 0 and again["unchanged"] == len(given)
    second.dispose()


def test_a_bad_label_studio_file_names_the_task_and_writes_nothing(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    (tmp_path / "p.jsonl").write_text(
        "".join(
            json.dumps({"id": f"p{i}", "prompt": "q", "response_a": "a", "response_b": f"b{i}"})
            + "\n"
            for i in range(2)
        )
    )
    assert run_cli(sqlite_url, "ingest", str(tmp_path / "p.jsonl"), "--dataset", "d").exit_code == 0
    choice = {"from_name": "preference", "to_name": "prompt", "type": "choices"}
    tasks = [
        {
            "id": 1,
            "data": {"pair_id": "p0"},
            "annotations": [{"result": [{**choice, "value": {"choices": ["A"]}}]}],
        },
        {
            "id": 2,
            "data": {"pair_id": "p1"},
            "annotations": [{"result": [{**choice, "value": {"choices": ["Maybe"]}}]}],
        },
    ]
    path = tmp_path / "ls_export.json"
    path.write_text(json.dumps(tasks))
    before = snapshot(sqlite_engine)
    result = run_cli(
        sqlite_url, "labels", "import", str(path), "--format", "label-studio", "--kind", "review"
    )
    assert result.exit_code == 2
    assert "line 2" in result.output and "annotations[0].result" in result.output
    assert "Traceback" not in result.output
    assert snapshot(sqlite_engine) == before
    wrong = run_cli(sqlite_url, "labels", "import", str(path), "--format", "prodigy")
    assert wrong.exit_code == 2 and "--format 'prodigy'" in wrong.output
