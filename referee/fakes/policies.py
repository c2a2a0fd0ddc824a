"""What the fake OpenAI server answers: verdict policies and the request they decide on.

A policy takes a :class:`FakeRequest` and returns a winner (``"first"``, ``"second"``, ``"tie"``,
``"both_bad"`` or any other string, which the judge will then fail to validate), a verdict dict
(``winner``, ``confidence``, ``rationale``, ``injection_attempt``, ``logprob``), an HTTP status
to fail with, or :data:`GARBAGE`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from judge.prompts import ShownPair

GARBAGE: Final[str] = "__garbage__"
GARBAGE_TEXT: Final[str] = "Honestly they are both kind of fine?? I can't decide, sorry."

Answer = str | int | Mapping[str, Any]  # a winner, an HTTP status, or a verdict dict
Policy = Callable[["FakeRequest"], Answer]
ScriptStep = int | str  # an HTTP status to answer with, or GARBAGE


@dataclass(frozen=True)
class FakeRequest:
    """What the fake received: the parsed body, and what the judge was shown (if ours)."""

    body: Mapping[str, Any]
    shown: ShownPair | None
    headers: Mapping[str, str]
    number: int


def always(winner: str, confidence: float = 0.9) -> Policy:
    """A policy answering ``winner`` ("first", "second", "tie", "both_bad", or anything)."""
    return lambda request: {"winner": winner, "confidence": confidence}


def prefer_longer(request: FakeRequest) -> Answer:
    """The longer shown response wins (a position-independent policy); equal length -> tie."""
    if request.shown is None:
        return GARBAGE
    a, b = len(request.shown.first), len(request.shown.second)
    return "first" if a > b else "second" if b > a else "tie"


def prefer_containing(marker: str) -> Policy:
    """The shown response containing ``marker`` wins; neither -> both_bad; both -> tie."""

    def policy(request: FakeRequest) -> Answer:
        if request.shown is None:
            return GARBAGE
        first, second = marker in request.shown.first, marker in request.shown.second
        if first and second:
            return "tie"
        return "first" if first else "second" if second else "both_bad"

    return policy


POLICIES: Final[dict[str, Policy]] = {
    "first": always("first"),
    "second": always("second"),
    "tie": always("tie"),
    "both_bad": always("both_bad"),
    "longer": prefer_longer,
    "garbage": lambda request: GARBAGE,
}


__all__ = [
    "GARBAGE",
    "GARBAGE_TEXT",
    "POLICIES",
    "Answer",
    "FakeRequest",
    "Policy",
    "ScriptStep",
    "always",
    "prefer_containing",
    "prefer_longer",
]
