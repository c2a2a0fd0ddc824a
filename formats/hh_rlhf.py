"""Anthropic HH-RLHF rows as :class:`~formats.preference.PreferenceRow`.

The published layout (https://huggingface.co/datasets/Anthropic/hh-rlhf) is one JSON object per
line with two transcripts of the same conversation::

    {"chosen": "\\n\\nHuman: Hi\\n\\nAssistant: Hello!",
     "rejected": "\\n\\nHuman: Hi\\n\\nAssistant: Go away."}

Each transcript is split at its ``\\n\\nHuman:`` and ``\\n\\nAssistant:`` markers into turns
(Human → ``user``, Assistant → ``assistant``); the turns both share are the prompt and the last
assistant turns the two candidates. The space after a marker is part of the marker, not the text.
"""

from __future__ import annotations

import re
from typing import Any

from formats.preference import PreferenceRow, RowErrors, split_shared_prefix
from judge.conversation import Conversation, ConversationError, Message, Role

HH_FIELDS = ("chosen", "rejected")
_MARKER = re.compile(r"\n\n(Human|Assistant): ?")
_ROLES: dict[str, Role] = {"Human": "user", "Assistant": "assistant"}


def parse_transcript(text: str, field: str) -> Conversation:
    """``"\\n\\nHuman: ...\\n\\nAssistant: ..."`` as turns; text before the first marker is
    refused."""
    parts = _MARKER.split(text)
    if parts[0].strip():
        raise ConversationError(
            field, "must start with '\\n\\nHuman: ' (an HH-RLHF transcript); found other text first"
        )
    if len(parts) < 3:
        raise ConversationError(field, "holds no '\\n\\nHuman:' or '\\n\\nAssistant:' turn")
    return tuple(
        Message(role=_ROLES[speaker], content=content)
        for speaker, content in zip(parts[1::2], parts[2::2], strict=True)
    )


def read_hh_row(raw: dict[str, Any]) -> PreferenceRow | RowErrors:
    """One HH-RLHF row, or its problems (field, message)."""
    errors: RowErrors = []
    for name in HH_FIELDS:
        value = raw.get(name)
        if value is None:
            errors.append((name, "is missing"))
        elif not isinstance(value, str):
            errors.append((name, "must be a transcript string ('\\n\\nHuman: ...')"))
    if errors:
        return errors
    try:
        chosen = parse_transcript(raw["chosen"], "chosen")
        rejected = parse_transcript(raw["rejected"], "rejected")
        prompt, best, worst = split_shared_prefix(chosen, rejected)
    except ConversationError as exc:
        return [(exc.field, exc.message)]
    extra = {k: v for k, v in raw.items() if k not in (*HH_FIELDS, "id")}
    row_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    if "id" in raw and row_id is None:
        extra["id"] = raw["id"]
    return PreferenceRow(prompt, best, worst, extra, row_id)


__all__ = ["HH_FIELDS", "parse_transcript", "read_hh_row"]
