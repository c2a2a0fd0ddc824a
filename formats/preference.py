"""Preference rows of other tools (TRL, HH-RLHF) as Referee pairs: one prompt, two candidates.

A preference row names a ``chosen`` and a ``rejected`` reply. Referee must not store that order as
A and B (reviewers and judges would learn that A is usually right), so which reply becomes A is
decided by a stable hash of the row's content (:func:`chosen_is_a`), and the file's preference is
kept, in the A/B frame, as :attr:`PreferencePair.preference` (stored as a human label or dropped,
as the caller asks).

Whole conversations in ``chosen`` and ``rejected`` are split by :func:`split_shared_prefix`: the
turns they share are the prompt, their last assistant turns the two candidates.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from judge.conversation import Conversation, ConversationError, Message, messages_to_json

RowErrors = list[tuple[str, str]]
"""(field, message) problems of one row, as :mod:`referee.ingest.records` reports them."""


@dataclass(frozen=True)
class PreferenceRow:
    """A row read from another tool's file: the prompt, the chosen and the rejected reply.

    ``prompt`` is a string (single-turn) or the conversation before the reply; ``extra`` holds the
    row's other columns (kept in the pair's meta); ``id`` the row's own id when it has one.
    """

    prompt: str | Conversation
    chosen: str
    rejected: str
    extra: dict[str, Any] = field(default_factory=dict)
    id: str | None = None


def split_shared_prefix(
    chosen: Sequence[Message], rejected: Sequence[Message]
) -> tuple[Conversation, str, str]:
    """The shared turns, and the last assistant turn of each side.

    Raises :class:`ConversationError` (field ``chosen``) when the two do not end with an
    assistant turn, share no turn, or differ before their last turn.
    """
    for name, turns in (("chosen", chosen), ("rejected", rejected)):
        if not turns or turns[-1].role != "assistant":
            raise ConversationError(name, "must end with the assistant's reply")
    if len(chosen) < 2 or chosen[0] != rejected[0]:
        raise ConversationError(
            "chosen",
            "chosen and rejected share no prefix: they must be the same conversation up to "
            "the last assistant turn",
        )
    shared = min(len(chosen), len(rejected)) - 1
    for index in range(shared):
        if chosen[index] != rejected[index]:
            raise ConversationError(f"chosen[{index}]", _differs(index))
    if len(chosen) != len(rejected):
        raise ConversationError(f"chosen[{shared}]", _differs(shared))
    return tuple(chosen[:-1]), chosen[-1].content, rejected[-1].content


def _differs(index: int) -> str:
    return (
        f"chosen and rejected differ at turn {index}, before the last turn; only the last "
        "assistant turn may differ"
    )


def _digest(*parts: object) -> str:
    body = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _prompt_json(prompt: str | Conversation) -> object:
    return prompt if isinstance(prompt, str) else messages_to_json(prompt)


def chosen_is_a(row: PreferenceRow) -> bool:
    """Whether the chosen reply becomes response A: one bit of a SHA-256 of the row's content.

    The hash reads the prompt and the two replies in a fixed order (sorted) and says whether the
    first of them in that order is A. So which text is A depends only on the texts, never on the
    file's order of rows nor on which reply the file prefers: over many rows A is the chosen reply
    about half the time, and the same row always gets the same answer.
    """
    replies = sorted((row.chosen, row.rejected))
    first_is_a = int(_digest("a/b", _prompt_json(row.prompt), replies)[:8], 16) % 2 == 0
    return first_is_a == (row.chosen == replies[0])


def derived_id(prefix: str, row: PreferenceRow) -> str:
    """A stable pair id from the content (prompt and both replies), for rows without an id."""
    replies = sorted((row.chosen, row.rejected))
    return f"{prefix}-{_digest('id', _prompt_json(row.prompt), replies)[:20]}"


@dataclass(frozen=True)
class PreferencePair:
    """A row in Referee's pair layout, with the file's preference in the A/B frame."""

    id: str
    prompt: str | Conversation
    response_a: str
    response_b: str
    preference: str  # "A" or "B": the reply the file chose
    meta: dict[str, Any]

    def as_record(self) -> dict[str, Any]:
        """The raw Referee pair record (``prompt`` a message list for a conversation)."""
        return {
            "id": self.id,
            "prompt": _prompt_json(self.prompt),
            "response_a": self.response_a,
            "response_b": self.response_b,
            "meta": self.meta,
        }


def to_pair(row: PreferenceRow, id_prefix: str) -> PreferencePair:
    """``row`` with its replies placed as A and B by :func:`chosen_is_a`."""
    pair_id = row.id if row.id is not None else derived_id(id_prefix, row)
    if chosen_is_a(row):
        return PreferencePair(pair_id, row.prompt, row.chosen, row.rejected, "A", row.extra)
    return PreferencePair(pair_id, row.prompt, row.rejected, row.chosen, "B", row.extra)


__all__ = [
    "PreferencePair",
    "PreferenceRow",
    "RowErrors",
    "chosen_is_a",
    "derived_id",
    "split_shared_prefix",
    "to_pair",
]
