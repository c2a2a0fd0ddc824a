"""The vault: the only way back from a token to its value, kept apart from the main database.

Values are encrypted with AES-256-GCM under the vault key (``REFEREE_VAULT_KEY``, passed in by
the entry point: this module never reads the environment) and stored in the vault's own
database (``REFEREE_VAULT_URL``). Each ciphertext is bound to its dataset and token as
associated data, so rows cannot be swapped. The vault also keeps each dataset's pseudonym key
(encrypted the same way), so the main database holds nothing that turns a guess into a digest.

Tables (their own SQLAlchemy metadata, never the main schema's):

* ``vault_meta``: a key check (a fixed message encrypted under the key), so a wrong key is
  refused with a clear message before anything else is tried;
* ``vault_dataset_keys``: (dataset, encrypted pseudonym key, created_at);
* ``vault_values``: (dataset, token, digest, ciphertext, created_at), one row per token;
* ``vault_audit``: append-only (triggers refuse UPDATE and DELETE on SQLite, and UPDATE,
  DELETE and TRUNCATE on PostgreSQL); one row for every store, every reveal, and every
  refused attempt.
"""

from __future__ import annotations

import getpass
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from redaction.errors import VaultConflictError, VaultKeyError
from redaction.pseudonyms import TOKEN_PATTERN, PseudonymState
from redaction.redactor import Finding
from redaction.vault_key import VaultKey, generate_vault_key
from referee.privacy.vault_tables import (
    metadata,
    vault_audit,
    vault_dataset_keys,
    vault_meta,
    vault_values,
)

__all__ = [
    "AuditRecord",
    "Vault",
    "VaultKey",
    "generate_vault_key",
    "unredact",
    "unredact_texts",
]

_KEY_CHECK_PLAINTEXT = b"referee vault key check v1"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One row of the vault's audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    dataset: str
    ref: str | None
    tokens: int
    outcome: str
    detail: str | None


def _context(dataset: str, token: str) -> bytes:
    return dataset.encode() + b"\x1f" + token.encode()


def _now() -> datetime:
    return datetime.now(UTC)


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Vault:
    """The vault at one SQLAlchemy URL (or engine). Creates its tables on first use.

    ``postgresql://`` URLs use psycopg 3. Keep it in another database than the main one
    (another file, another PostgreSQL database or server, with its own credentials).

    Every method that reads or writes values takes the :class:`VaultKey`; the vault object
    itself holds no key.
    """

    def __init__(self, url_or_engine: str | Engine) -> None:
        if isinstance(url_or_engine, str):
            url = url_or_engine
            if url.startswith(("postgresql://", "postgres://")):
                url = "postgresql+psycopg://" + url.split("://", 1)[1]
            self.engine = create_engine(url, pool_pre_ping=True)
        else:
            self.engine = url_or_engine
        metadata.create_all(self.engine)
        self._verified: set[bytes] = set()

    def dispose(self) -> None:
        self.engine.dispose()

    # -- keys -----------------------------------------------------------------------------

    def check_key(self, key: VaultKey) -> None:
        """Refuse a key that does not open this vault (the first key used becomes its key)."""
        if key.fingerprint in self._verified:
            return
        self._check_key(key)
        self._verified.add(key.fingerprint)

    def _check_key(self, key: VaultKey) -> None:
        with self.engine.begin() as conn:
            stored = conn.execute(
                select(vault_meta.c.value).where(vault_meta.c.name == "key_check")
            ).scalar_one_or_none()
            if stored is None:
                try:
                    conn.execute(
                        insert(vault_meta).values(
                            name="key_check", value=key.encrypt(_KEY_CHECK_PLAINTEXT, b"key_check")
                        )
                    )
                    return
                except IntegrityError:
                    pass
        with self.engine.connect() as conn:
            stored = conn.execute(
                select(vault_meta.c.value).where(vault_meta.c.name == "key_check")
            ).scalar_one()
        try:
            plain = key.decrypt(stored, b"key_check")
        except VaultKeyError:
            plain = b""
        if not hmac.compare_digest(plain, _KEY_CHECK_PLAINTEXT):
            raise VaultKeyError("this key does not open the vault (wrong REFEREE_VAULT_KEY)")

    def dataset_key(self, dataset: str, key: VaultKey) -> bytes:
        """The dataset's pseudonym key, created (random, 32 bytes) on first use.

        Pass it to :class:`redaction.Redactor`. It never leaves the vault unencrypted
        except in memory.
        """
        self._checked(key, dataset, "dataset_key", None)
        context = _context(dataset, "\x00dataset-key")
        query = select(vault_dataset_keys.c.ciphertext).where(
            vault_dataset_keys.c.dataset == dataset
        )
        with self.engine.connect() as conn:
            blob = conn.execute(query).scalar_one_or_none()
        if blob is None:
            fresh = os.urandom(32)
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(vault_dataset_keys).values(
                            dataset=dataset,
                            ciphertext=key.encrypt(fresh, context),
                            created_at=_now(),
                        )
                    )
                return fresh
            except IntegrityError:  # created meanwhile by another process
                with self.engine.connect() as conn:
                    blob = conn.execute(query).scalar_one()
        return key.decrypt(blob, context)

    # -- values ---------------------------------------------------------------------------

    def store(
        self,
        dataset: str,
        findings: Iterable[Finding],
        key: VaultKey,
        *,
        actor: str | None = None,
        ref: str | None = None,
    ) -> int:
        """Store the value of every token not yet in the vault; returns how many were new.

        Idempotent: a token already stored with the same value is skipped. A token stored
        with a different value raises :class:`VaultConflictError` and stores nothing.
        """
        entries: dict[str, tuple[str, str]] = {}
        for finding in findings:
            # Two spellings of one value (an email's case, a phone's format) share a token,
            # and so a digest; the first spelling seen is the one kept.
            entries.setdefault(finding.token, (finding.digest, finding.value))
        self._checked(key, dataset, "store", ref, actor=actor)
        new = 0
        with self.engine.begin() as conn:
            existing: dict[str, str] = {}
            tokens = list(entries)
            for i in range(0, len(tokens), 500):
                existing.update(
                    (row.token, row.digest)
                    for row in conn.execute(
                        select(vault_values.c.token, vault_values.c.digest).where(
                            vault_values.c.dataset == dataset,
                            vault_values.c.token.in_(tokens[i : i + 500]),
                        )
                    )
                )
            rows = []
            now = _now()
            for token, (digest, value) in entries.items():
                stored = existing.get(token)
                if stored is not None:
                    if stored != digest:
                        raise VaultConflictError(dataset, token)
                    continue
                rows.append(
                    {
                        "dataset": dataset,
                        "token": token,
                        "digest": digest,
                        "created_at": now,
                        "ciphertext": key.encrypt(
                            value.encode("utf-8", "surrogatepass"), _context(dataset, token)
                        ),
                    }
                )
            if rows:
                conn.execute(insert(vault_values), rows)
                new = len(rows)
            self._audit(conn, actor, "store", dataset, ref, new, "ok", None)
        return new

    def sync_state(self, dataset: str, state: PseudonymState, key: VaultKey) -> int:
        """Teach ``state`` every (digest, token) the vault holds for ``dataset``.

        The vault is the authority on numbering: values are stored before the main database
        commits, so an ingest rolled back after :meth:`store` leaves tokens here that the
        persisted state never saw. Call this after loading the state and before redacting;
        the next ingest then continues the numbering past them (and gives those values the
        same tokens again) instead of raising :class:`VaultConflictError`. Returns how many
        entries were added.
        """
        self._checked(key, dataset, "sync_state", None)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(vault_values.c.digest, vault_values.c.token)
                .where(vault_values.c.dataset == dataset)
                .order_by(vault_values.c.created_at)
            ).all()
        return sum(state.learn(digest, token) for digest, token in rows)

    def reveal(
        self,
        dataset: str,
        tokens: Sequence[str],
        key: VaultKey | None,
        *,
        actor: str | None = None,
        ref: str | None = None,
        purpose: str | None = None,
    ) -> dict[str, str]:
        """The stored value of each token (``EMAIL_1``, without brackets); audited.

        Tokens the vault does not hold are left out of the answer. ``key=None`` (no
        ``REFEREE_VAULT_KEY``) is refused with :class:`VaultKeyError`, and the refusal audited.
        """
        key = self._checked(key, dataset, "reveal", ref, actor=actor)
        wanted = sorted(set(tokens))
        with self.engine.begin() as conn:
            rows = (
                conn.execute(
                    select(vault_values.c.token, vault_values.c.ciphertext).where(
                        vault_values.c.dataset == dataset, vault_values.c.token.in_(wanted)
                    )
                ).all()
                if wanted
                else []
            )
            out = {
                token: key.decrypt(blob, _context(dataset, token)).decode("utf-8", "surrogatepass")
                for token, blob in rows
            }
            self._audit(conn, actor, "reveal", dataset, ref, len(out), "ok", purpose)
        return out

    def audit_log(self, dataset: str | None = None) -> list[AuditRecord]:
        """Every audit row (of one dataset), oldest first. Needs no key: it holds no value."""
        query = select(vault_audit).order_by(vault_audit.c.id)
        if dataset is not None:
            query = query.where(vault_audit.c.dataset == dataset)
        with self.engine.connect() as conn:
            return [AuditRecord(**row._mapping) for row in conn.execute(query)]

    # -- internals ------------------------------------------------------------------------

    def _checked(
        self,
        key: VaultKey | None,
        dataset: str,
        action: str,
        ref: str | None,
        *,
        actor: str | None = None,
    ) -> VaultKey:
        try:
            if key is None:
                raise VaultKeyError("no vault key given (set REFEREE_VAULT_KEY)")
            self.check_key(key)
        except VaultKeyError as exc:
            with self.engine.begin() as conn:
                self._audit(conn, actor, action, dataset, ref, 0, "refused", str(exc))
            raise
        return key

    @staticmethod
    def _audit(
        conn: Connection,
        actor: str | None,
        action: str,
        dataset: str,
        ref: str | None,
        tokens: int,
        outcome: str,
        detail: str | None,
    ) -> None:
        conn.execute(
            insert(vault_audit).values(
                at=_now(),
                actor=actor or _default_actor(),
                action=action,
                dataset=dataset,
                ref=ref,
                tokens=tokens,
                outcome=outcome,
                detail=detail,
            )
        )


def unredact_texts(
    texts: Sequence[str],
    dataset: str,
    vault: Vault,
    key: VaultKey | None,
    *,
    actor: str | None = None,
    ref: str | None = None,
) -> list[str]:
    """Restore every ``<KIND_N>`` token of ``texts`` from the vault, with one audit row.

    Tokens the vault does not know are left as they are.
    """
    tokens = sorted({m.group("token") for text in texts for m in TOKEN_PATTERN.finditer(text)})
    values = vault.reveal(dataset, tokens, key, actor=actor, ref=ref, purpose="unredact")
    return [
        TOKEN_PATTERN.sub(lambda m: values.get(m.group("token"), m.group(0)), text)
        for text in texts
    ]


def unredact(
    text: str,
    dataset: str,
    vault: Vault,
    key: VaultKey | None,
    *,
    actor: str | None = None,
    ref: str | None = None,
) -> str:
    """``text`` with its tokens restored from the vault (one audit row)."""
    return unredact_texts([text], dataset, vault, key, actor=actor, ref=ref)[0]
