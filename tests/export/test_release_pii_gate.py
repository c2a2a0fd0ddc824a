"""Issue 21 (release side): a redacted dataset's release checks every exported text field for
personal data — reviewers' reasons and rationales too, not only the pair's texts."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import create_engine, text

from formats.rows import HumanAnswer, LabeledPair
from referee.export.pii_gate import exported_texts, pii_findings
from referee.privacy import generate_vault_key
from tests.helpers import run_cli

EMAIL = "jane.roe@corp.example.com"


def _env(tmp: Path) -> dict[str, str]:
    return {"REFEREE_VAULT_URL": f"sqlite:///{tmp / 'vault.db'}",
            "REFEREE_VAULT_KEY": generate_vault_key()}  # fmt: skip


def _redacted_dataset(url: str, tmp: Path, env: dict[str, str], rationale: str) -> list[str]:
    ids = [f"r{i}" for i in range(3)]
    pairs, gold = tmp / "pairs.jsonl", tmp / "gold.jsonl"
    pairs.write_text(
        "".join(
            json.dumps({"id": i, "prompt": f"Write to {EMAIL} about {i}", "response_a": "ok",
                        "response_b": "no"}) + "\n"
            for i in ids
        )
    )  # fmt: skip
    made = run_cli(url, "ingest", str(pairs), "--dataset", "priv", "--redact", env=env)
    assert made.exit_code == 0, made.output
    gold.write_text(
        "".join(
            json.dumps({"pair_id": i, "annotator": "g", "label": "A", "rationale": rationale})
            + "\n"
            for i in ids
        )
    )
    assert run_cli(url, "labels", "import", str(gold), "--kind", "gold", env=env).exit_code == 0
    return ids


def test_pii_in_a_rationale_refuses_the_release_without_showing_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    ids = _redacted_dataset(sqlite_url, tmp_path, env, "A answers the question")
    # Text typed by people is redacted when it is written (issue 21), so plant the address the
    # way a row stored before that existed would hold it: the gate is the second line of defence.
    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE human_labels SET rationale = :r"), {"r": f"call me at {EMAIL}"})
    engine.dispose()
    out = tmp_path / "v1"
    refused = run_cli(
        sqlite_url, "release", "--dataset", "priv", "--name", "v1", "--out", str(out),
        "--min-agreement-items", "0", env=env,
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "pii_in_exported_text" in refused.output
    assert f"{ids[0]}: answers[0].rationale holds EMAIL" in refused.output
    assert "prompt holds" not in refused.output  # the pair's own texts were redacted at ingest
    assert EMAIL not in refused.output and not out.exists()


def test_imported_pii_is_redacted_on_write_and_the_release_passes(
    sqlite_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    _redacted_dataset(sqlite_url, tmp_path, env, f"call me at {EMAIL}")
    made = run_cli(
        sqlite_url, "release", "--dataset", "priv", "--name", "v1", "--out",
        str(tmp_path / "v1"), "--min-agreement-items", "0", env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert EMAIL not in (tmp_path / "v1" / "rows.jsonl").read_text(encoding="utf-8")


def test_every_exported_text_field_is_scanned() -> None:
    row = LabeledPair(
        pair_id="p", dataset="d", prompt="q", response_a="a", response_b="b", label="A",
        source="human", method="majority",
        answers=(HumanAnswer("annotator-1", "both_bad", "review", None,
                             rationale="r", reason="ring +1 415 555 2671"),),
        meta={"notes": ["fine", {"owner": EMAIL}]},
    )  # fmt: skip
    fields = dict(exported_texts(row))
    assert set(fields) == {"prompt", "response_a", "response_b", "answers[0].reason",
                           "answers[0].rationale", "meta.notes[0]", "meta.notes[1].owner"}  # fmt: skip
    found = {(f["field"], tuple(f["kinds"])) for f in pii_findings([row])}
    assert ("meta.notes[1].owner", ("EMAIL",)) in found
    assert any(field == "answers[0].reason" for field, _ in found)
