"""Issue 22: exports keep the conversation.

DPO (conversational style) writes the turns in ``prompt`` and the candidate turn in ``chosen`` /
``rejected``, which ``datasets`` loads and TRL's DPO data preparation renders with a chat
template; full JSON Lines carries ``messages``; Label Studio shows a ``Paragraphs`` dialogue and
Argilla a ``ChatField``, both checked with the tools' own SDKs, and both round trips add nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import argilla as rg
import httpx
import pytest
from argilla._api._client import APIClient
from argilla.records._io import GenericIO
from label_studio_sdk.label_interface import LabelInterface
from label_studio_sdk.types import AnnotationRequest, ImportApiRequest
from sqlalchemy import Engine

from formats.argilla_write import record_for, settings_json
from formats.label_studio_write import DIALOGUE, label_config, task_for
from formats.rows import HumanAnswer, LabeledPair
from judge.conversation import flat_prompt, messages_to_json
from tests.export.kwise_data import CHAT, add_pair
from tests.export.release_data import cli_json
from tests.export.test_dpo_export import _through_trl
from tests.helpers import run_cli

TURNS = messages_to_json(CHAT)


def _mixed_dataset(engine: Engine) -> None:
    """A conversation labeled A, one labeled tie, and a single-turn pair labeled B (gold)."""
    add_pair(engine, "chat-1", "Rome.", "Milan.", turns=CHAT, gold="A")
    add_pair(engine, "chat-2", "Rome, I think.", "Rome.", turns=CHAT, gold="tie")
    add_pair(engine, "plain-1", "four", "4", prompt="What is 2 + 2?", gold="B")


def _export(url: str, fmt: str, out: Path, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = cli_json(
        url, "export", "--dataset", "d", "--format", fmt, "--out", str(out), *extra
    )
    return doc


def _lines(path: Path) -> dict[str, dict[str, Any]]:
    return {(d := json.loads(line))["pair_id"]: d for line in path.read_text().splitlines()}


def test_conversational_dpo_loads_in_datasets_and_trl(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    from trl.data_utils import maybe_apply_chat_template

    _mixed_dataset(engine)
    out = tmp_path / "train.jsonl"
    assert _export(db_url, "dpo", out, "--include-ties")["rows"] == 2
    rows = _lines(out)
    assert rows["chat-1"]["prompt"] == TURNS  # every earlier turn, roles kept
    assert rows["chat-1"]["chosen"] == [{"role": "assistant", "content": "Rome."}]
    assert rows["chat-1"]["rejected"] == [{"role": "assistant", "content": "Milan."}]
    assert rows["plain-1"]["prompt"] == [{"role": "user", "content": "What is 2 + 2?"}]
    (tie,) = _lines(tmp_path / "train.ties.jsonl").values()
    assert tie["prompt"] == TURNS and tie["label"] == "tie"

    ds, prepared = _through_trl(out, tmp_path, "json")
    assert ds.num_rows == prepared.num_rows == 2
    assert sorted(prepared["pair_id"]) == ["chat-1", "plain-1"]
    tokenizer = _tokenizer_with_template()
    row = next(r for r in ds if r["pair_id"] == "chat-1")
    rendered = maybe_apply_chat_template(row, tokenizer)
    assert rendered["prompt"] == (
        "system: You are a terse assistant.\nuser: What is the capital of France?\n"
        "assistant: Paris.\nuser: And of Italy?\nassistant: "
    )
    assert rendered["chosen"].startswith("Rome.") and rendered["rejected"].startswith("Milan.")


def _tokenizer_with_template() -> Any:
    from tests.export.test_dpo_export import _tiny_tokenizer

    return _tiny_tokenizer({"user", "assistant", "system"})


def test_standard_style_writes_the_flat_text_of_a_conversation(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    _mixed_dataset(sqlite_engine)
    out = tmp_path / "train.jsonl"
    _export(sqlite_url, "dpo", out, "--style", "standard")
    rows = _lines(out)
    assert rows["chat-1"]["prompt"] == flat_prompt(CHAT)
    assert rows["chat-1"]["chosen"] == "Rome." and rows["plain-1"]["prompt"] == "What is 2 + 2?"


def test_full_jsonl_carries_the_messages(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    _mixed_dataset(sqlite_engine)
    add_pair(sqlite_engine, "k-0-1", "x", "y", group=("rec", "0", "1"), gold="A")
    out = tmp_path / "all.jsonl"
    _export(sqlite_url, "jsonl", out)
    rows = _lines(out)
    assert rows["chat-1"]["messages"] == TURNS and rows["chat-1"]["prompt"] == flat_prompt(CHAT)
    assert rows["plain-1"]["messages"] is None  # every key in every row, null where unset
    assert (rows["k-0-1"]["group_id"], rows["k-0-1"]["response_b_ref"]) == ("rec", "1")
    for doc in rows.values():
        assert LabeledPair.from_json(doc).to_json() == doc


CHAT_ROW = LabeledPair(
    pair_id="c1", dataset="d", prompt=flat_prompt(CHAT), response_a="Rome.", response_b="Milan.",
    label="A", source="human", method="majority", ai_label="B", ai_confidence=0.6,
    answers=(HumanAnswer("annotator-1", "A", "review", None, "A is right"),),
    messages=TURNS,
)  # fmt: skip
PLAIN_ROW = LabeledPair(
    pair_id="p1", dataset="d", prompt="What is 2 + 2?", response_a="4", response_b="five",
    label=None, source=None, method="pending",
)  # fmt: skip


def test_label_studio_chat_config_and_tasks_pass_the_sdk_checks() -> None:
    config = label_config(conversational=True)
    interface = LabelInterface(config)
    interface.validate()
    objects = {o.name: o.tag for o in interface.objects}
    assert objects == {DIALOGUE: "Paragraphs", "response_a": "Text", "response_b": "Text"}
    assert '<Paragraphs name="dialogue" value="$messages" layout="dialogue" nameKey="role" ' \
        'textKey="content"/>' in config  # fmt: skip
    assert config.index("dialogue") < config.index("response_a")  # the chat, then the replies
    assert {tuple(c.to_name) for c in interface.controls} == {(DIALOGUE,)}
    for row in (CHAT_ROW, PLAIN_ROW):
        task = task_for(row, conversational=True)
        assert interface.validate_task({"data": task["data"]})
        ImportApiRequest.model_validate({k: v for k, v in task.items() if k != "predictions"})
        for prediction in task.get("predictions", []):
            assert interface.validate_prediction(prediction, return_errors=True) == []
        for annotation in task["annotations"]:
            assert interface.validate_annotation(annotation)
            AnnotationRequest.model_validate(annotation)
    assert task_for(CHAT_ROW, conversational=True)["data"]["messages"] == TURNS
    assert task_for(PLAIN_ROW, conversational=True)["data"]["messages"] == [
        {"role": "user", "content": "What is 2 + 2?"}
    ]
    with pytest.raises(ValueError, match="conversation"):
        task_for(CHAT_ROW)  # the plain config has nowhere to show the turns


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


def test_argilla_chat_field_is_what_the_sdk_serializes_and_records_load(
    offline: rg.Argilla,
) -> None:
    mine = settings_json(conversational=True)
    chat = rg.ChatField(name="prompt", title="Conversation", use_markdown=False)
    assert mine["fields"][0] == chat.serialize()
    assert mine["fields"][1:] == settings_json()["fields"][1:]
    settings = rg.Settings._from_dict(json.loads(json.dumps(mine)))
    assert isinstance(settings.fields["prompt"], rg.ChatField)
    ds = rg.Dataset(name="chat", settings=settings, client=offline)
    for row in (CHAT_ROW, PLAIN_ROW):
        record = rg.Record.from_dict(record_for(row, conversational=True), dataset=ds)
        model = record.api_model()
        want = TURNS if row is CHAT_ROW else [{"role": "user", "content": row.prompt}]
        assert [dict(m) for m in model.fields["prompt"]] == want  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="conversation"):
        record_for(CHAT_ROW)


def _argilla_flat(out: Path, client: rg.Argilla) -> Path:
    """The records as Argilla's SDK exports them (``to_list(flatten=True)``), offline."""
    settings_file = out.with_name(f"{out.stem}.settings.json")
    settings = rg.Settings._from_dict(json.loads(settings_file.read_text()))
    ds = rg.Dataset(name="rt", settings=settings, client=client)
    records = [rg.Record.from_dict(json.loads(line), dataset=ds) for line in out.open()]
    flat = out.with_name("argilla-flat.jsonl")
    with flat.open("w", encoding="utf-8") as handle:
        for row in GenericIO.to_list(records, flatten=True):
            handle.write(json.dumps(row, default=str) + "\n")
    return flat


@pytest.mark.parametrize(("fmt", "name"), [("label-studio", "t.json"), ("argilla", "r.jsonl")])
def test_round_trip_of_a_conversational_dataset_adds_nothing(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, fmt: str, name: str, request: Any
) -> None:
    _mixed_dataset(sqlite_engine)
    out = tmp_path / name
    assert _export(sqlite_url, fmt, out)["rows"] == 3
    if fmt == "label-studio":
        config = (tmp_path / "t.label_config.xml").read_text()
        assert 'name="dialogue"' in config
        tasks = json.loads(out.read_text())
        assert {t["data"]["pair_id"]: t["data"]["messages"][0]["role"] for t in tasks} == {
            "chat-1": "system", "chat-2": "system", "plain-1": "user",
        }  # fmt: skip
        source = out
    else:
        settings = json.loads((tmp_path / "r.settings.json").read_text())
        assert settings["fields"][0]["type"] == "chat"
        source = _argilla_flat(out, request.getfixturevalue("offline"))
    for _ in range(2):
        result = run_cli(sqlite_url, "labels", "import", str(source), "--format", fmt,
                         "--kind", "gold")  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "— 0 new, 3 already stored" in result.stdout


def test_conversational_parquet_holds_the_turns_as_a_message_list(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from formats.dpo import write_dpo

    plain = LabeledPair(
        pair_id="p2", dataset="d", prompt="What is 2 + 2?", response_a="4", response_b="five",
        label="A", source="ai", method="auto_accept",
    )  # fmt: skip
    out = tmp_path / "train.parquet"
    assert write_dpo([CHAT_ROW, plain], out) == 2
    table = pq.read_table(out).to_pylist()
    assert table[0]["prompt"] == TURNS
    assert table[1]["prompt"] == [{"role": "user", "content": "What is 2 + 2?"}]
    assert table[0]["chosen"] == [{"role": "assistant", "content": "Rome."}]


def test_a_release_keeps_the_conversation(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    _mixed_dataset(sqlite_engine)
    made = run_cli(sqlite_url, "release", "--dataset", "d", "--name", "v1",
                   "--min-agreement-items", "0", "--out", str(tmp_path / "rel"))  # fmt: skip
    assert made.exit_code == 0, made.output
    frozen = [json.loads(line) for line in (tmp_path / "rel" / "rows.jsonl").open()]
    assert {r["pair_id"]: r.get("messages") for r in frozen} == {
        "chat-1": TURNS, "chat-2": TURNS, "plain-1": None,
    }  # fmt: skip
    out = tmp_path / "v1.jsonl"
    assert _export(sqlite_url, "dpo", out, "--release", "v1")["rows"] == 2
    assert _lines(out)["chat-1"]["prompt"] == TURNS
    tasks = tmp_path / "v1.json"
    _export(sqlite_url, "label-studio", tasks, "--release", "v1")
    assert json.loads(tasks.read_text())[0]["data"]["messages"] == TURNS
