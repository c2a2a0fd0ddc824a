"""The provider seam: what a judge asks for one order of one pair, and the answer it gets.

A provider answers in the SHOWN frame ("first"/"second"/"tie"/"both_bad"); the pipeline maps it
back to A/B. Implementations: :class:`judge.llm.LiteLLMProvider` (live models through litellm +
instructor) and :class:`judge.replay.ReplayProvider` (recorded verdicts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from judge.labels import Order
from judge.mapping import ShownWinner
from judge.types import PairText


@dataclass(frozen=True)
class ProviderAnswer:
    """A provider's answer for one order. ``winner`` is ``None`` when it could not be parsed."""

    winner: ShownWinner | None
    raw: str | None = None
    confidence: float | None = None
    logprob_confidence: float | None = None
    rationale: str | None = None
    injection_flagged: bool = False
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    attempts: int = 1
    error: str | None = None
    turns_dropped: int | None = None  # earlier turns left out of a conversation to fit


class Provider(Protocol):
    """Anything that can give a verdict on a pair shown in a given order."""

    async def answer(self, pair: PairText, order: Order) -> ProviderAnswer:
        """The verdict, or raise a :mod:`judge.errors` exception."""
        ...


__all__ = ["Provider", "ProviderAnswer"]
