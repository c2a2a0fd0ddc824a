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

from referee.export import label_studio
from referee.export.label_studio import (
    CHOICE_FOR_LABEL,
    IMPORTED_BOTH_BAD_REASON,
    LABEL_CONFIG,
    read_json_array,
    read_label_studio,
    task_for,
    write_label_studio,
)
from referee.export.rows import LABELS, HumanAnswer, JudgeRef, LabeledPair
from referee.ingest.problems import Problem
from referee.ingest.records import LabelRecord, validate_label

JUDGES = (JudgeRef("gpt-4/vanilla", "recorded"), JudgeRef("palm-2", "v2"))


def pair(pair_id: str, **kw: Any) -> LabeledPair:
    base: dict[str, Any] = {
        "pair_id": pair_id,
        "dataset": "llmbar",
        "prompt": f"prompt of {pair_id}",
        "response_a": "first answer",
        "response_b": "second answer",
        "label": None,
        "source": None,
        "method": "pending",
    }
    return LabeledPair(**{**base, **kw})


ROWS = [
    pair(
        "p-ai",
        label="A",
        source="ai",
        method="auto_accept",
        policy_version=3,
        judges=JUDGES,
        ai_label="A",
        ai_confidence=0.93,
        meta={"source": "LLMBar/Natural"},
    ),
    pair(
        "p-human",
        label="B",
        source="human",
        method="majority",
        ai_label="tie",
        ai_confidence=0.55,
        judges=JUDGES[:1],
        answers=(
            HumanAnswer("ann-1", "B", "review", "2026-01-02T03:04:05Z", "B is more accurate"),
            HumanAnswer("ann-2", "tie", "review", None),
            HumanAnswer("gold-1", "both_bad", "gold", None, None, "both refuse to answer"),
        ),
        agreement=1 / 3,
    ),
    pair("p-pending"),
    pair(
        "p-ünï",
        prompt="Übersetze „Hallo“ 👋",
        response_b="",
        label="both_bad",
        source="human",
        method="single",
        answers=(HumanAnswer("ann-1", "both_bad", "review", None, "wrong\nand rude"),),
    ),
]


def answer_tuples(rows: list[LabeledPair]) -> list[tuple[str, str, str, str | None]]:
    return [(r.pair_id, a.annotator, a.label, a.rationale) for r in rows for a in r.answers]


def records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    items = list(read_label_studio(path))
    problems = [i for i in items if isinstance(i, Problem)]
    assert problems == []
    return [i for i in items if not isinstance(i, Problem)]


def validated(raw: dict[str, Any]) -> LabelRecord:
    result = validate_label(raw, max_field_bytes=1_000_000)
    assert isinstance(result, LabelRecord), result
    return result


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
    assert first["result"][0]["meta"] == {"referee_annotator": "ann-1"}
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
    monkeypatch.setattr(label_studio, "_CHUNK_CHARS", 3)
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
