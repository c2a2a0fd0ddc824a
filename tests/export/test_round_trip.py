"""Issue 20: a Label Studio or Argilla round trip into the *same* database adds nothing.

Export, (pass the file through the tool's own SDK where it has one offline), import back: every
answer is recognised by the Referee ids it carries ("0 new, N already stored"), gold answers
never come back as review votes, a changed answer revises the stored one (history in the audit
log) instead of adding a copy, and a changed gold answer under ``--kind review`` is refused.
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
from sqlalchemy import Engine, func, select

from formats.argilla_write import settings_json
from referee.db.engine import ensure_schema, make_engine, transaction
from referee.db.models import AuditEntry, HumanLabel
from tests.export.release_data import answer, cli_json, routed_dataset
from tests.helpers import run_cli, snapshot

FORMATS = [("label-studio", "tasks.json"), ("argilla", "records.jsonl")]


def _count(engine: Engine) -> dict[str, int]:
    with transaction(engine) as s:
        rows = s.execute(select(HumanLabel.kind, func.count()).group_by(HumanLabel.kind))
        return {kind: int(n) for kind, n in rows}


def _through_argilla_sdk(out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The records as Argilla's own SDK exports them (``to_list(flatten=True)``), offline."""

    def no_network(request: httpx.Request) -> None:
        raise AssertionError(f"unexpected HTTP request to {request.url}")

    monkeypatch.setattr(APIClient, "_validate_connection", lambda self: None)
    monkeypatch.setattr(rg.Argilla, "_default_client", None)
    client = rg.Argilla(
        api_url="http://127.0.0.1:9", api_key="offline", event_hooks={"request": [no_network]}
    )
    settings = rg.Settings._from_dict(json.loads(json.dumps(settings_json())))
    ds = rg.Dataset(name="rt", settings=settings, client=client)
    records = [rg.Record.from_dict(json.loads(line), dataset=ds) for line in out.open()]
    flat = out.with_name("argilla-flat.jsonl")
    with flat.open("w", encoding="utf-8") as handle:
        for row in GenericIO.to_list(records, flatten=True):
            handle.write(json.dumps(row, default=str) + "\n")
    return flat


def _edit(path: Path, fmt: str, pair_id: str, kind: str, new_label: str) -> None:
    """Change the exported ``kind`` answer on ``pair_id`` to ``new_label`` in the file."""
    if fmt == "label-studio":
        tasks: list[dict[str, Any]] = json.loads(path.read_text())
        for task in tasks:
            for annotation in task["annotations"]:
                choice = annotation["result"][0]
                if choice["meta"]["referee_pair_id"] == pair_id and (
                    choice["meta"]["referee_kind"] == kind
                ):
                    choice["value"]["choices"] = [{"A": "A", "B": "B"}[new_label]]
        path.write_text(json.dumps(tasks))
        return
    lines = [json.loads(line) for line in path.open()]
    for record in lines:
        if record["id"] == pair_id:
            (tag,) = [t for t in record["metadata"]["referee_answers"] if f"|{kind}|" in t]
            user = _uuid(tag.split("|")[0])
            for response in record["responses"]["preference"]:
                if response["user_id"] == user:
                    response["value"] = new_label
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))


def _uuid(pseudonym: str) -> str:
    from formats.argilla_read import annotator_uuid

    return str(annotator_uuid(pseudonym))


@pytest.mark.parametrize(("fmt", "name"), FORMATS)
def test_an_unchanged_round_trip_adds_nothing_and_gold_stays_gold(
    sqlite_engine: Engine,
    sqlite_url: str,
    tmp_path: Path,
    fmt: str,
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(
        sqlite_engine,
        [(review[0], "alice", "B", "review"), (review[1], "bob", "both_bad", "review")],
    )
    before = _count(sqlite_engine)
    assert before == {"gold": 100, "review": 2}
    out = tmp_path / name
    cli_json(sqlite_url, "export", "--dataset", "d", "--format", fmt, "--out", str(out))
    source = _through_argilla_sdk(out, monkeypatch) if fmt == "argilla" else out
    for kind in ("review", "gold"):
        result = run_cli(
            sqlite_url, "labels", "import", str(source), "--format", fmt, "--kind", kind
        )
        assert result.exit_code == 0, result.output
        assert "— 0 new, 102 already stored" in result.stdout
    assert _count(sqlite_engine) == before  # no copy under a pseudonym, no gold as a review
    agreement = cli_json(sqlite_url, "agreement", "--dataset", "d")
    assert agreement["comparable_items"] == 0  # nobody agrees with a copy of themselves


@pytest.mark.parametrize(("fmt", "name"), FORMATS)
def test_a_changed_answer_is_revised_with_history_and_a_changed_gold_is_refused(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, fmt: str, name: str
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(sqlite_engine, [(review[0], "alice", "B", "review")])
    gold_pair = sorted(routed.gold)[0]
    out = tmp_path / name
    cli_json(sqlite_url, "export", "--dataset", "d", "--format", fmt, "--out", str(out))

    _edit(out, fmt, review[0], "review", "A")
    doc = cli_json(sqlite_url, "labels", "import", str(out), "--format", fmt, "--kind", "review")
    assert (doc["inserted"], doc["updated"], doc["unchanged"]) == (0, 1, 100)
    with transaction(sqlite_engine) as s:
        (stored,) = s.scalars(select(HumanLabel).where(HumanLabel.kind == "review"))
        assert (stored.annotator, stored.label) == ("alice", "A")  # the same person, revised
        assert stored.rubric_version is not None  # the guidelines it was (re)answered under
        (history,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "label_revised"))
        assert history.detail["before"]["label"] == "B"
        assert history.detail["after"]["label"] == "A"

    gold_label = routed.truth[gold_pair]
    _edit(out, fmt, gold_pair, "gold", "B" if gold_label == "A" else "A")
    before = snapshot(sqlite_engine)
    refused = run_cli(sqlite_url, "labels", "import", str(out), "--format", fmt, "--kind", "review")
    assert refused.exit_code != 0
    assert "--kind gold" in refused.output
    assert snapshot(sqlite_engine) == before  # nothing half-written


@pytest.mark.parametrize(("fmt", "name"), FORMATS)
def test_label_ids_are_recognised_only_with_this_databases_origin(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, fmt: str, name: str
) -> None:
    """Another Referee database numbers its labels too: its export carries our ids for other
    answers. They come in as foreign answers; our own export is still recognised."""
    (tmp_path / "here").mkdir()
    (tmp_path / "there").mkdir()
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path / "here")
    pair = routed.of_kind("human_review")[0]
    answer(sqlite_engine, [(pair, "carol", "B", "review")])
    there_url = f"sqlite:///{tmp_path / 'there.db'}"
    there = make_engine(there_url)
    ensure_schema(there)
    routed_dataset(there, there_url, tmp_path / "there")
    answer(there, [(pair, "alice", "B", "review")])  # same pair, same content, same label id
    ids = []
    for engine in (sqlite_engine, there):
        with transaction(engine) as s:
            ids.append(s.scalar(select(HumanLabel.id).where(HumanLabel.kind == "review")))
    there.dispose()
    assert ids[0] == ids[1]  # the collision an origin-less id could not tell apart

    theirs = tmp_path / "there" / name
    cli_json(there_url, "export", "--dataset", "d", "--format", fmt, "--out", str(theirs))
    doc = cli_json(sqlite_url, "labels", "import", str(theirs), "--format", fmt, "--kind", "review")
    assert doc["inserted"] == 1  # alice's answer, under her pseudonym there: not "already stored"
    assert _count(sqlite_engine) == {"gold": 100, "review": 2}

    ours = tmp_path / "here" / name
    cli_json(sqlite_url, "export", "--dataset", "d", "--format", fmt, "--out", str(ours))
    doc = cli_json(sqlite_url, "labels", "import", str(ours), "--format", fmt, "--kind", "review")
    assert (doc["inserted"], doc["updated"]) == (0, 0)  # our own ids, our origin: recognised
    assert _count(sqlite_engine) == {"gold": 100, "review": 2}
