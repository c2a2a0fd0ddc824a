"""The verdicts a judge gives on a pair: one per order shown, and the two together.

Every ``winner`` and ``label`` here is in the ORIGINAL frame of the pair (``"A"`` means
``response_a``), whatever order the responses were shown in; see :mod:`judge.mapping`.
(:mod:`judge.types` re-exports both; they live here so that :mod:`judge.errors`, which carries
the verdicts a failed panel did give, imports no module that imports it back.)
"""

from __future__ import annotations

from dataclasses import dataclass

from judge.labels import JudgmentStatus, Label, Order


@dataclass(frozen=True)
class OrderVerdict:
    """One judge's verdict on one pair shown in one order.

    ``winner`` is in the original frame and is ``None`` unless ``status == "ok"``.
    ``raw`` keeps the model's text (always, and especially when it could not be parsed).
    ``tokens_in``/``tokens_out``/``cost`` add up every HTTP attempt (re-asks included).
    ``turns_dropped`` is how many earlier turns of a conversation were left out to fit the
    judge's context (:func:`judge.conversation_prompt.fit_turns`); ``None`` for a single-turn
    prompt or a provider that does not render the prompt (replay).
    """

    order: Order
    winner: Label | None
    status: JudgmentStatus
    prompt_version: str
    confidence: float | None = None
    logprob_confidence: float | None = None
    rationale: str | None = None
    raw: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    latency_ms: float = 0.0
    error: str | None = None
    injection_suspected: bool = False
    attempts: int = 0
    reused: bool = False
    turns_dropped: int | None = None


@dataclass(frozen=True)
class PairVerdict:
    """One judge's verdicts on one pair in both orders, and what they add up to.

    ``consistent`` is true when both orders parsed and named the same winner; ``label`` is that
    winner, and ``None`` otherwise (an order-inconsistent pair is NOT turned into a tie).
    """

    pair_id: str
    judge: str
    ab: OrderVerdict
    ba: OrderVerdict
    consistent: bool
    label: Label | None
    injection_suspected: bool

    def verdicts(self) -> tuple[OrderVerdict, OrderVerdict]:
        """Both order verdicts, AB first."""
        return (self.ab, self.ba)

    @property
    def calls_made(self) -> int:
        """How many orders were asked of the provider this time (0, 1 or 2)."""
        return sum(1 for v in self.verdicts() if not v.reused)

    @property
    def cost(self) -> float:
        """Cost of both orders, in dollars (reused orders included at their recorded cost)."""
        return self.ab.cost + self.ba.cost


__all__ = ["OrderVerdict", "PairVerdict"]
