"""The vault: encrypted values in their own database, the key check, and the audit log."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from redaction import PseudonymState, Redactor, VaultConflictError, VaultKeyError
from referee.privacy import Vault, VaultKey, generate_vault_key, unredact, unredact_texts

PROMPT = "Customer john.smith@example.com (SSN 123-45-6789) paid with 4111 1111 1111 1111."
RESP_A = "We emailed john.smith@example.com; call +44 20 7946 0958 if needed."
RESP_B = "Key sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa must be rotated."
VALUES = ["john.smith@example.com", "123-45-6789", "4111 1111 1111 1111", "+44 20 7946 0958",
          "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"]  # fmt: skip


@pytest.fixture
def vault_path(tmp_path: Path) -> Path:
    return tmp_path / "vault.db"


@pytest.fixture
def vault(vault_path: Path) -> Iterator[Vault]:
    v = Vault(f"sqlite:///{vault_path}")
    yield v
    v.dispose()


@pytest.fixture
def key() -> VaultKey:
    return VaultKey.from_string(generate_vault_key())


def ingest(
    vault: Vault, key: VaultKey, dataset: str = "support"
) -> tuple[tuple[str, str, str], PseudonymState]:
    redactor = Redactor(vault.dataset_key(dataset, key))
    state = PseudonymState()
    texts, findings = redactor.redact_pair(PROMPT, RESP_A, RESP_B, state)
    vault.store(dataset, findings, key, actor="ingest", ref="pairs.jsonl")
    return texts, state


def test_round_trip_restores_every_value(vault: Vault, key: VaultKey) -> None:
    texts, _ = ingest(vault, key)
    for value in VALUES:
        assert all(value not in t for t in texts)
    assert unredact_texts(list(texts), "support", vault, key, actor="alice", ref="pair p1") == [
        PROMPT,
        RESP_A,
        RESP_B,
    ]
    assert unredact(texts[0], "support", vault, key) == PROMPT


def test_dataset_key_is_stable_and_per_dataset(vault: Vault, key: VaultKey) -> None:
    k1 = vault.dataset_key("support", key)
    assert vault.dataset_key("support", key) == k1
    assert vault.dataset_key("other", key) != k1
    assert len(k1) == 32


def test_values_are_not_readable_in_the_vault_file(
    vault: Vault, key: VaultKey, vault_path: Path
) -> None:
    texts, state = ingest(vault, key)
    raw = vault_path.read_bytes()
    for value in VALUES:
        assert value.encode() not in raw
    # and the main-database side (texts and state) holds no value either
    blob = repr(texts) + repr(state.to_json())
    for value in VALUES:
        assert value not in blob


def test_wrong_key_is_refused_and_audited(vault: Vault, key: VaultKey) -> None:
    texts, _ = ingest(vault, key)
    wrong = VaultKey.from_string(generate_vault_key())
    with pytest.raises(VaultKeyError, match="does not open the vault"):
        unredact(texts[0], "support", vault, wrong, actor="mallory")
    with pytest.raises(VaultKeyError):
        vault.dataset_key("support", wrong)
    refused = [r for r in vault.audit_log("support") if r.outcome == "refused"]
    assert [r.actor for r in refused][:1] == ["mallory"]


def test_missing_or_malformed_key_is_refused() -> None:
    for text in (None, "", "  "):
        with pytest.raises(VaultKeyError, match="no vault key"):
            VaultKey.from_string(text)
    for text in ("abc", "0" * 63, "x" * 44):
        with pytest.raises(VaultKeyError, match="malformed"):
            VaultKey.from_string(text)
    assert VaultKey.from_string("ab" * 32)  # 64 hex digits are accepted too
    assert "hidden" in repr(VaultKey.from_string(generate_vault_key()))


def test_a_fresh_vault_opened_with_another_key_cannot_read_old_values(
    vault_path: Path, key: VaultKey
) -> None:
    v = Vault(f"sqlite:///{vault_path}")
    texts, _ = ingest(v, key)
    v.dispose()
    reopened = Vault(f"sqlite:///{vault_path}")
    with pytest.raises(VaultKeyError):
        reopened.reveal("support", ["EMAIL_1"], VaultKey.from_string(generate_vault_key()))
    assert unredact(texts[0], "support", reopened, key) == PROMPT
    reopened.dispose()


def test_every_use_is_audited(vault: Vault, key: VaultKey) -> None:
    texts, _ = ingest(vault, key)
    unredact_texts(list(texts), "support", vault, key, actor="alice", ref="pair p1")
    log = vault.audit_log("support")
    assert [(r.action, r.outcome, r.actor) for r in log] == [
        ("store", "ok", "ingest"),
        ("reveal", "ok", "alice"),
    ]
    assert log[1].ref == "pair p1" and log[1].tokens == 5 and log[1].detail == "unredact"
    assert log[0].tokens == 5


def test_audit_log_is_append_only(vault: Vault, key: VaultKey, vault_path: Path) -> None:
    ingest(vault, key)
    conn = sqlite3.connect(vault_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE vault_audit SET actor = 'nobody'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM vault_audit")
    conn.close()
    with pytest.raises(DBAPIError), vault.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM vault_audit")


def test_store_is_idempotent_and_refuses_a_conflicting_token(vault: Vault, key: VaultKey) -> None:
    dataset_key = vault.dataset_key("support", key)
    state = PseudonymState()
    r = Redactor(dataset_key)
    _, findings = r.redact_pair("a@example.com", "", "", state)
    assert vault.store("support", findings, key) == 1
    assert vault.store("support", findings, key) == 0
    # a lost state renumbers: EMAIL_1 would now stand for another value
    _, other = r.redact_pair("b@example.com", "", "", PseudonymState())
    with pytest.raises(VaultConflictError, match="EMAIL_1"):
        vault.store("support", other, key)


def test_unknown_tokens_are_left_alone(vault: Vault, key: VaultKey) -> None:
    ingest(vault, key)
    assert unredact("<EMAIL_1> and <EMAIL_99>", "support", vault, key) == (
        "john.smith@example.com and <EMAIL_99>"
    )
    assert unredact("<EMAIL_1>", "other-dataset", vault, key) == "<EMAIL_1>"


def test_postgresql_vault_round_trip_and_append_only_audit(pg_url: str, key: VaultKey) -> None:
    v = Vault(pg_url)
    try:
        texts, _ = ingest(v, key)
        assert unredact_texts(list(texts), "support", v, key, actor="alice") == [
            PROMPT,
            RESP_A,
            RESP_B,
        ]
        for sql in (
            "UPDATE vault_audit SET actor = 'x'",
            "DELETE FROM vault_audit",
            "TRUNCATE vault_audit",
        ):
            with pytest.raises(DBAPIError, match="append-only"), v.engine.begin() as c:
                c.exec_driver_sql(sql)
        assert [r.action for r in v.audit_log("support")] == ["store", "reveal"]
        with pytest.raises(VaultKeyError):
            unredact(texts[0], "support", v, VaultKey.from_string(generate_vault_key()))
    finally:
        v.dispose()


def test_no_key_is_refused_and_the_attempt_audited(vault: Vault, key: VaultKey) -> None:
    texts, _ = ingest(vault, key)
    with pytest.raises(VaultKeyError, match="no vault key"):
        unredact(texts[0], "support", vault, None, actor="bob", ref="pair p9")
    last = vault.audit_log("support")[-1]
    assert (last.actor, last.action, last.outcome, last.ref) == (
        "bob",
        "reveal",
        "refused",
        "pair p9",
    )


def test_a_rolled_back_ingest_does_not_break_numbering(vault: Vault, key: VaultKey) -> None:
    """Values reach the vault before the main database commits; if that commit fails, the next
    ingest learns the orphaned tokens from the vault instead of renumbering over them."""
    r = Redactor(vault.dataset_key("support", key))
    saved = PseudonymState()
    _, f1 = r.redact_pair("a@example.com", "", "", saved)
    vault.store("support", f1, key)
    persisted = saved.to_json()  # committed with the first batch

    lost = PseudonymState.from_json(persisted)
    _, f2 = r.redact_pair("b@example.com", "", "", lost)
    vault.store("support", f2, key)  # ... and then the main transaction rolls back

    retry = PseudonymState.from_json(persisted)
    assert vault.sync_state("support", retry, key) == 1
    (p, a, _), f3 = r.redact_pair("c@example.com", "b@example.com", "", retry)
    vault.store("support", f3, key)  # no VaultConflictError
    assert (p, a) == ("<EMAIL_3>", "<EMAIL_2>")
    assert unredact("<EMAIL_1> <EMAIL_2> <EMAIL_3>", "support", vault, key) == (
        "a@example.com b@example.com c@example.com"
    )
