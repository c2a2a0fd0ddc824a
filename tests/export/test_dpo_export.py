"""``referee export --format dpo``: the file loads in ``datasets`` and passes TRL's own DPO
dataset preparation (the real ``DPOTrainer`` on a tiny randomly initialised model), and the
export rules (ties, both-bad, agreement floor, frozen pairs) hold."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from referee.db.engine import transaction
from referee.db.models import HumanLabel
from tests.export.release_data import answer, answer_rated, cli_json, routed_dataset
from tests.helpers import run_cli


def _export(url: str, out: Path, *extra: str) -> dict[str, Any]:
    doc: dict[str, Any] = cli_json(
        url, "export", "--dataset", "d", "--format", "dpo", "--out", str(out), *extra
    )
    return doc


def _tiny_tokenizer(words: set[str]) -> Any:
    """A word-level tokenizer built here (no download) with a chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, "[PAD]": 1, "[EOS]": 2}
    for w in sorted(words):
        vocab.setdefault(w, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", eos_token="[EOS]"
    )
    fast.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}"
    )
    return fast


def _through_trl(data_file: Path, tmp: Path, builder: str) -> Any:
    """Load ``data_file`` with ``datasets`` and let TRL's DPOTrainer prepare it."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from datasets import load_dataset
    from transformers import GPT2Config, GPT2LMHeadModel
    from trl import DPOConfig, DPOTrainer

    ds = load_dataset(builder, data_files=str(data_file), split="train")
    words = {"user", "assistant", ":"} | {
        w for row in ds for col in ("prompt", "chosen", "rejected") for w in str(row[col]).split()
    }
    tokenizer = _tiny_tokenizer(words)
    config = GPT2Config(
        vocab_size=len(tokenizer), n_layer=1, n_head=1, n_embd=8, n_positions=128,
        bos_token_id=2, eos_token_id=2,
    )  # fmt: skip
    model = GPT2LMHeadModel(config)
    args = DPOConfig(
        output_dir=str(tmp / "trl"), report_to=[], per_device_train_batch_size=1,
        max_steps=1, use_cpu=True,
    )  # fmt: skip
    trainer = DPOTrainer(
        model=model,
        ref_model=copy.deepcopy(model),
        args=args,
        train_dataset=ds,
        processing_class=tokenizer,
    )
    return ds, trainer.train_dataset


def test_dpo_file_loads_in_datasets_and_trl(engine: Engine, db_url: str, tmp_path: Path) -> None:
    routed = routed_dataset(engine, db_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(engine, [(review[0], "alice", "B", "review"), (review[1], "bob", "A", "review")])
    out = tmp_path / "train.jsonl"
    doc = _export(db_url, out)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert doc["rows"] == len(lines) > 0
    finals = {
        r["pair_id"]: r for r in cli_json(db_url, "labels", "final", "--dataset", "d")["rows"]
    }
    for line in lines:
        final = finals[line["pair_id"]]
        assert final["label"] in ("A", "B")
        want_chosen = final["response_a"] if final["label"] == "A" else final["response_b"]
        assert line["chosen"] == [{"role": "assistant", "content": want_chosen}]
        assert line["prompt"] == [{"role": "user", "content": final["prompt"]}]
        assert line["source"] == final["source"]
        assert line["policy_version"] == final["policy_version"]
        assert line["rubric_version"] == final.get("rubric_version")
        assert "ratings" not in line  # no rated dimensions: no column (as before the schema)
    ds, prepared = _through_trl(out, tmp_path, "json")
    assert ds.num_rows == prepared.num_rows == len(lines)
    assert {"prompt", "chosen", "rejected", "pair_id", "source", "agreement"} <= set(
        ds.column_names
    )
    assert {"prompt_ids", "chosen_ids", "rejected_ids", "pair_id"} <= set(prepared.column_names)
    assert prepared["pair_id"] == [line["pair_id"] for line in lines]


def test_dpo_parquet_and_standard_style(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    out = tmp_path / "train.parquet"
    doc = _export(sqlite_url, out, "--style", "standard")
    ds, prepared = _through_trl(out, tmp_path, "parquet")
    assert ds.num_rows == doc["rows"] == prepared.num_rows > 0
    assert isinstance(ds[0]["prompt"], str) and isinstance(ds[0]["chosen"], str)
    assert ds.features["policy_version"].dtype == "int64"


def test_export_rules_ties_both_bad_agreement_frozen(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    tie, bad, split = review[0], review[1], review[2]
    answer(
        sqlite_engine,
        [
            (tie, "alice", "tie", "review"),
            (split, "alice", "A", "review"),
            (split, "bob", "A", "review"),
            (split, "carol", "B", "review"),
        ],
    )
    # the both-bad answer arrives through `labels import`: it opens an incident (issue 20)
    imported = tmp_path / "bad.jsonl"
    imported.write_text(
        json.dumps({"pair_id": bad, "annotator": "alice", "label": "both_bad",
                    "reason": "both answers are wrong"}) + "\n"
    )  # fmt: skip
    assert run_cli(sqlite_url, "labels", "import", str(imported), "--kind", "review").exit_code == 0
    plain = _export(sqlite_url, tmp_path / "plain.jsonl")
    ids = {json.loads(x)["pair_id"] for x in (tmp_path / "plain.jsonl").read_text().splitlines()}
    assert tie not in ids and bad not in ids and split in ids
    assert not ids & set(routed.frozen)
    assert plain["excluded"]["tie"]["count"] == 1 and tie in plain["excluded"]["tie"]["examples"]
    assert plain["excluded"]["both_bad"]["examples"] == [bad]
    with_ties = _export(sqlite_url, tmp_path / "ties.jsonl", "--include-ties")
    rows = {
        json.loads(x)["pair_id"]: json.loads(x)
        for x in (tmp_path / "ties.jsonl").read_text().splitlines()
    }
    # issue 20: a tie is never chosen/rejected; --include-ties writes ties.ties.jsonl beside it
    assert tie not in rows and split in rows and "tie" not in rows[split]
    assert bad not in rows and with_ties["rows"] == plain["rows"]
    (tied,) = [json.loads(x) for x in (tmp_path / "ties.ties.jsonl").read_text().splitlines()]
    assert tied["pair_id"] == tie and tied["label"] == "tie"
    assert "chosen" not in tied and "rejected" not in tied
    assert str(tmp_path / "ties.ties.jsonl") in with_ties["files"]
    floor = _export(sqlite_url, tmp_path / "floor.jsonl", "--min-agreement", "0.7")
    assert floor["excluded"]["below_min_agreement"]["examples"] == [split]  # 2 of 3 agree
    incidents = cli_json(
        sqlite_url, "export", "--dataset", "d", "--format", "incidents", "--out",
        str(tmp_path / "incidents.jsonl"),
    )  # fmt: skip
    lines = [json.loads(x) for x in (tmp_path / "incidents.jsonl").read_text().splitlines()]
    assert incidents["rows"] == 1 and lines[0]["pair_id"] == bad
    assert lines[0]["incident"] == ["both_bad"]
    assert lines[0]["human_reasons"][0]["reason"] == "both answers are wrong"
    with transaction(sqlite_engine) as s:  # issue 20: however it arrived, an answer has one
        imported_label = s.scalars(select(HumanLabel).where(HumanLabel.pair_id == bad)).one()
        assert imported_label.rubric_version == "v1"
    listed = cli_json(sqlite_url, "incidents", "list", "--dataset", "d")["incidents"]
    assert [d["pair_id"] for d in listed] == [bad]  # both views read the same incident rows
    full = cli_json(
        sqlite_url, "export", "--dataset", "d", "--format", "jsonl", "--out",
        str(tmp_path / "full.jsonl"),
    )  # fmt: skip
    labels = {
        json.loads(x)["pair_id"]: json.loads(x)["label"]
        for x in (tmp_path / "full.jsonl").read_text().splitlines()
    }
    assert labels[tie] == "tie" and labels[bad] == "both_bad"
    assert full["excluded"]["pending"]["count"] == len(review) - 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "csv", "--out", "x.jsonl"), "--format 'csv'"),
        (("--format", "dpo", "--out", "nowhere/x.jsonl"), "does not exist"),
        (("--format", "dpo", "--out", "x.csv"), ".jsonl or .parquet"),
        (("--format", "dpo", "--out", "x.jsonl", "--style", "chat"), "--style 'chat'"),
        (("--format", "dpo", "--out", "x.jsonl", "--min-agreement", "2"), "--min-agreement"),
        (("--format", "dpo", "--out", "x.jsonl", "--release", "v9"), "no such release"),
    ],
)
def test_export_bad_input_is_one_line_exit_2(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "p.jsonl").write_text(
        '{"id": "p1", "prompt": "q", "response_a": "a", "response_b": "b"}\n'
    )
    assert run_cli(sqlite_url, "ingest", str(tmp_path / "p.jsonl"), "--dataset", "d").exit_code == 0
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run_cli(sqlite_url, "export", "--dataset", "d", *args)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x.jsonl").exists()


def test_dpo_rows_carry_the_strength_of_a_5_point_answer(tmp_path: Path) -> None:
    from formats.dpo import write_dpo
    from formats.rows import LabeledPair

    rows = [
        LabeledPair(
            "p1",
            "d",
            "q",
            "a",
            "b",
            "B",
            "human",
            "majority",
            strength="much",
            rubric_version="reviewers v3",
        ),
        LabeledPair("p2", "d", "q2", "a", "b", "A", "ai", "ai"),
    ]
    for out in (tmp_path / "s.jsonl", tmp_path / "s.parquet"):
        assert write_dpo(rows, out, style="standard") == 2
        from datasets import load_dataset

        ds = load_dataset("json" if out.suffix == ".jsonl" else "parquet", data_files=str(out))
        train = ds["train"]
        assert train["strength"] == ["much", None]
        assert train["rubric_version"] == ["reviewers v3", None]
        assert train["chosen"] == ["b", "a"]


def test_dpo_rows_carry_the_ratings_of_a_rated_dataset_into_datasets_and_trl(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    cli_json(
        sqlite_url, "review-config", "--dataset", "d", "--scale", "5",
        "--dimensions", "helpfulness,safety",
    )  # fmt: skip
    answer_rated(
        sqlite_engine,
        [
            (review[0], "alice", "B", "much", {"helpfulness": 4, "safety": 5}),
            (review[1], "bob", "A", "slight", {"helpfulness": 3, "safety": 2}),
            (review[1], "carol", "A", "much", {"helpfulness": 4, "safety": 2}),
        ],
    )
    out = tmp_path / "train.jsonl"
    doc = _export(sqlite_url, out)
    lines = {json.loads(x)["pair_id"]: json.loads(x) for x in out.read_text().splitlines()}
    assert doc["rows"] == len(lines)
    assert (lines[review[0]]["strength"], lines[review[0]]["ratings"]) == (
        "much",
        {"helpfulness": 4, "safety": 5},
    )
    # two deciding answers: strength much vs slight gives slight, ratings are rounded means
    assert (lines[review[1]]["strength"], lines[review[1]]["ratings"]) == (
        "slight",
        {"helpfulness": 4, "safety": 2},
    )
    ai_rows = [line for line in lines.values() if line["source"] == "ai"]
    assert ai_rows and all(line["ratings"] is None for line in ai_rows)
    ds, prepared = _through_trl(out, tmp_path, "json")
    assert ds.num_rows == prepared.num_rows == len(lines)
    by_id = dict(zip(ds["pair_id"], ds["ratings"], strict=True))
    assert by_id[review[0]] == {"helpfulness": 4, "safety": 5}

    parquet = tmp_path / "train.parquet"
    _export(sqlite_url, parquet)
    from datasets import load_dataset

    table = load_dataset("parquet", data_files=str(parquet), split="train")
    assert set(table.features["ratings"]) == {"helpfulness", "safety"}
    assert table.features["ratings"]["safety"].dtype == "int64"
    by_id = dict(zip(table["pair_id"], table["ratings"], strict=True))
    assert by_id[review[1]] == {"helpfulness": 4, "safety": 2}
    assert by_id[ai_rows[0]["pair_id"]] is None


def test_dpo_ratings_column_only_with_dimensions(tmp_path: Path) -> None:
    from datasets import load_dataset

    from formats.dpo import write_dpo
    from formats.rows import LabeledPair

    rows = [
        LabeledPair("p1", "d", "q", "a", "b", "B", "human", "majority", ratings={"clarity": 2}),
        LabeledPair("p2", "d", "q2", "a", "b", "A", "ai", "ai"),
    ]
    for out in (tmp_path / "r.jsonl", tmp_path / "r.parquet"):
        write_dpo(rows, out, style="standard", dimensions=("clarity", "safety"))
        train = load_dataset(out.suffix.lstrip(".").replace("jsonl", "json"), data_files=str(out))
        assert train["train"]["ratings"] == [{"clarity": 2, "safety": None}, None]
        write_dpo(rows, out, style="standard")
        plain = load_dataset(out.suffix.lstrip(".").replace("jsonl", "json"), data_files=str(out))
        assert "ratings" not in plain["train"].column_names
