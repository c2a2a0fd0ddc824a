"""``referee ingest`` of conversations, k-wise records, TRL and HH-RLHF rows, and --skip-invalid."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from judge.conversation import flat_prompt, messages_from_json
from referee.db.models import HumanLabel, Pair
from referee.privacy import generate_vault_key
from tests.helpers import run_cli, snapshot
from tests.ingest.test_ingest_cli import assert_rejected, write_jsonl

DATA = Path(__file__).parent / "data"
TURNS = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello!"},
    {"role": "user", "content": "Name a fruit"},
]


def copy(name: str, tmp: Path) -> Path:
    return Path(shutil.copy(DATA / name, tmp / name))


def ingest(db_url: str, path: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    result = run_cli(db_url, "ingest", str(path), "--dataset", "d", "--json", *args, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def pairs(engine: Engine) -> dict[str, Pair]:
    with Session(engine) as session:
        return {p.id: p for p in session.scalars(select(Pair))}


def labels(engine: Engine) -> list[HumanLabel]:
    with Session(engine) as session:
        return list(session.scalars(select(HumanLabel)))


def test_prompt_as_messages_or_openai_messages_is_stored_with_its_flat_text(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "chat.jsonl",
        [
            {"id": "c1", "prompt": TURNS, "response_a": "Apple", "response_b": "Rock"},
            {"id": "c2", "messages": TURNS[1:], "response_a": "Pear", "response_b": "Car"},
            {"id": "s1", "prompt": "plain", "response_a": "x", "response_b": "y"},
        ],
    )
    assert ingest(db_url, path)["inserted"] == 3
    stored = pairs(engine)
    turns = messages_from_json(stored["c1"].messages)
    assert turns is not None and [t.role for t in turns] == ["system", "user", "assistant", "user"]
    assert stored["c1"].prompt == flat_prompt(turns)
    assert stored["c2"].messages == TURNS[1:]
    assert stored["s1"].messages is None and stored["s1"].prompt == "plain"


def test_the_content_hash_covers_the_turns(engine: Engine, db_url: str, tmp_path: Path) -> None:
    first = {"id": "c1", "prompt": TURNS, "response_a": "Apple", "response_b": "Rock"}
    ingest(db_url, write_jsonl(tmp_path / "a.jsonl", [first]))
    # a turn whose text moves across a role boundary renders to the same flat text...
    moved = [
        {"role": "user", "content": "Hi\n\nAssistant: Hello!"},
        {"role": "user", "content": "Name a fruit"},
    ]
    same_flat = {**first, "prompt": [TURNS[0], *moved]}
    assert flat_prompt(messages_from_json(same_flat["prompt"]) or ()) == pairs(engine)["c1"].prompt
    # ...but it is other content under the same id, so it is refused
    assert_rejected(
        engine, db_url, ["ingest", str(write_jsonl(tmp_path / "b.jsonl", [same_flat])),
                         "--dataset", "d"], "different content",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("prompt", "field", "message"),
    [
        ([{"role": "user", "content": "q"}, {"role": "bot", "content": "a"}], "prompt[1].role",
         "must be one of"),
        ([{"role": "user", "content": 3}], "prompt[0].content", "must be a string"),
        ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
         "prompt[1]", "must end with a user"),
        ([{"role": "system", "content": "s"}], "prompt", "at least one message with role 'user'"),
        ([{"role": "user", "content": "a\u0000b"}], "prompt[0].content", "NUL"),
        ([], "prompt", "non-empty list"),
    ],
)  # fmt: skip
def test_a_bad_turn_names_line_and_field_and_writes_nothing(
    engine: Engine, db_url: str, tmp_path: Path, prompt: object, field: str, message: str
) -> None:
    good = {"id": "ok", "prompt": "fine", "response_a": "a", "response_b": "b"}
    bad = {"id": "bad", "prompt": prompt, "response_a": "a", "response_b": "b"}
    path = write_jsonl(tmp_path / "bad.jsonl", [good, bad])
    assert_rejected(
        engine, db_url, ["ingest", str(path), "--dataset", "d"], "line 2", f"'{field}'", message
    )


def test_the_size_limit_counts_every_turn(engine: Engine, db_url: str, tmp_path: Path) -> None:
    turns = [{"role": "user", "content": "x" * 600}, {"role": "assistant", "content": "y" * 600},
             {"role": "user", "content": "z"}]  # fmt: skip
    path = write_jsonl(
        tmp_path / "big.jsonl", [{"id": "b", "prompt": turns, "response_a": "a", "response_b": "b"}]
    )
    before = snapshot(engine)
    result = run_cli(
        db_url, "ingest", str(path), "--dataset", "d", env={"REFEREE_MAX_FIELD_BYTES": "1000"}
    )
    assert result.exit_code == 2 and "over all its turns" in result.stderr
    assert snapshot(engine) == before


def test_hh_rlhf_rows_become_conversations_with_gold_labels(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = copy("hh_rlhf.jsonl", tmp_path)
    doc = ingest(db_url, path, "--format", "hh-rlhf")
    assert (doc["inserted"], doc["preference_labels"]) == (3, 3)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    stored = pairs(engine)
    trip = next(p for p in stored.values() if "Lisbon" in p.prompt)
    assert trip.messages is not None and [m["role"] for m in trip.messages] == [
        "user", "assistant", "user"
    ]  # fmt: skip
    by_pair = {label.pair_id: label for label in labels(engine)}
    for pair in stored.values():
        label = by_pair[pair.id]
        assert (label.kind, label.annotator) == ("gold", "file:hh_rlhf.jsonl")
        chosen = pair.response_a if label.label == "A" else pair.response_b
        assert any(row["chosen"].endswith(chosen) for row in rows)
    again = ingest(db_url, path, "--format", "hh-rlhf")
    assert (again["inserted"], again["unchanged"]) == (0, 3)  # ids derive from the content


def test_preference_as_review_and_none(engine: Engine, db_url: str, tmp_path: Path) -> None:
    ingest(db_url, copy("trl_explicit.jsonl", tmp_path), "--format", "trl", "--preference-as",
           "review")  # fmt: skip
    ingest(db_url, copy("trl_standard.jsonl", tmp_path), "--format", "trl", "--preference-as",
           "none")  # fmt: skip
    assert sorted(label.kind for label in labels(engine)) == ["review", "review"]
    stored = pairs(engine)
    assert len(stored) == 4
    rome = next(p for p in stored.values() if "Italy" in p.prompt)
    assert rome.messages is not None and rome.messages[0] == {
        "role": "system",
        "content": "You are terse.",
    }
    assert {rome.response_a, rome.response_b} == {"Rome.", "Milan."}


def test_trl_implicit_prompt_is_split_from_the_shared_turns(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ingest(db_url, copy("trl_implicit.jsonl", tmp_path), "--format", "trl")
    numbers = next(p for p in pairs(engine).values() if "number" in p.prompt)
    assert numbers.messages == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Say a number"},
    ]
    assert {numbers.response_a, numbers.response_b} == {"Seven.", "Banana."}


def test_hh_records_that_differ_early_refuse_the_file_or_are_skipped(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = copy("hh_rlhf_bad.jsonl", tmp_path)
    assert_rejected(
        engine, db_url, ["ingest", str(path), "--dataset", "d", "--format", "hh-rlhf"],
        "line 2, field 'chosen[1]'", "line 3, field 'chosen'", "share no prefix",
    )  # fmt: skip
    assert not (tmp_path / "hh_rlhf_bad.skipped.jsonl").exists()
    doc = ingest(db_url, path, "--format", "hh-rlhf", "--skip-invalid")
    assert (doc["inserted"], doc["skipped"]) == (2, 2)
    skipped = [json.loads(line) for line in (tmp_path / "hh_rlhf_bad.skipped.jsonl").open()]
    assert [entry["line"] for entry in skipped] == [2, 3]
    assert "before the last turn" in skipped[0]["problems"][0]["reason"]
    assert skipped[1]["record"]["chosen"].startswith("\n\nHuman: Tell me a joke.")


def test_skip_invalid_for_csv_and_parquet_and_a_named_output(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    rows = [
        {"id": "k1", "prompt": "p", "response_a": "a", "response_b": "b"},
        {"id": "k2", "prompt": " ", "response_a": "a", "response_b": "b"},
        {"id": "k3", "prompt": "p", "response_a": "a", "response_b": "c"},
    ]
    with (tmp_path / "in.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "why.jsonl"
    doc = ingest(db_url, tmp_path / "in.csv", "--skip-invalid", "--skipped-out", str(out))
    assert (doc["inserted"], doc["skipped"]) == (2, 1)
    assert [json.loads(line)["line"] for line in out.open()] == [3]
    import pyarrow as pa
    import pyarrow.parquet as pq

    parquet = [{**r, "id": r["id"].replace("k", "q")} for r in rows]
    pq.write_table(pa.Table.from_pylist(parquet), tmp_path / "in.parquet")
    doc = ingest(db_url, tmp_path / "in.parquet", "--skip-invalid")
    assert (doc["inserted"], doc["skipped"]) == (2, 1)
    entry = json.loads((tmp_path / "in.skipped.jsonl").read_text())
    assert (entry["line"], entry["problems"][0]["field"]) == (2, "prompt")
    assert set(pairs(engine)) == {"k1", "k3", "q1", "q3"}


def test_skip_invalid_also_skips_a_pair_that_conflicts_with_a_stored_one(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ingest(db_url, write_jsonl(tmp_path / "a.jsonl", [
        {"id": "p1", "prompt": "p", "response_a": "a", "response_b": "b"}]))  # fmt: skip
    path = write_jsonl(tmp_path / "b.jsonl", [
        {"id": "p1", "prompt": "changed", "response_a": "a", "response_b": "b"},
        {"id": "p2", "prompt": "p", "response_a": "a", "response_b": "b"},
    ])  # fmt: skip
    doc = ingest(db_url, path, "--skip-invalid")
    assert (doc["inserted"], doc["skipped"]) == (1, 1)
    assert pairs(engine)["p1"].prompt == "p"


def test_a_broken_csv_still_refuses_the_file_with_skip_invalid(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "broken.csv"
    path.write_bytes(b"id,prompt,response_a,response_b\nk1,p,a,b\nk2,p,\xff,b\n")
    assert_rejected(
        engine, db_url, ["ingest", str(path), "--dataset", "d", "--skip-invalid"], "UTF-8"
    )


def test_kwise_all_pairs(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = copy("kwise.jsonl", tmp_path)
    doc = ingest(db_url, path, "--pairs", "all")
    assert doc["inserted"] == 6 + 3  # k=4 gives 6 pairs, k=3 gives 3
    stored = pairs(engine)
    haiku = [p for p in stored.values() if p.group_id == "uf-1"]
    assert len(haiku) == 6
    refs = {frozenset((p.response_a_ref, p.response_b_ref)) for p in haiku}
    assert len(refs) == 6 and {"0", "1", "2", "base"} == set().union(*refs)
    for pair in haiku:
        assert pair.id == "uf-1|" + "|".join(sorted((pair.response_a_ref or "",
                                                     pair.response_b_ref or "")))  # fmt: skip
    models = {p.meta.get("response_a_model") for p in haiku} - {None}
    assert models <= {"m-small", "m-large", "m-base"} and models
    chat = [p for p in stored.values() if p.group_id == "chat-1"]
    assert all(p.messages is not None and p.messages[-1]["content"] == "Pick a fruit" for p in chat)
    again = ingest(db_url, path, "--pairs", "all")
    assert (again["inserted"], again["unchanged"]) == (0, 9)  # ids are stable across runs


def test_kwise_round_robin(engine: Engine, db_url: str, tmp_path: Path) -> None:
    record = {"id": "five", "prompt": "Say hi", "responses": ["hi", "hello", "hey", "yo", "hiya"]}
    ingest(db_url, write_jsonl(tmp_path / "k5.jsonl", [record]), "--pairs", "round-robin:2")
    stored = list(pairs(engine).values())
    assert len(stored) == 5
    for ref in "01234":
        assert sum(ref in (p.response_a_ref, p.response_b_ref) for p in stored) >= 2


def test_kwise_summary_counts_records_and_pairs_apart(sqlite_url: str, tmp_path: Path) -> None:
    """A k-wise record becomes several pairs: the summary says how many records were read and
    how many pairs they made, then how many of those pairs are new."""
    path = copy("kwise.jsonl", tmp_path)
    first = run_cli(sqlite_url, "ingest", str(path), "--dataset", "d", "--pairs", "all")
    assert first.exit_code == 0, first.output
    assert f"{path}: 2 records -> 9 pairs, 9 new, 0 already stored" in first.stdout
    again = run_cli(sqlite_url, "ingest", str(path), "--dataset", "d", "--pairs", "all")
    assert f"{path}: 2 records -> 9 pairs, 0 new, 9 already stored" in again.stdout
    # a round-robin design over five responses, beside a plain pair in the same file
    mixed = write_jsonl(
        tmp_path / "mixed.jsonl",
        [
            {"id": "five", "prompt": "Say hi", "responses": ["hi", "hello", "hey", "yo", "hiya"]},
            {"id": "plain", "prompt": "Add 2+2", "response_a": "4", "response_b": "5"},
        ],
    )
    doc = ingest(sqlite_url, mixed, "--pairs", "round-robin:2")
    assert (doc["records"], doc["pairs"], doc["inserted"], doc["unchanged"]) == (2, 6, 6, 0)
    # a file without k-wise records keeps its one count: records are pairs
    plain = write_jsonl(tmp_path / "plain.jsonl", [{"id": "p9", "prompt": "q", "response_a": "a",
                                                    "response_b": "b"}])  # fmt: skip
    single = run_cli(sqlite_url, "ingest", str(plain), "--dataset", "d")
    assert f"{plain}: 1 pair records — 1 new, 0 already stored" in single.stdout
    assert "pairs" not in ingest(sqlite_url, plain)


def test_kwise_sides_are_decided_by_hash_not_by_position(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    records = [{"id": f"r{i}", "prompt": "q", "responses": [f"x{i}", f"y{i}"]} for i in range(200)]
    ingest(db_url, write_jsonl(tmp_path / "many.jsonl", records))
    first_is_a = sum(p.response_a_ref == "0" for p in pairs(engine).values())
    assert 70 < first_is_a < 130


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"id": "r", "prompt": "q", "responses": ["only one"]}, "responses"),
        ({"id": "r", "prompt": "q", "responses": ["a", {"txt": "b"}]}, "responses[1].txt"),
        ({"id": "r", "prompt": "q", "responses": ["a", {"text": "b", "id": "0"}]},
         "responses[1].id"),
        ({"id": "r", "prompt": "q", "responses": ["a", 5]}, "responses[1]"),
    ],
)  # fmt: skip
def test_bad_kwise_records_name_the_response(
    engine: Engine, db_url: str, tmp_path: Path, record: dict[str, Any], field: str
) -> None:
    path = write_jsonl(tmp_path / "k.jsonl", [record])
    assert_rejected(engine, db_url, ["ingest", str(path), "--dataset", "d"], f"'{field}'")


def test_bad_options_are_refused(db_url: str, tmp_path: Path) -> None:
    path = copy("kwise.jsonl", tmp_path)
    for args, text in [
        (["--pairs", "round-robin:0"], "--pairs"),
        (["--format", "argilla"], "--format"),
        (["--preference-as", "gold"], "--preference-as"),
        (["--format", "trl", "--preference-as", "silver"], "--preference-as"),
        (["--skipped-out", "x.jsonl"], "--skip-invalid"),
    ]:
        result = run_cli(db_url, "ingest", str(path), "--dataset", "d", *args)
        assert result.exit_code != 0 and text in result.output, (args, result.output)


def test_redaction_covers_every_turn_and_the_flat_prompt(sqlite_url: str, tmp_path: Path) -> None:
    email = "jane.doe@example.com"
    turns = [
        {"role": "user", "content": f"My email is {email}"},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": f"Write to {email} please"},
    ]
    path = write_jsonl(tmp_path / "pii.jsonl", [
        {"id": "r1", "prompt": turns, "response_a": f"Sent to {email}", "response_b": "No."}])  # fmt: skip
    env = {"REFEREE_VAULT_URL": f"sqlite:///{tmp_path / 'vault.db'}",
           "REFEREE_VAULT_KEY": generate_vault_key()}  # fmt: skip
    result = run_cli(sqlite_url, "ingest", str(path), "--dataset", "d", "--redact", env=env)
    assert result.exit_code == 0, result.output
    from referee.db.engine import make_engine

    stored = pairs(make_engine(sqlite_url))["r1"]
    assert stored.messages is not None
    assert email not in json.dumps(stored.messages) + stored.prompt + stored.response_a
    tokens = {stored.messages[0]["content"].split()[-1], stored.messages[2]["content"].split()[2]}
    assert len(tokens) == 1  # one numbering: the same value gets the same token in every turn
    assert stored.prompt == flat_prompt(messages_from_json(stored.messages) or ())


def test_gzipped_hh_rlhf_as_published_and_a_damaged_gzip(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    import gzip

    raw = (DATA / "hh_rlhf.jsonl").read_bytes()
    (tmp_path / "train.jsonl.gz").write_bytes(gzip.compress(raw))
    assert ingest(db_url, tmp_path / "train.jsonl.gz", "--format", "hh-rlhf")["inserted"] == 3
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(raw)[:80])
    assert_rejected(
        engine, db_url,
        ["ingest", str(tmp_path / "cut.jsonl.gz"), "--dataset", "e", "--format", "hh-rlhf",
         "--skip-invalid"],
        "not a readable gzip file",
    )  # fmt: skip


def test_labels_import_skips_invalid_labels_too(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    ingest(db_url, write_jsonl(tmp_path / "p.jsonl", [
        {"id": "p1", "prompt": "p", "response_a": "a", "response_b": "b"}]))  # fmt: skip
    path = write_jsonl(tmp_path / "gold.jsonl", [
        {"pair_id": "p1", "annotator": "g", "label": "A"},
        {"pair_id": "nope", "annotator": "g", "label": "A"},
        {"pair_id": "p1", "annotator": "h", "label": "maybe"},
    ])  # fmt: skip
    result = run_cli(db_url, "labels", "import", str(path), "--skip-invalid", "--json")
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["inserted"], json.loads(result.stdout)["skipped"]) == (1, 2)
    skipped = [json.loads(line) for line in (tmp_path / "gold.skipped.jsonl").open()]
    assert [(e["line"], e["problems"][0]["field"]) for e in skipped] == [
        (2, "pair_id"), (3, "label")
    ]  # fmt: skip
    assert [(label.pair_id, label.annotator) for label in labels(engine)] == [("p1", "g")]
