"""A pair's prompt as a conversation: the earlier turns, before the two candidate replies.

A prompt is either one string (single-turn) or a list of messages, each ``{"role", "content"}``
with ``role`` one of ``system | user | assistant | tool`` (the OpenAI / TRL conversational
layout). The two responses of the pair are the candidate NEXT assistant turn, so a conversation
must hold at least one ``user`` message and must not end with an ``assistant`` message.

Storage keeps both views: ``pairs.messages`` holds the turns (JSON) and ``pairs.prompt`` holds
:func:`flat_prompt` of them, a stable plain-text rendering that every text-only consumer
(search, leakage checks, embeddings, cost estimates) reads unchanged. Code that shows or sends a
conversation (judge prompt, review page, conversational exports) reads the messages.

>>> turns = parse_messages([{"role": "user", "content": "Hi"}, {"role": "assistant",
...     "content": "Hello!"}, {"role": "user", "content": "Tell me a joke"}], field="prompt")
>>> print(flat_prompt(turns))
User: Hi
<BLANKLINE>
Assistant: Hello!
<BLANKLINE>
User: Tell me a joke
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

from judge.errors import JudgeError

Role = Literal["system", "user", "assistant", "tool"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
ROLE_TITLES: Final[dict[Role, str]] = {
    "system": "System",
    "user": "User",
    "assistant": "Assistant",
    "tool": "Tool",
}


class ConversationError(JudgeError, ValueError):
    """A value that is not a valid conversation; ``field`` names where (``prompt[2].role``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[ConversationError], tuple[str, str]]:
        return (type(self), (self.field, self.message))  # survives pickle (Celery)


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of a conversation."""

    role: Role
    content: str

    def to_json(self) -> dict[str, str]:
        """``{"role": ..., "content": ...}``: the OpenAI / TRL message layout."""
        return {"role": self.role, "content": self.content}


Conversation = tuple[Message, ...]


def parse_messages(value: object, field: str = "prompt") -> Conversation:
    """Validate ``value`` (a list of ``{"role", "content"}`` dicts) into a conversation.

    Raises :class:`ConversationError` naming the first bad element (``prompt[1].role``). Extra
    keys on a message (``name``, ``tool_call_id``) are ignored; ``content`` must be a string.
    """
    if not isinstance(value, list) or not value:
        raise ConversationError(field, "must be a non-empty list of {role, content} messages")
    turns = [_parse_message(item, f"{field}[{i}]") for i, item in enumerate(value)]
    if not any(turn.role == "user" for turn in turns):
        raise ConversationError(field, "needs at least one message with role 'user'")
    if turns[-1].role == "assistant":
        raise ConversationError(
            f"{field}[{len(turns) - 1}]",
            "the last message is the assistant's; the two responses are the next assistant "
            "turn, so the prompt must end with a user (or tool) message",
        )
    return tuple(turns)


def _parse_message(item: object, field: str) -> Message:
    if not isinstance(item, dict):
        raise ConversationError(field, "must be an object with 'role' and 'content'")
    role, content = item.get("role"), item.get("content")
    if role not in ROLES:
        raise ConversationError(f"{field}.role", f"must be one of {', '.join(ROLES)}")
    if not isinstance(content, str):
        raise ConversationError(f"{field}.content", "must be a string")
    return Message(role=role, content=content)


def messages_from_json(value: Sequence[dict[str, Any]] | None) -> Conversation | None:
    """Stored messages (``pairs.messages``) back as a conversation; ``None`` stays ``None``.

    Trusts what it reads: storage holds only what :func:`parse_messages` accepted.
    """
    if value is None:
        return None
    return tuple(Message(role=m["role"], content=m["content"]) for m in value)


def messages_to_json(turns: Iterable[Message]) -> list[dict[str, str]]:
    """A conversation as the JSON list that is stored and exported."""
    return [turn.to_json() for turn in turns]


def flat_prompt(turns: Iterable[Message]) -> str:
    """The conversation as one stable plain text: ``"Role: content"`` turns, blank-line separated.

    This is what ``pairs.prompt`` holds for a conversation; it changes only if a turn changes.
    """
    return "\n\n".join(f"{ROLE_TITLES[turn.role]}: {turn.content}" for turn in turns)


__all__ = [
    "ROLES",
    "Conversation",
    "ConversationError",
    "Message",
    "Role",
    "flat_prompt",
    "messages_from_json",
    "messages_to_json",
    "parse_messages",
]
