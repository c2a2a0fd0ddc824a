"""The way back from redaction: the encrypted, audited vault and write-time redaction of
reviewer text. Detection itself is the pure domain package :mod:`redaction`."""

from referee.privacy.vault import (
    AuditRecord,
    Vault,
    VaultKey,
    generate_vault_key,
    unredact,
    unredact_texts,
)

__all__ = ["AuditRecord", "Vault", "VaultKey", "generate_vault_key", "unredact", "unredact_texts"]
