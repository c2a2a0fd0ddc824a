"""Input that used to crash or lose data at import (issue 12, items 5 and 7-10).

Every bad file must give the usual ``FILE, line N, field 'F': message``, exit 2 and leave the
database unchanged, with the same message on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from referee.db.engine import ensure_schema, make_engine, transaction
from referee.db.models import HumanLabel, Judgment, Pair
from tests.helpers import run_cli
from tests.ingest.test_ingest_cli import GOOD, assert_rejected, write_jsonl

LONG = "x" * 201
JUDGMENT = {"pair_id": "p1", "judge": "j", "order": "AB", "winner": "A", "raw": "Output (a)"}


@pytest.fixture
def seeded(engine: Engine, db_url: str, tmp_path: Path) -> str:
    """Dataset 'd' with pairs p1, p2, a gold label on p1 and one recorded verdict on p1."""
    seed(db_url, tmp_path)
    return db_url


def seed(db_url: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    steps = [
        ["ingest", str(write_jsonl(folder / "good.jsonl", GOOD)), "--dataset", "d"],
        [
            "labels",
            "import",
            str(
                write_jsonl(
                    folder / "gold.jsonl", [{"pair_id": "p1", "annotator": "g", "label": "A"}]
                )
            ),
        ],
        ["judgments", "import", str(write_jsonl(folder / "j.jsonl", [JUDGMENT]))],
    ]
    for args in steps:
        result = run_cli(db_url, *args)
        assert result.exit_code == 0, result.output


PAIR = {"id": "n1", "prompt": "p", "response_a": "a", "response_b": "b"}
LABEL = {"pair_id": "p2", "annotator": "z", "label": "B"}
JUDGED = {"pair_id": "p2", "judge": "j", "order": "BA", "winner": "B"}

# (command, record, expected fragments): every one crashed on PostgreSQL or SQLite before
CRASHERS = {
    "long-pair-id": ("pairs", {**PAIR, "id": LONG}, ["'id'", "201 characters", "at most 200"]),
    "long-annotator": ("labels", {**LABEL, "annotator": LONG}, ["'annotator'", "at most 200"]),
    "long-label-pair-id": ("labels", {**LABEL, "pair_id": LONG}, ["'pair_id'", "at most 200"]),
    "long-judge": ("judgments", {**JUDGED, "judge": LONG}, ["'judge'", "at most 200"]),
    "long-prompt-version": (
        "judgments",
        {**JUDGED, "prompt_version": "v" * 65},
        ["'prompt_version'", "at most 64"],
    ),
    "nul-prompt": ("pairs", {**PAIR, "prompt": "a\u0000b"}, ["'prompt'", "NUL"]),
    "nul-response": ("pairs", {**PAIR, "response_b": "\u0000"}, ["'response_b'", "NUL"]),
    "nul-id": ("pairs", {**PAIR, "id": "n\u00001"}, ["'id'", "NUL"]),
    "nul-meta": ("pairs", {**PAIR, "meta": {"k": ["ok", "a\u0000"]}}, ["'meta'", "NUL"]),
    "nul-meta-key": ("pairs", {**PAIR, "meta": {"k\u0000": 1}}, ["'meta'", "NUL"]),
    "nul-extra-key": ("pairs", {**PAIR, "src": "a\u0000"}, ["'src'", "NUL"]),
    "nan-meta": ("pairs", {**PAIR, "meta": {"score": float("nan")}}, ["'meta'", "NaN"]),
    "surrogate": ("pairs", {**PAIR, "prompt": "a\ud800b"}, ["'prompt'", "surrogate"]),
    "nul-rationale": ("labels", {**LABEL, "rationale": "\u0000"}, ["'rationale'", "NUL"]),
    "nul-annotator": ("labels", {**LABEL, "annotator": "z\u0000"}, ["'annotator'", "NUL"]),
    "nul-raw": ("judgments", {**JUDGED, "raw": "x\u0000"}, ["'raw'", "NUL"]),
    "tokens-over-32-bits": (
        "judgments",
        {**JUDGED, "tokens_in": 2**31},
        ["'tokens_in'", "whole number in [0, 2,147,483,647]"],
    ),
    "tokens-out-over-64-bits": (
        "judgments",
        {**JUDGED, "tokens_out": 2**70},
        ["'tokens_out'", "whole number"],
    ),
    "tokens-1e30": ("judgments", {**JUDGED, "tokens_in": 1e30}, ["'tokens_in'", "whole number"]),
    "tokens-fraction": ("judgments", {**JUDGED, "tokens_in": 1.5}, ["'tokens_in'", "whole number"]),
    "huge-integer-cost": ("judgments", {**JUDGED, "cost": 10**400}, ["'cost'", "must be a number"]),
    "huge-integer-duration": (
        "labels",
        {**LABEL, "duration_s": 10**400},
        ["'duration_s'", "must be a number"],
    ),
}


def command(kind: str, path: Path) -> list[str]:
    return {
        "pairs": ["ingest", str(path), "--dataset", "d"],
        "labels": ["labels", "import", str(path), "--kind", "gold"],
        "judgments": ["judgments", "import", str(path)],
    }[kind]


def write_raw_jsonl(path: Path, records: list[dict[str, object]]) -> Path:
    """JSON lines as Python writes them (NaN, lone surrogates and huge integers included)."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.mark.parametrize("case", sorted(CRASHERS))
def test_unstorable_values_are_refused_at_read_time(
    engine: Engine, seeded: str, tmp_path: Path, case: str
) -> None:
    kind, record, expected = CRASHERS[case]
    good = {"pairs": {**PAIR, "id": "fine"}, "labels": LABEL | {"annotator": "ok"}}.get(
        kind, {**JUDGED, "judge": "fine"}
    )
    path = write_raw_jsonl(tmp_path / "bad.jsonl", [good, record])
    assert_rejected(engine, seeded, command(kind, path), f"{path}, line 2, field", *expected)


def test_csv_token_counts_and_nul(engine: Engine, seeded: str, tmp_path: Path) -> None:
    path = tmp_path / "j.csv"
    path.write_text(
        "pair_id,judge,order,winner,tokens_in\n"
        "p2,j,BA,B,12\n"
        "p2,k,BA,B,99999999999\n"
        "p2,l,BA,B,1e30\n"
        "p2,m,BA,B,x\u0000\n",
        encoding="utf-8",
    )
    stderr = assert_rejected(
        engine, seeded, command("judgments", path), "line 3, field 'tokens_in'", "line 4"
    )
    assert "line 5, field 'tokens_in': must be a whole number" in stderr
    assert "line 2" not in stderr


def test_long_dataset_name_refused(engine: Engine, db_url: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "p.jsonl", GOOD)
    result = run_cli(db_url, "ingest", str(path), "--dataset", LONG)
    assert result.exit_code == 2, result.output
    assert "--dataset" in result.stderr and "at most 200" in result.stderr
    assert "Traceback" not in result.output
    status = run_cli(db_url, "status", "--json")
    assert status.exit_code == 0 and '"pairs": 0' in status.stdout


@pytest.fixture
def both_databases(sqlite_url: str, pg_url: str) -> Iterator[list[tuple[str, Engine]]]:
    engines = []
    for url in (sqlite_url, pg_url):
        eng = make_engine(url)
        ensure_schema(eng)
        engines.append((url, eng))
    yield engines
    for _, eng in engines:
        eng.dispose()


def test_messages_identical_on_sqlite_and_postgresql(
    both_databases: list[tuple[str, Engine]], tmp_path: Path
) -> None:
    outputs = []
    for i, (url, _) in enumerate(both_databases):
        seed(url, tmp_path / f"seed{i}")
    for kind in ("pairs", "labels", "judgments"):
        records = [r for k, r, _ in CRASHERS.values() if k == kind]
        path = write_raw_jsonl(tmp_path / f"{kind}.jsonl", records)
        per_db = []
        for url, eng in both_databases:
            per_db.append(assert_rejected(eng, url, command(kind, path)))
        outputs.append(per_db)
    for sqlite_err, pg_err in outputs:
        assert sqlite_err == pg_err
        assert sqlite_err.count("error:") >= 3


# -- item 7: a stored key with different content is a problem ---------------------------------


@pytest.mark.parametrize(
    ("kind", "record", "expected"),
    [
        (
            "labels",
            {"pair_id": "p1", "annotator": "g", "label": "A", "rationale": "new reasoning"},
            ["field 'rationale'", "same gold label", 'not "new reasoning"'],
        ),
        (
            "labels",
            {"pair_id": "p1", "annotator": "g", "label": "A", "duration_s": 3},
            ["field 'duration_s'", "null, not 3"],
        ),
        ("judgments", {**JUDGMENT, "raw": "Output (b)"}, ["field 'raw'", "same winner"]),
        ("judgments", {**JUDGMENT, "confidence": 0.9}, ["field 'confidence'", "prompt_version"]),
        ("judgments", {**JUDGMENT, "tokens_in": 5}, ["field 'tokens_in'", "0, not 5"]),
    ],
    ids=["label-rationale", "label-duration", "judgment-raw", "judgment-confidence", "tokens"],
)
def test_stored_key_with_different_content_is_a_problem(
    engine: Engine,
    seeded: str,
    tmp_path: Path,
    kind: str,
    record: dict[str, object],
    expected: list[str],
) -> None:
    path = write_jsonl(tmp_path / "again.jsonl", [record])
    assert_rejected(engine, seeded, command(kind, path), "line 1", *expected)


def test_identical_reimport_still_unchanged(engine: Engine, seeded: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "j.jsonl", [JUDGMENT])
    result = run_cli(seeded, *command("judgments", path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unchanged"] == 1


# -- item 8: unknown keys are refused with the closest field ----------------------------------


@pytest.mark.parametrize(
    ("kind", "record", "expected"),
    [
        (
            "labels",
            {**LABEL, "rationalle": "why"},
            ["field 'rationalle'", "did you mean 'rationale'"],
        ),
        ("labels", {**LABEL, "durations": 3}, ["field 'durations'", "did you mean 'duration_s'"]),
        ("judgments", {**JUDGED, "confidance": 0.5}, ["field 'confidance'", "'confidence'"]),
        ("judgments", {**JUDGED, "zzz": 1}, ["field 'zzz'", "unknown field", "fields are pair_id"]),
    ],
    ids=["rationalle", "durations", "confidance", "no-close-match"],
)
def test_unknown_keys_refused(
    engine: Engine,
    seeded: str,
    tmp_path: Path,
    kind: str,
    record: dict[str, object],
    expected: list[str],
) -> None:
    path = write_jsonl(tmp_path / "typo.jsonl", [record])
    stderr = assert_rejected(engine, seeded, command(kind, path), "line 1", *expected)
    if "zzz" in record:
        assert "did you mean" not in stderr


def test_unknown_csv_column_refused_and_mapped_column_accepted(
    engine: Engine, seeded: str, tmp_path: Path
) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("pair_id,annotator,label,note\np2,z,B,hm\n", encoding="utf-8")
    assert_rejected(engine, seeded, command("labels", path), "field 'note'", "unknown field")
    result = run_cli(seeded, *command("labels", path), "--map", "rationale=note")
    assert result.exit_code == 0, result.output


# -- item 9: --dedupe lists disagreeing repeats; --on-conflict first|last|error ----------------


def _labels_of(engine: Engine) -> dict[tuple[str, str], tuple[str, str | None]]:
    with transaction(engine) as s:
        return {
            (r.pair_id, r.annotator): (r.label, r.rationale)
            for r in s.scalars(select(HumanLabel).where(HumanLabel.kind == "gold"))
        }


REPEATS = [
    {"pair_id": "p2", "annotator": "a", "label": "A"},
    {"pair_id": "p2", "annotator": "b", "label": "B"},
    {"pair_id": "p2", "annotator": "a", "label": "B"},  # disagrees with line 1
    {"pair_id": "p2", "annotator": "b", "label": "B"},  # identical to line 2: folded quietly
    {"pair_id": "p2", "annotator": "b", "label": "B", "rationale": "r"},  # disagrees with line 2
]


@pytest.mark.parametrize("batch_size", [2000, 1], ids=["one-batch", "across-batches"])
def test_dedupe_lists_disagreements_and_on_conflict_chooses(
    engine: Engine, seeded: str, tmp_path: Path, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("referee.ingest.importer.BATCH_SIZE", batch_size)
    path = write_jsonl(tmp_path / "rep.jsonl", REPEATS)
    first = run_cli(seeded, *command("labels", path), "--dedupe", "--json")
    assert first.exit_code == 0, first.output
    doc = json.loads(first.stdout)
    assert (doc["inserted"], doc["folded_repeats"], doc["folded_disagreeing"]) == (2, 3, 2)
    assert doc["disagreeing_keys"] == [
        "label of pair 'p2' by annotator 'a' (lines 1 and 3)",
        "label of pair 'p2' by annotator 'b' (lines 2 and 5)",
    ]
    assert "2 repeat(s) of a key had different content; kept the first" in first.stderr
    assert "annotator 'a' (lines 1 and 3)" in first.stderr
    stored = _labels_of(engine)
    assert stored[("p2", "a")] == ("A", None) and stored[("p2", "b")] == ("B", None)


@pytest.mark.parametrize("batch_size", [2000, 1], ids=["one-batch", "across-batches"])
def test_on_conflict_last_keeps_the_last(
    engine: Engine, db_url: str, tmp_path: Path, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db_url, tmp_path)
    monkeypatch.setattr("referee.ingest.importer.BATCH_SIZE", batch_size)
    path = write_jsonl(tmp_path / "rep.jsonl", REPEATS)
    result = run_cli(db_url, *command("labels", path), "--on-conflict", "last", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == 2
    assert "kept the last" in result.stderr
    stored = _labels_of(engine)
    assert stored[("p2", "a")] == ("B", None) and stored[("p2", "b")] == ("B", "r")
    # pairs: same texts, other meta; the last meta wins
    pairs = [
        {**PAIR, "meta": {"i": 1}},
        {"id": "n2", "prompt": "q", "response_a": "a", "response_b": "b"},
        {**PAIR, "meta": {"i": 2}},
    ]
    path = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    result = run_cli(db_url, *command("pairs", path), "--on-conflict", "last")
    assert result.exit_code == 0, result.output
    assert "id 'n1' (lines 1 and 3)" in result.stderr
    with transaction(engine) as s:
        assert s.get_one(Pair, "n1").meta == {"i": 2}
    # a stored record is never replaced by --on-conflict last
    again = write_jsonl(tmp_path / "again.jsonl", [JUDGMENT, {**JUDGMENT, "raw": "other"}])
    assert_rejected(
        engine,
        db_url,
        [*command("judgments", again), "--on-conflict", "last"],
        "line 2, field 'raw'",
        "already stored",
    )
    with transaction(engine) as s:
        assert s.scalar(select(Judgment.raw)) == "Output (a)"


def test_on_conflict_error_refuses(engine: Engine, seeded: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "rep.jsonl", REPEATS)
    stderr = assert_rejected(
        engine,
        seeded,
        [*command("labels", path), "--on-conflict", "error"],
        "line 3, field 'annotator'",
        "first on line 1",
        "line 5",
    )
    assert "line 4" not in stderr  # an identical repeat is still folded
    bad = run_cli(seeded, *command("labels", path), "--on-conflict", "middle")
    assert bad.exit_code == 2 and "use first, last or error" in bad.stderr


def test_dedupe_lists_first_twenty_then_count(engine: Engine, seeded: str, tmp_path: Path) -> None:
    records = [{"pair_id": "p2", "annotator": f"a{i}", "label": "A"} for i in range(25)]
    records += [{"pair_id": "p2", "annotator": f"a{i}", "label": "B"} for i in range(25)]
    path = write_jsonl(tmp_path / "many.jsonl", records)
    result = run_cli(seeded, *command("labels", path), "--dedupe")
    assert result.exit_code == 0, result.output
    assert "25 repeat(s) of a key had different content" in result.stderr
    assert result.stderr.count("(lines ") == 20
    assert "... and 5 more" in result.stderr


# -- item 10: CSV decoding errors name the physical line --------------------------------------


def test_csv_non_utf8_reports_physical_line(engine: Engine, seeded: str, tmp_path: Path) -> None:
    lines = [b"id,prompt,response_a,response_b\n"]
    lines.append(b'm0,"a prompt\nover two lines",a,b\n')  # physical lines 2-3
    for i in range(1, 2999):
        lines.append(f"m{i},prompt number {i},answer a {i},answer b {i}\n".encode())
    lines[1999] = b"bad,caf\xe9,a,b\n"  # physical line 2001
    path = tmp_path / "big.csv"
    path.write_bytes(b"".join(lines))
    stderr = assert_rejected(engine, seeded, command("pairs", path), "line 2001", "UTF-8")
    assert "0xe9" in stderr and "column 8" in stderr


def test_parquet_values_that_are_not_json_are_refused(
    engine: Engine, seeded: str, tmp_path: Path
) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from datetime import datetime

    table = pa.table(
        {
            "id": ["t1"],
            "prompt": ["p"],
            "response_a": ["a"],
            "response_b": ["b"],
            "when": [datetime(2024, 1, 2, 3, 4, 5)],
        }
    )
    path = tmp_path / "pairs.parquet"
    pq.write_table(table, path)
    assert_rejected(
        engine, seeded, command("pairs", path), "line 1, field 'when'", "datetime", "not JSON"
    )
