"""Dollars per call from litellm's local price map, looked up once per model.

``litellm.cost_per_token`` resolves the provider prefix, aliases and price fields on every call
(about 1 ms of CPU); a judge pays it thousands of times for the same model. :class:`PriceBook`
asks litellm once per model for the price of 1,000 input and 1,000 output tokens and then
multiplies: ``cost = tokens_in * input_rate + tokens_out * output_rate``. Calls larger than
``tiered_above`` tokens go to litellm every time, since some models are priced by tier above
128k or 200k tokens. Models litellm has no price for cost 0.0 (per-model overrides live in
:class:`judge.spec.JudgeSpec`).
"""

from __future__ import annotations

import threading
from typing import Final

import litellm

_PROBE_TOKENS: Final[int] = 1000


def litellm_cost(model: str, tokens_in: int, tokens_out: int) -> float | None:
    """litellm's price of one call, or ``None`` when it does not know ``model``."""
    try:
        cost_in, cost_out = litellm.cost_per_token(
            model=model, prompt_tokens=tokens_in, completion_tokens=tokens_out
        )
    except Exception:  # litellm raises a bare Exception for models it has no price for
        return None
    return float(cost_in) + float(cost_out)


class PriceBook:
    """Per-token input and output rates of each model, cached (thread-safe)."""

    def __init__(self, tiered_above: int = 100_000) -> None:
        self.tiered_above = tiered_above
        self._rates: dict[str, tuple[float, float] | None] = {}
        self._lock = threading.Lock()

    def rates(self, model: str) -> tuple[float, float] | None:
        """``(dollars per input token, dollars per output token)``, or ``None`` if unpriced."""
        try:
            return self._rates[model]
        except KeyError:
            pass
        cost_in = litellm_cost(model, _PROBE_TOKENS, 0)
        cost_out = litellm_cost(model, 0, _PROBE_TOKENS)
        found = (
            None
            if cost_in is None or cost_out is None
            else (cost_in / _PROBE_TOKENS, cost_out / _PROBE_TOKENS)
        )
        with self._lock:
            self._rates[model] = found
        return found

    def cost(self, model: str, tokens_in: int, tokens_out: int) -> float:
        """Dollars for one call of ``model`` with these token counts (0.0 when unpriced)."""
        if tokens_in + tokens_out > self.tiered_above:
            return litellm_cost(model, tokens_in, tokens_out) or 0.0
        rates = self.rates(model)
        if rates is None:
            return 0.0
        return tokens_in * rates[0] + tokens_out * rates[1]


PRICES = PriceBook()

__all__ = ["PRICES", "PriceBook", "litellm_cost"]
