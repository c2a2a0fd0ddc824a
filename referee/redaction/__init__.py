"""Redaction: detect personal data and secrets, replace them with stable per-dataset tokens,
and keep the way back in a separate, encrypted, audited vault.

>>> from referee.redaction import Redactor, PseudonymState
>>> redactor = Redactor(b"\\x01" * 32, patterns=["TICKET=ENG-\\\\d+"])
>>> state = PseudonymState()
>>> (prompt, a, b), findings = redactor.redact_pair(
...     "Ticket ENG-42 from jane@corp.example.com", "Reply to jane@corp.example.com", "ok", state)
>>> prompt, a
('Ticket <TICKET_1> from <EMAIL_1>', 'Reply to <EMAIL_1>')

Typical ingest (the caller owns both databases and the key; nothing here reads the environment):

1. ``key = VaultKey.from_string(settings.vault_key)``; ``vault = Vault(vault_engine)``;
2. ``redactor = Redactor(vault.dataset_key(dataset, key), dataset_patterns)``;
3. ``state = PseudonymState.from_json(dataset_row.redaction_state)``, then
   ``vault.sync_state(dataset, state, key)`` (tokens of an ingest that was rolled back);
4. per pair: ``texts, findings = redactor.redact_pair(p, a, b, state)`` (and
   ``redactor.redact_json(meta, state)``); keep ``texts`` and ``redactor.version``;
5. per batch: ``vault.store(dataset, batch_findings, key)`` first, then commit the pairs and
   ``state.to_json()`` to the main database in one transaction.

``unredact_texts(texts, dataset, vault, key, actor=..., ref=...)`` is the way back (audited).
"""

from typing import TYPE_CHECKING, Any

from referee.redaction.checksums import card_brand, iban_valid, luhn_valid, ssn_valid
from referee.redaction.detect_names import PersonNameDetector, spacy_person_recognizer
from referee.redaction.errors import (
    PatternError,
    RedactionError,
    StateError,
    VaultConflictError,
    VaultError,
    VaultKeyError,
)
from referee.redaction.patterns import UserPattern, parse_pattern
from referee.redaction.pseudonyms import TOKEN_PATTERN, PseudonymKey, PseudonymState
from referee.redaction.redactor import PAIR_FIELDS, Finding, Redaction, Redactor
from referee.redaction.registry import (
    BUILTIN_KINDS,
    REDACTION_VERSION,
    default_detectors,
    find_spans,
)
from referee.redaction.spans import Detector, Span, resolve_overlaps

if TYPE_CHECKING:
    from referee.redaction.vault import (
        AuditRecord,
        Vault,
        VaultKey,
        generate_vault_key,
        unredact,
        unredact_texts,
    )

_VAULT_NAMES = frozenset(
    {"AuditRecord", "Vault", "VaultKey", "generate_vault_key", "unredact", "unredact_texts"}
)


def __getattr__(name: str) -> Any:
    """The vault's names, imported on first use: detection alone needs no database or crypto."""
    if name in _VAULT_NAMES:
        from referee.redaction import vault

        return getattr(vault, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BUILTIN_KINDS",
    "PAIR_FIELDS",
    "REDACTION_VERSION",
    "TOKEN_PATTERN",
    "AuditRecord",
    "Detector",
    "Finding",
    "PatternError",
    "PersonNameDetector",
    "PseudonymKey",
    "PseudonymState",
    "Redaction",
    "RedactionError",
    "Redactor",
    "Span",
    "StateError",
    "UserPattern",
    "Vault",
    "VaultConflictError",
    "VaultError",
    "VaultKey",
    "VaultKeyError",
    "card_brand",
    "default_detectors",
    "find_spans",
    "generate_vault_key",
    "iban_valid",
    "luhn_valid",
    "parse_pattern",
    "resolve_overlaps",
    "spacy_person_recognizer",
    "ssn_valid",
    "unredact",
    "unredact_texts",
]
