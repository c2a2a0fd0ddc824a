"""Redaction: detect personal data and secrets, replace them with stable per-dataset tokens,
with no I/O: the encrypted, audited vault that keeps the way back is
:mod:`referee.privacy` (it needs a database and a key).

>>> from redaction import Redactor, PseudonymState
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

from redaction.checksums import card_brand, iban_valid, luhn_valid, ssn_valid
from redaction.detect_names import PersonNameDetector, spacy_person_recognizer
from redaction.errors import (
    PatternError,
    RedactionError,
    StateError,
    VaultConflictError,
    VaultError,
    VaultKeyError,
)
from redaction.patterns import UserPattern, parse_pattern
from redaction.pseudonyms import TOKEN_PATTERN, PseudonymKey, PseudonymState
from redaction.redactor import PAIR_FIELDS, Finding, Redaction, Redactor
from redaction.registry import (
    BUILTIN_KINDS,
    REDACTION_VERSION,
    default_detectors,
    find_spans,
)
from redaction.spans import Detector, Span, resolve_overlaps

__all__ = [
    "BUILTIN_KINDS",
    "PAIR_FIELDS",
    "REDACTION_VERSION",
    "TOKEN_PATTERN",
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
    "VaultConflictError",
    "VaultError",
    "VaultKeyError",
    "card_brand",
    "default_detectors",
    "find_spans",
    "iban_valid",
    "luhn_valid",
    "parse_pattern",
    "resolve_overlaps",
    "spacy_person_recognizer",
    "ssn_valid",
]
