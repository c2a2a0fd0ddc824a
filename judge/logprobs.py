"""Confidence from token log-probabilities: the probability the model gave its own verdict.

Given the tokens of a JSON answer with their log-probabilities, the probability of the chosen
verdict is the joint probability of the tokens spelling the ``winner`` value, conditioned on
everything before it: ``P = exp(sum of logprob(t) for t overlapping the value)`` (chain rule).
Used as a confidence signal as in Refuel's autolabel ("token log-probabilities separate right
from wrong labels").
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_WINNER_VALUE = re.compile(r'"winner"\s*:\s*"(?P<value>[^"]*)"')


def verdict_probability(tokens: Sequence[tuple[str, float]]) -> float | None:
    """P(winner value) from ``(token text, logprob)`` pairs; ``None`` if the value is not found.

    Inputs: the content tokens in order, with natural-log probabilities. Output: a probability
    in [0, 1].
    """
    if not tokens:
        return None
    text = "".join(token for token, _ in tokens)
    match = _WINNER_VALUE.search(text)
    if match is None or match.start("value") == match.end("value"):
        return None
    start, end = match.span("value")
    total = 0.0
    position = 0
    for token, logprob in tokens:
        token_end = position + len(token)
        if token_end > start and position < end:
            total += logprob
        position = token_end
        if position >= end:
            break
    return min(1.0, max(0.0, math.exp(total)))


__all__ = ["verdict_probability"]
