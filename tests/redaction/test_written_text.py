"""Text people and judges add to a redacted dataset is redacted when it is written: the API's
rationales and reasons, incident notes, imported rationales and raw verdicts; with the pair
texts' pseudonyms and vault, and refused outright when the process has no vault."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from referee.api.app import create_app
from referee.db.engine import transaction
from referee.db.models import Dataset, HumanLabel, Judgment, Pair
from referee.privacy import Vault, generate_vault_key
from referee.review import QueueConfig
from referee.settings import Settings
from tests.helpers import run_cli, snapshot
from tests.review.review_factory import make_reviewer, make_routed_dataset

EMAIL = "john.smith@example.com"
CARD = "4111 1111 1111 1111"
PHONE = "+1 415 555 0132"
TOKEN = re.compile(r"<[A-Z_]+_\d+>")


def redacted_dataset(engine: Engine, tmp_path: Path) -> tuple[dict[str, str], str]:
    """A routed dataset ``ds`` that requires redaction, and the vault settings (env)."""
    make_routed_dataset(engine, "ds", n_review=3)
    with transaction(engine) as s:
        s.execute(update(Dataset).values(redaction_required=True, redaction_state={}))
    env = {"REFEREE_VAULT_URL": f"sqlite:///{tmp_path / 'vault.db'}"}
    env["REFEREE_VAULT_KEY"] = generate_vault_key()
    return env, str(engine.url)


def client(engine: Engine, env: dict[str, str] | None) -> TestClient:
    vault = {} if env is None else {"vault_url": env["REFEREE_VAULT_URL"],
                                   "vault_key": env["REFEREE_VAULT_KEY"]}  # fmt: skip
    settings = Settings(database_url=str(engine.url), **vault)
    return TestClient(create_app(engine, settings, config=QueueConfig(gold_rate=0.0)))


def no_value_in(text: str) -> None:
    for value in (EMAIL, CARD, PHONE, "john.smith"):
        assert value not in text


def test_api_text_is_redacted_with_the_pairs_pseudonyms(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    env, url = redacted_dataset(sqlite_engine, tmp_path)
    _, token = make_reviewer(sqlite_engine, "rita")
    api = client(sqlite_engine, env)
    head = {"Authorization": f"Bearer {token}"}
    first = api.get("/v1/next", params={"dataset": "ds"}, headers=head).json()["pair_id"]
    body = {"label": "both_bad", "rationale": f"mail {EMAIL}", "reason": f"card {CARD}",
            "unsafe": True}  # fmt: skip
    assert api.post(f"/v1/items/{first}/label", headers=head, json=body).status_code == 200
    second = api.get("/v1/next", params={"dataset": "ds"}, headers=head).json()["pair_id"]
    body = {"label": "A", "rationale": f"again {EMAIL}, phone {PHONE}"}
    assert api.post(f"/v1/items/{second}/label", headers=head, json=body).status_code == 200

    no_value_in(repr(snapshot(sqlite_engine)))  # labels, escalations, audit log
    with transaction(sqlite_engine) as s:
        labels = {h.pair_id: h for h in s.scalars(select(HumanLabel))}
    email_token = TOKEN.search(labels[first].rationale or "")
    assert email_token is not None
    assert email_token.group() in (labels[second].rationale or "")  # one value, one token
    vault = Vault(env["REFEREE_VAULT_URL"])
    from referee.privacy import VaultKey

    shown = vault.reveal(
        "ds", [email_token.group()[1:-1]], VaultKey.from_string(env["REFEREE_VAULT_KEY"])
    )
    vault.dispose()
    assert shown == {email_token.group()[1:-1]: EMAIL}

    # a later ingest of a pair quoting the same address gets the same token
    new = tmp_path / "more.jsonl"
    new.write_text(json.dumps({"id": "late", "prompt": f"to {EMAIL}", "response_a": "a",
                               "response_b": "b"}) + "\n")  # fmt: skip
    assert run_cli(url, "ingest", str(new), "--dataset", "ds", env=env).exit_code == 0
    with transaction(sqlite_engine) as s:
        assert s.get_one(Pair, "late").prompt == f"to {email_token.group()}"

    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("jsonl", "incidents"):
        target = out / f"{fmt}.jsonl"
        done = run_cli(url, "export", "--dataset", "ds", "--format", fmt, "--out", str(target),
                       env=env)  # fmt: skip
        assert done.exit_code == 0, done.output
        no_value_in(target.read_text())


def test_without_a_vault_text_for_a_redacted_dataset_is_refused(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    redacted_dataset(sqlite_engine, tmp_path)
    _, token = make_reviewer(sqlite_engine, "rita")
    api = client(sqlite_engine, None)
    head = {"Authorization": f"Bearer {token}"}
    pair = api.get("/v1/next", params={"dataset": "ds"}, headers=head).json()["pair_id"]
    refused = api.post(
        f"/v1/items/{pair}/label", headers=head, json={"label": "A", "rationale": EMAIL}
    )
    assert refused.status_code == 503 and "REFEREE_VAULT_URL" in refused.json()["detail"]
    no_value_in(refused.text)
    with transaction(sqlite_engine) as s:
        assert s.scalars(select(HumanLabel)).all() == []
    plain = api.post(f"/v1/items/{pair}/label", headers=head, json={"label": "A"})
    assert plain.status_code == 200  # no text, nothing to redact


def test_imported_rationales_and_raw_verdicts_are_redacted(
    sqlite_engine: Engine, tmp_path: Path
) -> None:
    env, url = redacted_dataset(sqlite_engine, tmp_path)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"pair_id": "ds-000", "annotator": "x", "label": "A",
                                  "rationale": f"see {EMAIL}"}) + "\n")  # fmt: skip
    done = run_cli(url, "labels", "import", str(labels), "--kind", "gold", env=env)
    assert done.exit_code == 0, done.output
    verdicts = tmp_path / "judgments.jsonl"
    raw = json.dumps({"winner": "A", "card": CARD, "why": f"call {PHONE}"})
    verdict_row = {"pair_id": "ds-001", "judge": "j", "order": "AB", "prompt_version": "v1",
                   "winner": "A", "raw": raw}  # fmt: skip
    verdicts.write_text(json.dumps(verdict_row) + "\n")
    done = run_cli(url, "judgments", "import", str(verdicts), env=env)
    assert done.exit_code == 0, done.output
    with transaction(sqlite_engine) as s:
        label = s.scalars(select(HumanLabel).where(HumanLabel.annotator == "x")).one()
        verdict = s.scalars(select(Judgment)).one()
        assert TOKEN.search(label.rationale or "") and TOKEN.search(verdict.raw or "")
    no_value_in(repr(snapshot(sqlite_engine)))
    refused = run_cli(url, "labels", "import", str(labels), "--kind", "review")  # no vault
    assert refused.exit_code == 1 and "REFEREE_VAULT_KEY" in refused.output
