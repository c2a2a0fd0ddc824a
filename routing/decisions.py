"""The vocabulary of routing: what can happen to a pair, and why.

A :class:`RoutingDecision` is plain data: the router makes it, the store persists it, the CLI
writes it as one JSON line (``to_json``) with exactly the keys the interchange format names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal, get_args

DecisionKind = Literal["auto_accept", "human_review", "spot_check", "frozen_eval"]
Reason = Literal[
    "order_flip",
    "low_confidence",
    "panel_disagreement",
    "unparseable",
    "both_bad",
    "tie",
    "judge_injection_suspected",
    "not_judged",
]
Source = Literal["ai", "human"]

DECISION_KINDS: Final[tuple[DecisionKind, ...]] = get_args(DecisionKind)
REASONS: Final[tuple[Reason, ...]] = get_args(Reason)


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """One pair's routing outcome.

    ``label`` is the AI label (``A``, ``B`` or ``tie``) for ``auto_accept`` and ``spot_check``
    pairs (a spot-checked pair was accepted first; people then check that label) and ``None``
    otherwise, until people answer. ``reasons`` lists every reason that applies, in the order of
    :data:`REASONS`, even for accepted pairs (a soft reason such as ``panel_disagreement`` may
    accompany an acceptance). ``confidence`` is the policy's calibrated probability that the AI
    label is right (``None`` when nothing could be scored). ``inclusion_probability`` is the
    probability with which the spot-check sampler would pick this pair (``None`` for pairs that
    were never candidates, i.e. not auto-accepted).
    """

    pair_id: str
    decision: DecisionKind
    label: str | None
    source: Source
    reasons: tuple[Reason, ...]
    confidence: float | None
    inclusion_probability: float | None = None

    def to_json(self) -> dict[str, Any]:
        """``{"pair_id","decision","label","source","reasons","confidence"}`` (+ extras)."""
        doc: dict[str, Any] = {
            "pair_id": self.pair_id,
            "decision": self.decision,
            "label": self.label if self.decision == "auto_accept" else None,
            "source": self.source,
            "reasons": list(self.reasons),
            "confidence": self.confidence,
        }
        if self.inclusion_probability is not None:
            doc["inclusion_probability"] = self.inclusion_probability
        return doc


def ordered_reasons(reasons: set[Reason] | frozenset[Reason]) -> tuple[Reason, ...]:
    """``reasons`` as a tuple in the canonical order of :data:`REASONS` (stable output)."""
    return tuple(r for r in REASONS if r in reasons)


__all__ = [
    "DECISION_KINDS",
    "REASONS",
    "DecisionKind",
    "Reason",
    "RoutingDecision",
    "Source",
    "ordered_reasons",
]
