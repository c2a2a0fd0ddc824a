"""Label Studio export and import, checked against the real ``label_studio_sdk``.

The SDK's ``LabelInterface`` parses and validates the labeling config and every prediction and
annotation result we write; its generated request models (``ImportApiRequest``,
``AnnotationRequest``) and the ``PredictionValue`` of its task model check the task shape. No
Label Studio server is involved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from label_studio_sdk.label_interface import LabelInterface
from label_studio_sdk.label_interface.objects import PredictionValue
from label_studio_sdk.types import AnnotationRequest, ImportApiRequest

from formats import json_array
from formats.json_array import read_json_array
from formats.label_studio_read import read_label_studio
from formats.label_studio_write import (
    CHOICE_FOR_LABEL,
    IMPORTED_BOTH_BAD_REASON,
    LABEL_CONFIG,
    label_config,
    task_for,
    write_label_studio,
)
from formats.problems import Problem
from formats.rows import LABELS
from formats.schema_fields import ExportSchema
from tests.export.label_tools_data import (
    ROWS,
    SCHEMA,
    SCHEMA_ROWS,
    answer_tuples,
    pair,
    read_schema_tuples,
    schema_tuples,
    validated,
)


def records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    items = list(read_label_studio(path))
    problems = [i for i in items if isinstance(i, Problem)]
    assert problems == []
    return [i for i in items if not isinstance(i, Problem)]


def write_tasks(path: Path, tasks: list[Any]) -> Path:
    path.write_text(json.dumps(tasks), encoding="utf-8")
    return path


def test_label_config_parses_with_the_sdk_into_the_expected_tags() -> None:
    interface = LabelInterface(LABEL_CONFIG)
    interface.validate()  # raises on schema, name or toName errors

    controls = {c.name: (c.tag, c.to_name) for c in interface.controls}
    assert controls == {
        "preference": ("Choices", ["prompt"]),
        "rationale": ("TextArea", ["prompt"]),
    }
    assert interface.get_control("preference").labels == ["A", "B", "Tie", "Both bad"]
    objects = {o.name: (o.tag, o.value) for o in interface.objects}
    assert objects == {
        "prompt": ("Text", "$prompt"),
        "response_a": ("Text", "$response_a"),
        "response_b": ("Text", "$response_b"),
    }
    assert [CHOICE_FOR_LABEL[label] for label in LABELS] == ["A", "B", "Tie", "Both bad"]


def test_the_sdk_validation_we_rely_on_does_reject_a_broken_config() -> None:
    broken = LABEL_CONFIG.replace('toName="prompt"', 'toName="nowhere"', 1)
    with pytest.raises(Exception, match="nowhere"):
        LabelInterface(broken).validate()


def test_tasks_pass_the_sdk_checks_and_carry_the_ai_label_and_answers() -> None:
    """Predictions are checked with ``PredictionValue``: the SDK's ``PredictionRequest`` wants a
    ``task`` id, which a task being imported does not have yet."""
    interface = LabelInterface(LABEL_CONFIG)
    tasks = {row.pair_id: task_for(row) for row in ROWS}
    for task in tasks.values():
        assert interface.validate_task({"data": task["data"]})
        ImportApiRequest.model_validate({k: v for k, v in task.items() if k != "predictions"})
        for prediction in task.get("predictions", []):
            assert interface.validate_prediction(prediction, return_errors=True) == []
            PredictionValue.model_validate(prediction)
        for annotation in task["annotations"]:
            assert interface.validate_annotation(annotation)
            assert AnnotationRequest.model_validate(annotation).completed_by is None

    (prediction,) = tasks["p-ai"]["predictions"]
    assert prediction["model_version"] == "gpt-4/vanilla@recorded, palm-2@v2 | policy 3"
    assert prediction["score"] == 0.93
    assert prediction["result"][0]["value"] == {"choices": ["A"]}
    assert tasks["p-ai"]["meta"] == {"source": "LLMBar/Natural"}
    assert tasks["p-ai"]["annotations"] == []

    human = tasks["p-human"]
    assert human["predictions"][0]["result"][0]["value"] == {"choices": ["Tie"]}
    assert [a["ground_truth"] for a in human["annotations"]] == [False, False, True]
    first, _, gold = human["annotations"]
    assert first["result"][0]["meta"] == {
        "referee_annotator": "ann-1",
        "referee_pair_id": "p-human",
        "referee_kind": "review",
    }  # the Referee ids the import recognises (no label id: these rows were never stored)
    assert gold["result"][0]["meta"]["referee_kind"] == "gold"
    assert first["result"][1]["value"] == {"text": ["B is more accurate"]}
    assert gold["result"][0]["value"] == {"choices": ["Both bad"]}
    assert gold["result"][0]["meta"]["referee_reason"] == "both refuse to answer"
    assert "predictions" not in tasks["p-pending"]
    assert tasks["p-pending"]["data"]["pair_id"] == "p-pending"


def test_a_broken_result_is_caught_by_the_same_sdk_check() -> None:
    interface = LabelInterface(LABEL_CONFIG)
    annotation = task_for(ROWS[1])["annotations"][0]
    annotation["result"][0]["value"] = {"choices": ["Maybe"]}
    assert not interface.validate_annotation(annotation)


def test_round_trip_gives_back_every_answer(tmp_path: Path) -> None:
    out = tmp_path / "tasks.json"
    assert write_label_studio(ROWS, out) == len(ROWS)
    assert (tmp_path / "tasks.label_config.xml").read_text(encoding="utf-8") == LABEL_CONFIG
    assert len(json.loads(out.read_text(encoding="utf-8"))) == len(ROWS)

    got = records(out)
    assert [(r["pair_id"], r["annotator"], r["label"], r.get("rationale")) for _, r in got] == (
        answer_tuples(ROWS)
    )
    assert [n for n, _ in got] == [2, 2, 2, 4]
    reasons = {(r["pair_id"], r["annotator"]): validated(r).reason for _, r in got}
    assert reasons[("p-human", "gold-1")] == "both refuse to answer"
    assert reasons[("p-ünï", "ann-1")] == "wrong\nand rude"
    assert reasons[("p-human", "ann-1")] is None


def test_the_built_in_schema_adds_no_control() -> None:
    assert label_config() == label_config(ExportSchema()) == LABEL_CONFIG
    strength_only = LabelInterface(label_config(ExportSchema(scale=5)))
    strength_only.validate()
    assert [c.name for c in strength_only.controls] == ["preference", "strength", "rationale"]


def test_schema_config_has_strength_and_a_rating_per_dimension_in_the_sdk() -> None:
    interface = LabelInterface(label_config(SCHEMA))
    interface.validate()
    controls = {c.name: (c.tag, c.to_name) for c in interface.controls}
    assert controls == {
        "preference": ("Choices", ["prompt"]),
        "strength": ("Choices", ["prompt"]),
        "rating_helpfulness": ("Rating", ["prompt"]),
        "rating_safety": ("Rating", ["prompt"]),
        "rationale": ("TextArea", ["prompt"]),
    }
    assert interface.get_control("strength").labels == ["Slightly better", "Much better"]
    for name in ("rating_helpfulness", "rating_safety"):
        assert interface.get_control(name).attr["maxRating"] == "5"
        assert interface.get_control(name).attr["required"] == "true"
    assert 'visibleWhen="choice-selected" whenTagName="preference" whenChoiceValue="A,B"' in (
        label_config(SCHEMA)
    )


def test_schema_answers_carry_strength_ratings_and_rationale_that_the_sdk_accepts() -> None:
    interface = LabelInterface(label_config(SCHEMA))
    plain = LabelInterface(LABEL_CONFIG)
    tasks = {row.pair_id: task_for(row) for row in SCHEMA_ROWS}
    for task in tasks.values():
        ImportApiRequest.model_validate({k: v for k, v in task.items() if k != "predictions"})
        for prediction in task.get("predictions", []):
            assert interface.validate_prediction(prediction, return_errors=True) == []
        for annotation in task["annotations"]:
            assert interface.validate_annotation(annotation)
            AnnotationRequest.model_validate(annotation)
    much, slight, tie, gold = tasks["s-human"]["annotations"]
    results = {r["from_name"]: r for r in much["result"]}
    assert results["strength"]["value"] == {"choices": ["Much better"]}
    assert results["rating_helpfulness"] == {
        "from_name": "rating_helpfulness",
        "to_name": "prompt",
        "type": "rating",
        "value": {"rating": 4},
    }
    assert results["rating_safety"]["value"] == {"rating": 5}
    assert results["rationale"]["value"] == {"text": ["ann-1 says B"]}
    assert results["preference"]["meta"]["referee_rubric_version"] == "v2"
    slight_results = {r["from_name"]: r["value"] for r in slight["result"]}
    assert slight_results["strength"] == {"choices": ["Slightly better"]}
    assert "strength" not in {r["from_name"] for r in tie["result"]}  # a tie has none
    assert [r["from_name"] for r in gold["result"]] == ["preference"]
    # the same annotation does not fit the built-in config: the new controls are what takes it
    assert not plain.validate_annotation(much)
    broken = {r["from_name"]: r for r in much["result"]}
    broken["rating_helpfulness"]["value"] = {"rating": 6}
    assert not interface.validate_annotation({"result": list(broken.values())})


def test_schema_round_trip_gives_back_strength_ratings_and_rationale(tmp_path: Path) -> None:
    out = tmp_path / "tasks.json"
    assert write_label_studio(SCHEMA_ROWS, out, schema=SCHEMA) == len(SCHEMA_ROWS)
    config = (tmp_path / "tasks.label_config.xml").read_text(encoding="utf-8")
    assert config == label_config(SCHEMA)
    got = [r for _, r in records(out)]
    assert read_schema_tuples(got) == schema_tuples(SCHEMA_ROWS)
    first = validated(got[0])
    assert (first.label, first.strength, first.ratings) == (
        "B",
        "much",
        {"helpfulness": 4, "safety": 5},
    )
    assert validated(got[3]).strength is None and validated(got[3]).ratings is None
    assert validated(got[4]).reason == "ann-1 says both_bad"


def test_the_config_covers_what_answers_carry_without_a_schema(tmp_path: Path) -> None:
    """Answers given under an older schema (or a writer given none) still validate."""
    out = tmp_path / "tasks.json"
    write_label_studio(SCHEMA_ROWS, out)
    config = (tmp_path / "tasks.label_config.xml").read_text(encoding="utf-8")
    assert config == label_config(SCHEMA)
    write_label_studio(SCHEMA_ROWS, out, schema=ExportSchema(5, ("safety", "honesty")))
    config = (tmp_path / "tasks.label_config.xml").read_text(encoding="utf-8")
    assert config == label_config(ExportSchema(5, ("safety", "honesty", "helpfulness")))
    interface = LabelInterface(config)
    for task in json.loads(out.read_text(encoding="utf-8")):
        for annotation in task["annotations"]:
            assert interface.validate_annotation(annotation)


def test_bad_strength_or_rating_in_an_export_is_a_problem(tmp_path: Path) -> None:
    def annotation(*extra: dict[str, Any]) -> dict[str, Any]:
        choice = {"from_name": "preference", "type": "choices", "value": {"choices": ["A"]}}
        return {"completed_by": 1, "result": [choice, *extra]}

    def strength(value: Any) -> dict[str, Any]:
        return {"from_name": "strength", "type": "choices", "value": {"choices": [value]}}

    def rating(name: str, value: Any) -> dict[str, Any]:
        return {"from_name": name, "type": "rating", "value": {"rating": value}}

    path = write_tasks(
        tmp_path / "export.json",
        [
            {"data": {"pair_id": "p1"}, "annotations": [annotation(strength("Huge"))]},
            {"data": {"pair_id": "p2"}, "annotations": [annotation(rating("rating_x", 9))]},
            {"data": {"pair_id": "p3"}, "annotations": [annotation(rating("rating_x", "4"))]},
            {
                "data": {"pair_id": "p4"},
                "annotations": [
                    annotation(strength("much"), rating("rating_x", 4.0), rating("stars", 2))
                ],
            },
        ],
    )
    items = list(read_label_studio(path))
    problems = [(i.line, i.field, i.message) for i in items if isinstance(i, Problem)]
    assert [(line, field) for line, field, _ in problems] == [
        (1, "annotations[0].result"),
        (2, "annotations[0].result"),
        (3, "annotations[0].result"),
    ]
    assert '"Huge"' in problems[0][2] and "Much better" in problems[0][2]
    assert "rating_x" in problems[1][2] and "9" in problems[1][2]
    (good,) = [i for i in items if not isinstance(i, Problem)]
    assert good == (
        4,
        {
            "pair_id": "p4",
            "annotator": "label-studio-user-1",
            "label": "A",
            "strength": "much",
            "ratings": {"x": 4},
        },
    )  # a rating from a control without the rating_ prefix is not one of ours


@pytest.mark.parametrize("n", [0, 1, 257])
def test_writes_a_valid_json_array_for_any_number_of_rows(tmp_path: Path, n: int) -> None:
    rows = (pair(f"p{i}", ai_label="B", ai_confidence=0.5) for i in range(n))  # a generator
    out = tmp_path / "tasks.json"
    assert write_label_studio(rows, out) == n
    text = out.read_text(encoding="utf-8")
    tasks = json.loads(text)
    assert [t["data"]["pair_id"] for t in tasks] == [f"p{i}" for i in range(n)]
    assert text.count("\n") == (n + 2 if n else 1)  # one task per line
    assert [number for number, _ in read_json_array(out)] == list(range(1, n + 1))


def test_reads_a_label_studio_export(tmp_path: Path) -> None:
    export = [
        {
            "id": 7,
            "data": {"pair_id": "p1", "prompt": "?", "response_a": "a", "response_b": "b"},
            "annotations": [
                {
                    "id": 70,
                    "completed_by": 3,
                    "lead_time": 12.5,
                    "was_cancelled": False,
                    "result": [
                        {
                            "id": "x1",
                            "from_name": "preference",
                            "to_name": "prompt",
                            "type": "choices",
                            "origin": "manual",
                            "value": {"choices": ["B"]},
                        },
                        {
                            "id": "x2",
                            "from_name": "rationale",
                            "to_name": "prompt",
                            "type": "textarea",
                            "value": {"text": ["shorter", "and right"]},
                        },
                    ],
                },
                {
                    "completed_by": {"id": 4, "email": "rev@example.org"},
                    "result": [{"type": "choices", "value": {"choices": ["Both bad"]}}],
                },
                {"completed_by": 5, "was_cancelled": True, "result": []},
            ],
            "predictions": [],
        },
        {"id": 8, "data": {"pair_id": "p2"}, "annotations": []},
        {
            "id": 9,
            "data": {"pair_id": "p3"},
            "annotations": [
                {
                    "completed_by": {"id": 11},
                    "result": [{"type": "choices", "value": {"choices": ["tie"]}}],
                }
            ],
        },
    ]
    got = records(write_tasks(tmp_path / "export.json", export))
    assert got == [
        (
            1,
            {
                "pair_id": "p1",
                "annotator": "label-studio-user-3",
                "label": "B",
                "rationale": "shorter\nand right",
                "duration_s": 12.5,
            },
        ),
        (
            1,
            {
                "pair_id": "p1",
                "annotator": "rev@example.org",
                "label": "both_bad",
                "reason": IMPORTED_BOTH_BAD_REASON,
            },
        ),
        (3, {"pair_id": "p3", "annotator": "label-studio-user-11", "label": "tie"}),
    ]
    assert all(validated(r) for _, r in got)


def test_unknown_choice_and_missing_pair_id_are_problems_at_their_task(tmp_path: Path) -> None:
    good = {"completed_by": 1, "result": [{"type": "choices", "value": {"choices": ["A"]}}]}
    maybe = {"completed_by": 2, "result": [{"type": "choices", "value": {"choices": ["Maybe"]}}]}
    path = write_tasks(
        tmp_path / "export.json",
        [
            {"data": {"pair_id": "p1"}, "annotations": [good]},
            {"data": {"prompt": "no id"}, "annotations": [good]},
            {"data": {"pair_id": "p3"}, "annotations": [good, maybe]},
            {"data": {"pair_id": "p4"}, "annotations": [{"result": [good["result"][0]]}]},
            {"prompt": "JSON-MIN row", "preference": "A"},
        ],
    )
    items = list(read_label_studio(path))
    problems = [(i.line, i.field) for i in items if isinstance(i, Problem)]
    assert problems == [
        (2, "data.pair_id"),
        (3, "annotations[1].result"),
        (4, "annotations[0].completed_by"),
        (5, "data"),
    ]
    assert [i[0] for i in items if not isinstance(i, Problem)] == [1, 3]
    maybe_problem = next(i for i in items if isinstance(i, Problem) and i.line == 3)
    assert '"Maybe"' in maybe_problem.message and "Both bad" in maybe_problem.message
    assert str(maybe_problem).startswith(f"{path}, line 3, field 'annotations[1].result': ")


def test_truncated_export_is_one_problem_at_the_line_and_column_json_reports(
    tmp_path: Path,
) -> None:
    text = '[{"data": {"pair_id": "p1"}, "annotations": []},\n{"data": {"pair_id"'
    with pytest.raises(json.JSONDecodeError) as reference:
        json.loads(text)
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    (problem,) = list(read_label_studio(path))
    assert isinstance(problem, Problem) and problem.line == 0
    where = f"line {reference.value.lineno}, column {reference.value.colno}"
    assert f"broken JSON at {where}" in problem.message
    assert "(in element 2)" in problem.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"data": {}}', "expected a JSON array"),
        ("[1,]", "Expecting value"),
        ("[1 2]", "expected ',' or ']' after element 1"),
        ("[1, 2", "expected ']' to close the array after element 2"),
        ("[1] [2]", "unexpected data after the closing ']'"),
        ("  ", "the file is empty"),
    ],
)
def test_anything_but_one_json_array_is_one_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    problems = [i for i in read_json_array(path) if isinstance(i, Problem)]
    assert len(problems) == 1
    assert problems[0].line == 0 and message in problems[0].message


def test_invalid_utf8_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_bytes(b'[{"data": {"pair_id": "\xff"}}]')
    (problem,) = list(read_label_studio(path))
    assert isinstance(problem, Problem) and "UTF-8" in problem.message


def test_array_reader_is_exact_across_tiny_read_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(json_array, "_CHUNK_CHARS", 3)
    values: list[Any] = [12345678901234567890, "a,]b", {"k": [1, 2.5e-3, None]}, [], "é" * 40, 7]
    path = tmp_path / "values.json"
    path.write_text(
        "\ufeff [ " + " ,\n ".join(json.dumps(v) for v in values) + "\n]\n", encoding="utf-8"
    )
    assert list(read_json_array(path)) == list(enumerate(values, start=1))

    path.write_text("[\n1,\n  2 x\n]", encoding="utf-8")
    *elements, problem = list(read_json_array(path))
    assert elements == [(1, 1), (2, 2)]
    assert isinstance(problem, Problem) and "line 3, column 5" in problem.message
