"""TRL preference rows (``trl.DPOTrainer`` datasets) as :class:`~formats.preference.PreferenceRow`.

TRL's preference type comes in four layouts (https://huggingface.co/docs/trl/dataset_formats):

- standard, explicit prompt: ``{"prompt": "The sky is", "chosen": " blue.", "rejected": " green."}``
- conversational, explicit prompt: ``{"prompt": [{"role": "user", "content": "..."}],
  "chosen": [{"role": "assistant", "content": "..."}], "rejected": [...]}``
- conversational, implicit prompt: whole conversations in ``chosen`` and ``rejected``; the turns
  they share are the prompt and they must differ only in the last assistant turn.
- standard, implicit prompt (``{"chosen": "The sky is blue.", ...}``): refused, because plain
  strings carry no turn boundary to split the prompt at.

Other columns (``id``, ``score_chosen``, ...) are kept in ``extra``; an ``id`` column, when a
string, becomes the pair id.
"""

from __future__ import annotations

from typing import Any

from formats.preference import PreferenceRow, RowErrors, split_shared_prefix
from judge.conversation import ConversationError, parse_messages

TRL_FIELDS = ("prompt", "chosen", "rejected")


def read_trl_row(raw: dict[str, Any]) -> PreferenceRow | RowErrors:
    """One TRL preference row, or its problems (field, message)."""
    missing = [(name, "is missing") for name in ("chosen", "rejected") if raw.get(name) is None]
    if missing:
        return missing
    extra = {k: v for k, v in raw.items() if k not in (*TRL_FIELDS, "id")}
    row_id = raw.get("id") if isinstance(raw.get("id"), str) else None
    if "id" in raw and row_id is None:
        extra["id"] = raw["id"]
    try:
        if raw.get("prompt") is None:
            prompt, chosen, rejected = _implicit(raw["chosen"], raw["rejected"])
        else:
            prompt, chosen, rejected = _explicit(raw["prompt"], raw["chosen"], raw["rejected"])
    except ConversationError as exc:
        return [(exc.field, exc.message)]
    return PreferenceRow(prompt, chosen, rejected, extra, row_id)


def _implicit(chosen: object, rejected: object) -> tuple[Any, str, str]:
    if isinstance(chosen, str) or isinstance(rejected, str):
        raise ConversationError(
            "prompt",
            "is missing; an implicit-prompt row must hold message lists in chosen and "
            "rejected (plain strings have no turns to split the prompt from)",
        )
    chosen_turns = _turns(chosen, "chosen")
    rejected_turns = _turns(rejected, "rejected")
    return split_shared_prefix(chosen_turns, rejected_turns)


def _turns(value: object, field: str) -> Any:
    """A message list; unlike a prompt it may (and must, for a reply) end with the assistant."""
    if not isinstance(value, list) or not value:
        raise ConversationError(field, "must be a non-empty list of {role, content} messages")
    turns = parse_messages([*value, {"role": "user", "content": ""}], field)[:-1]
    return turns


def _explicit(prompt: object, chosen: object, rejected: object) -> tuple[Any, str, str]:
    if isinstance(prompt, str):
        for name, value in (("chosen", chosen), ("rejected", rejected)):
            if not isinstance(value, str):
                raise ConversationError(name, "must be a string when the prompt is a string")
        assert isinstance(chosen, str) and isinstance(rejected, str)
        return prompt, chosen, rejected
    turns = parse_messages(prompt, "prompt")
    return turns, _reply(chosen, "chosen"), _reply(rejected, "rejected")


def _reply(value: object, field: str) -> str:
    """The one assistant message of an explicit-prompt ``chosen`` / ``rejected`` list."""
    turns = _turns(value, field)
    if len(turns) != 1 or turns[0].role != "assistant":
        raise ConversationError(
            field,
            "must hold exactly one message, the assistant's reply (the prompt holds the rest)",
        )
    return str(turns[0].content)


__all__ = ["TRL_FIELDS", "read_trl_row"]
