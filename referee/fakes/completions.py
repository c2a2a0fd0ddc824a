"""The fake provider's successful answer: an OpenAI chat completion carrying the policy's
verdict as a tool call or JSON content, with ``usage`` and, when asked, token ``logprobs``."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from referee.fakes.policies import GARBAGE, GARBAGE_TEXT

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


def completion(
    body: Mapping[str, Any], answer: str | Mapping[str, Any], logprob: float
) -> dict[str, Any]:
    """The completion answering request ``body`` with ``answer`` (a winner, a verdict dict or
    :data:`GARBAGE`); ``logprob`` is the winner token's probability unless the verdict says."""
    winner_probability = logprob
    if answer == GARBAGE:
        text: str | None = GARBAGE_TEXT
        arguments = None
    else:
        verdict: dict[str, Any] = {"winner": answer} if isinstance(answer, str) else dict(answer)
        winner_probability = float(verdict.pop("logprob", winner_probability))
        verdict.setdefault("rationale", "Fake judge: verdict chosen by policy.")
        verdict.setdefault("confidence", 0.8)
        keys = ("rationale", "winner", "confidence")
        ordered: dict[str, Any] = {k: verdict[k] for k in keys if k in verdict}
        ordered.update(verdict)
        text = json.dumps(ordered)
        arguments = text
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "stop"
    tools = body.get("tools")
    if tools and arguments is not None:
        name = (tools[0].get("function") or {}).get("name", "verdict")
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_fake",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ],
        }
        finish = "tool_calls"
    choice: dict[str, Any] = {"index": 0, "message": message, "finish_reason": finish}
    if body.get("logprobs") and message.get("content"):
        choice["logprobs"] = {"content": token_logprobs(message["content"], winner_probability)}
    prompt_chars = sum(len(str(m.get("content") or "")) for m in body.get("messages") or [])
    completion_chars = len(text or "")
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(body.get("model", "fake")),
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt_chars // 4 + 1,
            "completion_tokens": completion_chars // 4 + 1,
            "total_tokens": prompt_chars // 4 + completion_chars // 4 + 2,
        },
    }


def token_logprobs(content: str, winner_probability: float) -> list[dict[str, Any]]:
    """Token log-probabilities: the ``winner`` value is one token of ``winner_probability``."""
    match = re.search(r'"winner"\s*:\s*"([^"]*)"', content)
    pieces: list[str]
    if match is None:
        pieces = _TOKEN.findall(content)
        value_index = -1
    else:
        head, value, tail = content[: match.start(1)], match.group(1), content[match.end(1) :]
        pieces = [*_TOKEN.findall(head), value, *_TOKEN.findall(tail)]
        value_index = len(_TOKEN.findall(head))
    winner_logprob = math.log(max(winner_probability, 1e-12))
    return [
        {
            "token": piece,
            "logprob": winner_logprob if i == value_index else 0.0,
            "bytes": list(piece.encode("utf-8")),
            "top_logprobs": [],
        }
        for i, piece in enumerate(pieces)
    ]


__all__ = ["completion", "token_logprobs"]
