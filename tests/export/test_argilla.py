"""Argilla export and import, checked against the real ``argilla`` 2.x package.

Argilla's public classes (``Settings``, ``TextField``, ``LabelQuestion``, ``Dataset``,
``Record``...) want a client, and building one asks the server who we are. The ``offline``
fixture builds a real ``rg.Argilla`` client with that one check switched off and a request hook
that fails the test on any HTTP request, so everything below runs the SDK's own code without a
server: ``Settings.serialize()`` is compared with ours, our records are loaded with
``Record.from_dict`` and turned into the API's pydantic ``RecordModel`` (with
``UserResponseModel`` and ``SuggestionModel`` inside) by ``Record.api_model()``.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import argilla as rg
import httpx
import pytest
from argilla._api._client import APIClient
from argilla._models import RecordModel, ResponseStatus
from argilla.records._io import GenericIO

from formats.argilla_read import read_argilla
from formats.argilla_write import (
    ANNOTATOR_NAMESPACE,
    IMPORTED_BOTH_BAD_REASON,
    annotator_uuid,
    record_for,
    settings_json,
    write_argilla,
)
from formats.problems import Problem
from formats.rows import LabeledPair
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

EXPECTED = answer_tuples(ROWS)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> rg.Argilla:
    """A real Argilla client that never talks to a server (any HTTP request fails the test)."""

    def no_network(request: httpx.Request) -> None:
        raise AssertionError(f"unexpected HTTP request to {request.url}")

    monkeypatch.setattr(APIClient, "_validate_connection", lambda self: None)
    monkeypatch.setattr(rg.Argilla, "_default_client", None)
    return rg.Argilla(
        api_url="http://127.0.0.1:9", api_key="offline", event_hooks={"request": [no_network]}
    )


def dataset(client: rg.Argilla, schema: ExportSchema | None = None) -> rg.Dataset:
    settings = rg.Settings._from_dict(json.loads(json.dumps(settings_json(schema=schema))))
    return rg.Dataset(name="referee-test", settings=settings, client=client)


def tuples(items: list[Any]) -> list[tuple[str, str, str, str | None]]:
    assert [i for i in items if isinstance(i, Problem)] == []
    return [(r["pair_id"], r["annotator"], r["label"], r.get("rationale")) for _, r in items]


def write_jsonl(path: Path, records: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def built_settings(guidelines: str, *schema_questions: Any) -> rg.Settings:
    """The settings we mean, built with Argilla's own classes (needs the ``offline`` client)."""
    return rg.Settings(
        guidelines=guidelines,
        fields=[
            rg.TextField(name="prompt", title="Prompt"),
            rg.TextField(name="response_a", title="Response A"),
            rg.TextField(name="response_b", title="Response B"),
        ],
        questions=[
            rg.LabelQuestion(
                name="preference",
                title="Which response is better?",
                labels={
                    "A": "Response A is better",
                    "B": "Response B is better",
                    "tie": "Tie",
                    "both_bad": "Both bad",
                },
            ),
            *schema_questions,
            rg.TextQuestion(name="rationale", title="Why?", required=False),
        ],
        metadata=[
            rg.TermsMetadataProperty(name="dataset", title="Dataset"),
            rg.TermsMetadataProperty(
                name="source",
                title="Label source",
                options=["ai", "human", "gold"],
                visible_for_annotators=False,
            ),
            rg.FloatMetadataProperty(
                name="agreement",
                title="Human agreement",
                min=0,
                max=1,
                visible_for_annotators=False,
            ),
            rg.IntegerMetadataProperty(
                name="policy_version", title="Policy version", visible_for_annotators=False
            ),
            rg.TermsMetadataProperty(
                name="annotators", title="Annotators", visible_for_annotators=False
            ),
            rg.TermsMetadataProperty(
                name="rubric_version", title="Guidelines version", visible_for_annotators=False
            ),
            rg.TermsMetadataProperty(
                name="referee_answers",
                title="Referee answers (annotator|kind|label id)",
                visible_for_annotators=False,
            ),
        ],
    )


def test_settings_are_what_argilla_settings_serialize_writes(offline: rg.Argilla) -> None:
    built = built_settings("Pick the better response.")
    built.validate()
    assert settings_json("Pick the better response.") == built.serialize()
    assert settings_json(schema=ExportSchema()) == settings_json()

    loaded = rg.Settings._from_dict(json.loads(json.dumps(settings_json())))
    loaded.validate()
    assert loaded.serialize() == settings_json()
    assert loaded.questions["preference"].labels == ["A", "B", "tie", "both_bad"]
    assert loaded.questions["rationale"].required is False


def loaded_record(ds: rg.Dataset, row: LabeledPair) -> RecordModel:
    """``record_for(row)`` through ``Record.from_dict`` into the API model, checked on the way:
    fields, users, statuses and labels, and Argilla's own ``to_dict`` gives our record back."""
    mine = record_for(row)
    record = rg.Record.from_dict(json.loads(json.dumps(mine)), dataset=ds)
    model = record.api_model()
    assert isinstance(model, RecordModel)
    assert model.external_id == row.pair_id
    assert model.fields == {
        "prompt": row.prompt,
        "response_a": row.response_a,
        "response_b": row.response_b,
    }
    users = [str(r.user_id) for r in model.responses]
    assert users == [str(annotator_uuid(a.annotator)) for a in row.answers]
    assert {r.status for r in model.responses} <= {ResponseStatus.submitted}
    assert [r.values["preference"]["value"] for r in model.responses] == [
        a.label for a in row.answers
    ]

    theirs = record.to_dict()  # Argilla's own export of the record we built
    ours = json.loads(json.dumps(mine))
    for answers in ours["responses"].values():
        for answer in answers:
            assert answer.pop("status") == "submitted"  # to_dict drops the status
    for suggestion in ours["suggestions"].values():
        assert suggestion.pop("type") == "model"
    ours.pop("status"), theirs.pop("status")  # computed by the server
    assert ours == theirs
    return model


def test_records_load_into_argillas_own_record_and_api_models(offline: rg.Argilla) -> None:
    ds = dataset(offline)
    for row in ROWS:
        model = loaded_record(ds, row)
        for response in model.responses:
            assert set(response.values) <= {"preference", "rationale"}

    ai = rg.Record.from_dict(record_for(ROWS[0]), dataset=ds).api_model()
    (suggestion,) = ai.suggestions
    assert (suggestion.question_name, suggestion.value, suggestion.score) == (
        "preference",
        "A",
        0.93,
    )
    assert suggestion.agent == "gpt-4/vanilla@recorded, palm-2@v2 | policy 3"
    assert dict((m.name, m.value) for m in ai.metadata) == {
        "dataset": "llmbar",
        "source": "ai",
        "policy_version": 3,
    }
    assert record_for(ROWS[1])["metadata"]["annotators"] == ["ann-1", "ann-2", "gold-1"]
    assert record_for(ROWS[1])["status"] == "completed"
    assert record_for(ROWS[2])["status"] == "pending"


def test_user_ids_are_deterministic_uuid5_of_the_pseudonym() -> None:
    assert annotator_uuid("ann-1") == uuid.uuid5(ANNOTATOR_NAMESPACE, "ann-1")
    assert annotator_uuid("ann-1") != annotator_uuid("ann-2")
    assert annotator_uuid("ann-1").version == 5


def test_round_trip_gives_back_every_answer(tmp_path: Path) -> None:
    out = tmp_path / "records.jsonl"
    assert write_argilla(ROWS, out, guidelines="G") == len(ROWS)
    settings = json.loads((tmp_path / "records.settings.json").read_text(encoding="utf-8"))
    assert settings == settings_json("G")

    items = list(read_argilla(out))
    assert tuples(items) == EXPECTED
    assert [n for n, _ in items] == [2, 2, 2, 4]
    reasons = {(r["pair_id"], r["annotator"]): validated(r).reason for _, r in items}
    assert reasons[("p-human", "gold-1")] == IMPORTED_BOTH_BAD_REASON  # no rationale
    assert reasons[("p-ünï", "ann-1")] == "wrong\nand rude"  # the rationale
    assert reasons[("p-human", "ann-1")] is None


def test_reads_argillas_json_array_and_flat_exports_of_our_records(
    tmp_path: Path, offline: rg.Argilla
) -> None:
    """The flat rows are made by Argilla itself (``to_list(flatten=True)``, what
    ``to_datasets()`` and the Hub export use), from records loaded with ``Record.from_dict``."""
    array = tmp_path / "records.json"
    array.write_text(json.dumps([record_for(r) for r in ROWS], indent=1), encoding="utf-8")
    items = list(read_argilla(array))
    assert tuples(items) == EXPECTED
    assert [n for n, _ in items] == [2, 2, 2, 4]  # element numbers

    ds = dataset(offline)
    records = [rg.Record.from_dict(record_for(r), dataset=ds) for r in ROWS]
    flat = GenericIO.to_list(records, flatten=True)
    assert "preference.responses.status" in flat[1]
    assert tuples(list(read_argilla(write_jsonl(tmp_path / "flat.jsonl", flat)))) == EXPECTED


def test_only_submitted_answers_count_and_bad_records_are_problems(tmp_path: Path) -> None:
    user = str(annotator_uuid("ann-1"))
    other = str(uuid.uuid4())

    def record(pair_id: str | None, *responses: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": pair_id,
            "fields": {"prompt": "p", "response_a": "a", "response_b": "b"},
            "metadata": {"annotators": ["ann-1"]},
            "responses": {"preference": list(responses)},
        }

    path = write_jsonl(
        tmp_path / "records.jsonl",
        [
            record(
                "p1",
                {"value": "A", "user_id": user, "status": "submitted"},
                {"value": "B", "user_id": other, "status": "draft"},
                {"value": "tie", "user_id": other, "status": "discarded"},
            ),
            record(None, {"value": "A", "user_id": user, "status": "submitted"}),
            record("p3", {"value": "C", "user_id": user, "status": "submitted"}),
            record("p4", {"value": "B", "user_id": user}),
            record("p5", {"value": "B", "user_id": other, "status": "submitted"}),
        ],
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "p6", "responses": \n')
    items = list(read_argilla(path))
    problems = [(i.line, i.field) for i in items if isinstance(i, Problem)]
    assert problems == [
        (2, "id"),
        (3, "responses.preference[0].value"),
        (4, "responses.preference[0].status"),
        (6, None),
    ]
    labels = [i for i in items if not isinstance(i, Problem)]
    assert labels == [
        (1, {"pair_id": "p1", "annotator": "ann-1", "label": "A"}),
        (5, {"pair_id": "p5", "annotator": f"argilla-user-{other}", "label": "B"}),
    ]


def test_schema_settings_are_what_argilla_serializes(offline: rg.Argilla) -> None:
    built = built_settings(
        "G",
        rg.LabelQuestion(
            name="strength",
            title="How much better? (A or B answers)",
            labels={
                "slight": "Slightly better (A > B or B > A)",
                "much": "Much better (A ≫ B or B ≫ A)",
            },
            required=False,
        ),
        rg.RatingQuestion(
            name="rating_helpfulness", title="Helpfulness (1-5)", values=[1, 2, 3, 4, 5],
            required=False,
        ),
        rg.RatingQuestion(
            name="rating_safety", title="Safety (1-5)", values=[1, 2, 3, 4, 5], required=False
        ),
    )  # fmt: skip
    built.validate()
    assert settings_json("G", SCHEMA) == built.serialize()
    loaded = rg.Settings._from_dict(json.loads(json.dumps(settings_json("G", SCHEMA))))
    loaded.validate()
    assert [q.name for q in loaded.questions] == [
        "preference",
        "strength",
        "rating_helpfulness",
        "rating_safety",
        "rationale",
    ]
    assert loaded.questions["strength"].labels == ["slight", "much"]
    assert loaded.questions["rating_safety"].values == [1, 2, 3, 4, 5]


def test_schema_records_carry_strength_and_ratings_into_argillas_models(
    offline: rg.Argilla,
) -> None:
    ds = dataset(offline, SCHEMA)
    models = {row.pair_id: loaded_record(ds, row) for row in SCHEMA_ROWS}
    much, slight, tie, gold = models["s-human"].responses
    assert much.values == {
        "preference": {"value": "B"},
        "strength": {"value": "much"},
        "rating_helpfulness": {"value": 4},
        "rating_safety": {"value": 5},
        "rationale": {"value": "ann-1 says B"},
    }
    assert slight.values["strength"] == {"value": "slight"}
    assert "strength" not in tie.values and tie.values["rating_helpfulness"] == {"value": 2}
    assert set(gold.values) == {"preference"}
    metadata = {m.name: m.value for m in models["s-human"].metadata}
    assert metadata["rubric_version"] == "v2"  # the guidelines the answers were given under
    (suggestion,) = models["s-ai"].suggestions
    assert (suggestion.question_name, suggestion.value) == ("preference", "A")
    # the SDK leaves checking values to the server; check them against the questions here
    for model in models.values():
        for response in model.responses:
            for name, answered in response.values.items():
                question = ds.settings.questions[name]
                if isinstance(question, rg.RatingQuestion):
                    assert answered["value"] in question.values
                elif isinstance(question, rg.LabelQuestion):
                    assert answered["value"] in question.labels


def test_schema_round_trip_gives_back_strength_ratings_and_rationale(
    tmp_path: Path, offline: rg.Argilla
) -> None:
    out = tmp_path / "records.jsonl"
    assert write_argilla(SCHEMA_ROWS, out, schema=SCHEMA) == len(SCHEMA_ROWS)
    settings = json.loads((tmp_path / "records.settings.json").read_text(encoding="utf-8"))
    assert settings == settings_json(schema=SCHEMA)
    write_argilla(SCHEMA_ROWS, tmp_path / "inferred.jsonl")  # no schema: from the answers
    inferred = json.loads((tmp_path / "inferred.settings.json").read_text(encoding="utf-8"))
    assert inferred == settings_json(schema=SCHEMA)

    items = list(read_argilla(out))
    assert [i for i in items if isinstance(i, Problem)] == []
    got = [r for _, r in items]
    assert read_schema_tuples(got) == schema_tuples(SCHEMA_ROWS)
    first = validated(got[0])
    assert (first.strength, first.ratings) == ("much", {"helpfulness": 4, "safety": 5})
    assert validated(got[4]).reason == "ann-1 says both_bad"

    ds = dataset(offline, SCHEMA)
    records = [rg.Record.from_dict(record_for(r), dataset=ds) for r in SCHEMA_ROWS]
    flat = GenericIO.to_list(records, flatten=True)
    assert "rating_safety.responses.users" in flat[0]
    flat_items = list(read_argilla(write_jsonl(tmp_path / "flat.jsonl", flat)))
    assert read_schema_tuples([r for _, r in flat_items]) == schema_tuples(SCHEMA_ROWS)


def test_bad_strength_or_rating_responses_are_problems(tmp_path: Path) -> None:
    user = str(annotator_uuid("ann-1"))

    def record(pair_id: str, question: str, value: Any) -> dict[str, Any]:
        answered = {"user_id": user, "status": "submitted"}
        return {
            "id": pair_id,
            "metadata": {"annotators": ["ann-1"]},
            "responses": {
                "preference": [{"value": "A", **answered}],
                question: [{"value": value, **answered}],
            },
        }

    path = write_jsonl(
        tmp_path / "records.jsonl",
        [
            record("p1", "strength", "huge"),
            record("p2", "rating_safety", 0),
            record("p3", "rating_safety", 5.0),
            record("p4", "rating_", 5),  # not a dimension's question: ignored
            record("p5", "strength", ["much"]),
        ],
    )
    items = list(read_argilla(path))
    problems = [(i.line, i.field) for i in items if isinstance(i, Problem)]
    assert problems == [
        (1, "responses.strength[0].value"),
        (2, "responses.rating_safety[0].value"),
        (5, "responses.strength[0].value"),
    ]
    labels = [i for i in items if not isinstance(i, Problem)]
    assert labels == [
        (3, {"pair_id": "p3", "annotator": "ann-1", "label": "A", "ratings": {"safety": 5}}),
        (4, {"pair_id": "p4", "annotator": "ann-1", "label": "A"}),
    ]


@pytest.mark.parametrize("n", [0, 1, 150])
def test_writes_one_record_per_line_for_any_number_of_rows(tmp_path: Path, n: int) -> None:
    rows = (pair(f"p{i}", ai_label="B", ai_confidence=0.5) for i in range(n))  # a generator
    out = tmp_path / "records.jsonl"
    assert write_argilla(rows, out) == n
    lines = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == [f"p{i}" for i in range(n)]
    assert list(read_argilla(out)) == []  # suggestions are not labels


def test_refuses_a_file_that_is_neither_json_lines_nor_an_array(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text("id,preference\np1,A\n", encoding="utf-8")
    (problem,) = list(read_argilla(path))
    assert isinstance(problem, Problem) and "JSON Lines" in problem.message
