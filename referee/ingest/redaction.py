"""Redaction at ingest: pairs of a dataset that requires it are stored only in redacted form.

The main database keeps the redacted texts, each pair's ``redaction_version`` and the dataset's
pseudonym state (keyed digests → token numbers, never values). The values themselves go to the
vault (:class:`redaction.Vault`, its own database, encrypted with the vault key) before
the main transaction commits; see :mod:`redaction` for why that order keeps numbering
stable across a rolled-back ingest.

Once a dataset requires redaction (``ingest --redact``) every later ingest of it is redacted
too, with the patterns stored on the dataset plus any given that time.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from judge.conversation import Conversation, Message, flat_prompt
from kernel.errors import RefereeError
from referee.db.models import Dataset, Pair
from referee.ingest.records import PairRecord

if TYPE_CHECKING:
    from redaction import Finding, PseudonymState, Redactor
    from referee.privacy import Vault, VaultKey

__all__ = ["RedactingIngest", "RedactionSetup", "RedactionUnavailable", "start_redaction"]


class RedactionUnavailable(RefereeError):
    """The dataset must be redacted but cannot be (no vault, no key, unredacted pairs)."""


@dataclass(frozen=True)
class RedactionSetup:
    """What the caller brings: whether to start redacting, extra patterns, vault and key.

    ``vault`` and ``key`` may be None when the environment has none; an ingest that needs them
    then fails with a message saying which setting to give.
    """

    redact: bool = False
    patterns: tuple[str, ...] = ()
    vault: Vault | None = None
    key: VaultKey | None = None


@dataclass
class RedactingIngest:
    """Redacts each pair record of one ingest and remembers what went to the vault."""

    dataset: str
    redactor: Redactor
    state: PseudonymState
    patterns: list[str]
    vault: Vault
    key: VaultKey
    findings: list[Finding] = field(default_factory=list)

    @property
    def version(self) -> str:
        """The redaction version stored on every pair of this ingest."""
        return str(self.redactor.version)

    def apply(self, record: PairRecord) -> PairRecord:
        """``record`` with its prompt, responses and meta strings redacted (the id is kept).

        A conversation is redacted turn by turn (one numbering over the turns and both replies)
        and its flat ``prompt`` rendered again from the redacted turns.
        """
        if record.messages is not None:
            return self._apply_turns(record, record.messages)
        texts, found = self.redactor.redact_pair(
            record.prompt, record.response_a, record.response_b, self.state
        )
        meta, found_meta = self.redactor.redact_json(record.meta, self.state)
        self.findings.extend(found)
        self.findings.extend(found_meta)
        return replace(record, prompt=texts[0], response_a=texts[1], response_b=texts[2], meta=meta)

    def _apply_turns(self, record: PairRecord, turns: Conversation) -> PairRecord:
        fields = [(f"prompt[{i}]", turn.content) for i, turn in enumerate(turns)]
        fields += [("response_a", record.response_a), ("response_b", record.response_b)]
        texts, found = self.redactor.redact_texts(fields, self.state)
        meta, found_meta = self.redactor.redact_json(record.meta, self.state)
        self.findings.extend(found)
        self.findings.extend(found_meta)
        redacted = tuple(Message(turn.role, text) for turn, text in zip(turns, texts, strict=False))
        return replace(
            record,
            prompt=flat_prompt(redacted),
            messages=redacted,
            response_a=texts[-2],
            response_b=texts[-1],
            meta=meta,
        )

    def finish(self, session: Session, dataset: Dataset, ref: str) -> None:
        """Values to the vault first, then the state and settings onto the dataset row."""
        self.vault.store(self.dataset, self.findings, self.key, actor=_actor(), ref=ref)
        dataset.redaction_required = True
        dataset.redaction_patterns = list(self.patterns)
        dataset.redaction_state = self.state.to_json()
        session.flush()


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # pragma: no cover - no user database in some containers
        return "cli:unknown"


def start_redaction(
    session: Session, dataset: Dataset, setup: RedactionSetup
) -> RedactingIngest | None:
    """The redactor for this ingest of ``dataset``, or None when it needs no redaction.

    Raises :class:`RedactionUnavailable` when redaction is required but the vault or key is
    missing, or when ``--redact`` is asked of a dataset that already holds unredacted pairs.
    Raises :class:`redaction.PatternError` for a malformed pattern.
    """
    if not (setup.redact or dataset.redaction_required):
        return None
    from redaction import PseudonymState, Redactor, parse_pattern

    if not dataset.redaction_required:
        plain = session.scalar(
            select(func.count()).select_from(Pair).where(Pair.dataset_id == dataset.id)
        )
        if plain:
            raise RedactionUnavailable(
                f"dataset '{dataset.name}' already holds {plain} unredacted pair(s); redaction "
                "must start with the first ingest: ingest into a new dataset with --redact"
            )
    why = "--redact" if setup.redact else f"dataset '{dataset.name}' requires redaction"
    if setup.vault is None:
        raise RedactionUnavailable(
            f"{why}: set REFEREE_VAULT_URL to a database for the vault (not the main database)"
        )
    if setup.key is None:
        raise RedactionUnavailable(
            f"{why}: set REFEREE_VAULT_KEY (generate one with `referee vault new-key`)"
        )
    patterns = _merged(dataset.redaction_patterns or [], setup.patterns)
    for spec in patterns:
        parse_pattern(spec)
    redactor = Redactor(setup.vault.dataset_key(dataset.name, setup.key), patterns)
    state = PseudonymState.from_json(dataset.redaction_state)
    setup.vault.sync_state(dataset.name, state, setup.key)
    return RedactingIngest(dataset.name, redactor, state, patterns, setup.vault, setup.key)


def _merged(stored: Sequence[Any], given: Sequence[str]) -> list[str]:
    out = [str(p) for p in stored]
    out.extend(p for p in given if p not in out)
    return out
