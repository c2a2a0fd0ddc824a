"""Redaction end to end through the CLI: no raw value reaches a judge, the review API, a file or
any table of the main database; ``referee unredact`` with the key brings the values back."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

from referee.api.app import create_app
from referee.db.engine import transaction
from referee.db.models import Pair
from referee.fakes.openai_server import FakeOpenAIServer, prefer_longer
from referee.privacy import Vault, generate_vault_key
from referee.review import QueueConfig
from referee.review.tokens import add_reviewer
from referee.settings import Settings
from tests.helpers import grant_every_dataset, run_cli, snapshot

FIRST = ["John Carter", "Maria Lopez", "Wei Zhang", "Aisha Khan", "Olaf Berg"]
SECRETS = {
    "email": "john.smith@example.com",
    "ssn": "123-45-6789",
    "phone": "+1 415 555 0132",
    "card": "4111 1111 1111 1111",
    "iban": "DE89 3704 0044 0532 0130 00",
    "key": "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
    "ticket": "ENG-4411",
}


def _pairs(n: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        kinds = rng.sample(sorted(SECRETS), 3)
        values = [SECRETS[k] for k in kinds]
        out.append(
            {
                "id": f"priv-{i:03d}",
                "prompt": f"Support case {i}: customer {values[0]} asks about {values[1]}.",
                "response_a": f"We have noted {values[0]} and will call back about {values[2]}.",
                "response_b": f"Please resend {values[1]}; case {i} stays open.",
                "meta": {"source": "tickets", "contact": values[0]},
            }
        )
    return out


def _env(tmp: Path, key: str) -> dict[str, str]:
    return {"REFEREE_VAULT_URL": f"sqlite:///{tmp / 'vault.db'}", "REFEREE_VAULT_KEY": key}


def _no_secret_in(text: str, where: str) -> None:
    for kind, value in SECRETS.items():
        assert value not in text, f"{kind} value found in {where}"
        if kind == "email":
            assert "john.smith" not in text, f"email local part found in {where}"


def test_redacted_dataset_end_to_end(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    key = generate_vault_key()
    env = _env(tmp_path, key)
    pairs = _pairs(40)
    source = tmp_path / "pairs.jsonl"
    source.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    ingested = run_cli(
        sqlite_url, "ingest", str(source), "--dataset", "priv", "--redact",
        "--redact-pattern", r"TICKET=ENG-\d+", "--json", env=env,
    )  # fmt: skip
    assert ingested.exit_code == 0, ingested.output
    with transaction(sqlite_engine) as s:
        stored = {p.id: p for p in s.query(Pair)}
        assert {p.redaction_version for p in stored.values()} == {
            stored["priv-000"].redaction_version
        }
        assert stored["priv-000"].redaction_version is not None
        first = stored["priv-000"]
        # one value, one token, in the prompt, the responses and meta alike
        token = first.meta["contact"]
        assert token.startswith("<") and token in first.prompt and token in first.response_a

    with FakeOpenAIServer(prefer_longer, record_bodies=True) as server:
        judged = run_cli(
            sqlite_url, "prelabel", "--dataset", "priv", "--judge",
            "openai/gpt-4o-mini", "--api-base", server.base_url, "--json",
            env={**env, "REFEREE_API_KEY": "sk-fake"},
        )  # fmt: skip
        assert judged.exit_code == 0, judged.output
        assert len(server.bodies) == 2 * len(pairs)
        for body in server.bodies:
            _no_secret_in(body.decode("utf-8"), "a judge request")

    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps({"pair_id": p["id"], "annotator": "expert", "label": "A"}) + "\n"
            for p in pairs[:20]
        )
    )
    for args in (
        ("labels", "import", str(gold), "--kind", "gold"),
        ("calibrate", "--dataset", "priv", "--target-agreement", "0.8", "--delta", "0.2"),
        ("route", "--dataset", "priv", "--out", str(tmp_path / "decisions.jsonl")),
    ):
        result = run_cli(sqlite_url, *args, env=env)
        assert result.exit_code == 0, (args, result.output)

    _, token_for_api = add_reviewer_in(sqlite_engine, "rita")
    app = create_app(
        sqlite_engine, Settings(database_url=sqlite_url), config=QueueConfig(gold_rate=0.0)
    )
    with TestClient(app) as client:
        served = client.get(
            "/v1/next", params={"dataset": "priv"},
            headers={"Authorization": f"Bearer {token_for_api}"},
        )  # fmt: skip
        assert served.status_code == 200, served.text
        _no_secret_in(served.text, "the review API")

    outputs = tmp_path / "out"
    outputs.mkdir()
    for fmt, name in (
        ("jsonl", "all.jsonl"),
        ("label-studio", "tasks.json"),
        ("incidents", "i.jsonl"),
    ):
        result = run_cli(
            sqlite_url, "export", "--dataset", "priv", "--format", fmt,
            "--out", str(outputs / name), env=env,
        )  # fmt: skip
        assert result.exit_code == 0, result.output
    released = run_cli(
        sqlite_url, "release", "--dataset", "priv", "--name", "v1",
        "--out", str(outputs / "v1"), "--min-agreement-items", "0", "--json", env=env,
    )  # fmt: skip
    assert released.exit_code == 0, released.output
    manifest = json.loads(released.stdout)["manifest"]
    assert manifest["redaction_required"] is True
    assert manifest["redaction_version"] == first.redaction_version
    for path in outputs.rglob("*"):
        if path.is_file():
            _no_secret_in(path.read_text(encoding="utf-8"), str(path))
    _no_secret_in((tmp_path / "decisions.jsonl").read_text(), "decisions.jsonl")
    _no_secret_in(repr(snapshot(sqlite_engine)), "the main database")

    back = run_cli(
        sqlite_url, "unredact", "--dataset", "priv", "--pair", "priv-000", "--json", env=env
    )
    assert back.exit_code == 0, back.output
    restored = json.loads(back.stdout)
    for field in ("prompt", "response_a", "response_b"):
        assert restored[field] == pairs[0][field]
    assert restored["meta"] == pairs[0]["meta"]
    wrong = run_cli(
        sqlite_url, "unredact", "--dataset", "priv", "--pair", "priv-000",
        env={**env, "REFEREE_VAULT_KEY": generate_vault_key()},
    )  # fmt: skip
    assert wrong.exit_code == 2 and "does not open the vault" in wrong.output
    missing = run_cli(
        sqlite_url, "unredact", "--dataset", "priv", "--pair", "priv-000",
        env={**env, "REFEREE_VAULT_KEY": ""},
    )  # fmt: skip
    assert missing.exit_code == 2 and "REFEREE_VAULT_KEY" in missing.output
    vault = Vault(env["REFEREE_VAULT_URL"])
    actions = [(r.action, r.outcome) for r in vault.audit_log("priv")]
    vault.dispose()
    assert ("reveal", "ok") in actions
    assert sum(a == "reveal" for a, _ in actions) >= 3  # refusals are audited too


def add_reviewer_in(engine: Engine, name: str) -> tuple[object, str]:
    with transaction(engine) as s:
        reviewer, token = add_reviewer(s, name)
        grant_every_dataset(s, reviewer)
        return reviewer, token


def test_later_ingests_stay_redacted_and_the_gate_refuses_plain_pairs(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    env = _env(tmp_path, generate_vault_key())
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    rows = _pairs(4)
    first.write_text("".join(json.dumps(p) + "\n" for p in rows[:2]))
    second.write_text("".join(json.dumps(p) + "\n" for p in rows[2:]))
    assert (
        run_cli(
            sqlite_url,
            "ingest",
            str(first),
            "--dataset",
            "d",
            "--redact",
            "--redact-pattern",
            r"TICKET=ENG-\d+",
            env=env,
        ).exit_code
        == 0
    )
    # no --redact: the dataset setting redacts anyway
    assert run_cli(sqlite_url, "ingest", str(second), "--dataset", "d", env=env).exit_code == 0
    _no_secret_in(repr(snapshot(sqlite_engine)), "the main database")
    # without the key a redacted dataset refuses new pairs, and writes nothing
    before = snapshot(sqlite_engine)
    third = tmp_path / "c.jsonl"
    third.write_text(json.dumps({**rows[0], "id": "new"}) + "\n")
    refused = run_cli(
        sqlite_url, "ingest", str(third), "--dataset", "d", env={**env, "REFEREE_VAULT_KEY": ""}
    )
    assert refused.exit_code == 2 and "requires redaction" in refused.output
    assert snapshot(sqlite_engine) == before
    # --redact on a dataset that already holds plain pairs is refused
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({**rows[0], "id": "plain-1"}) + "\n")
    assert run_cli(sqlite_url, "ingest", str(plain), "--dataset", "p").exit_code == 0
    late = run_cli(sqlite_url, "ingest", str(third), "--dataset", "p", "--redact", env=env)
    assert late.exit_code == 2 and "unredacted pair" in late.output
    bad = run_cli(
        sqlite_url, "ingest", str(third), "--dataset", "q", "--redact",
        "--redact-pattern", "TICKET=ENG-(", env=env,
    )  # fmt: skip
    assert bad.exit_code == 2 and "--redact-pattern" in bad.output
    # a redacted dataset with a pair stored plain (say, written by an old version) is refused
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(
            json.dumps({"pair_id": p["id"], "annotator": "x", "label": "A"}) + "\n" for p in rows
        )
    )
    assert run_cli(sqlite_url, "labels", "import", str(gold), "--kind", "gold").exit_code == 0
    with transaction(sqlite_engine) as s:
        s.execute(update(Pair).where(Pair.id == rows[3]["id"]).values(redaction_version=None))
    gate = run_cli(
        sqlite_url, "release", "--dataset", "d", "--name", "v1", "--out", str(tmp_path / "v1")
    )
    assert gate.exit_code == 1
    assert "redaction_not_applied" in gate.output and rows[3]["id"] in gate.output


@pytest.mark.parametrize("value", ["", "not-a-key"])
def test_a_bad_vault_key_is_refused_at_start(sqlite_url: str, tmp_path: Path, value: str) -> None:
    source = tmp_path / "a.jsonl"
    source.write_text(json.dumps(_pairs(1)[0]) + "\n")
    env = {**_env(tmp_path, value)}
    result = run_cli(sqlite_url, "ingest", str(source), "--dataset", "d", "--redact", env=env)
    assert result.exit_code == 2
    assert "REFEREE_VAULT_KEY" in result.output
