"""The vault's tables: their own SQLAlchemy metadata, never the main schema's.

* ``vault_meta``: a key check (a fixed message encrypted under the key);
* ``vault_dataset_keys``: (dataset, encrypted pseudonym key, created_at);
* ``vault_values``: (dataset, token, digest, ciphertext, created_at), one row per token;
* ``vault_audit``: append-only (triggers refuse UPDATE and DELETE on SQLite, and UPDATE,
  DELETE and TRUNCATE on PostgreSQL).
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
)

__all__ = ["metadata", "vault_audit", "vault_dataset_keys", "vault_meta", "vault_values"]

metadata = MetaData()
vault_meta = Table(
    "vault_meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)
vault_dataset_keys = Table(
    "vault_dataset_keys",
    metadata,
    Column("dataset", String(200), primary_key=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
vault_values = Table(
    "vault_values",
    metadata,
    Column("dataset", String(200), primary_key=True),
    Column("token", String(80), primary_key=True),
    Column("digest", String(32), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
vault_audit = Table(
    "vault_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("dataset", String(200), nullable=False),
    Column("ref", String(400), nullable=True),
    Column("tokens", Integer, nullable=False, default=0),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=True),
)
for _op in ("UPDATE", "DELETE"):
    event.listen(
        vault_audit,
        "after_create",
        DDL(  # type: ignore[no-untyped-call]
            f"CREATE TRIGGER vault_audit_no_{_op.lower()} BEFORE {_op} ON vault_audit "
            "BEGIN SELECT RAISE(ABORT, 'vault_audit is append-only'); END"
        ).execute_if(dialect="sqlite"),
    )
for _statement in (
    "CREATE OR REPLACE FUNCTION vault_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$fn$ BEGIN RAISE EXCEPTION 'vault_audit is append-only'; END $fn$",
    "CREATE TRIGGER vault_audit_no_change BEFORE UPDATE OR DELETE ON vault_audit "
    "FOR EACH ROW EXECUTE FUNCTION vault_audit_append_only()",
    "CREATE TRIGGER vault_audit_no_truncate BEFORE TRUNCATE ON vault_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION vault_audit_append_only()",
):
    event.listen(
        vault_audit,
        "after_create",
        DDL(_statement).execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
    )
