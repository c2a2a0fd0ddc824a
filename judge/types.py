"""Plain data the judge takes and returns: a pair's text and the verdicts given on it
(:mod:`judge.verdicts`).

Every ``winner`` and ``label`` here is in the ORIGINAL frame of the pair (``"A"`` means
``response_a``), whatever order the responses were shown in; see :mod:`judge.mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass

from judge.conversation import Conversation
from judge.verdicts import OrderVerdict, PairVerdict


@dataclass(frozen=True)
class PairText:
    """The text of one pair: what the judge reads.

    ``messages`` is the conversation before the two replies when the prompt is one
    (:mod:`judge.conversation`); ``prompt`` is then its flat rendering.
    """

    pair_id: str
    prompt: str
    response_a: str
    response_b: str
    messages: Conversation | None = None


__all__ = ["OrderVerdict", "PairText", "PairVerdict"]
