"""What a routing run did and why: reasons that sent pairs to people, apart from flags that
only describe a pair.

The router (:mod:`routing.router`) lists every reason that applies to a pair, hard or soft, on
accepted pairs too (an ``order_flip`` of one judge while another stands by its verdict does not
gate). Counting them all in one column makes a soft reason look like a gate: on LLMBar 413 of
419 pairs listed ``order_flip`` while 350 were accepted. This module splits each pair's reasons
into

* **gates**: the reasons that sent a ``human_review`` pair to people, by the rule in the router's
  docstring: ``not_judged``, ``low_confidence``, ``tie``, ``both_bad`` and
  ``judge_injection_suspected`` always gate; ``order_flip`` and ``unparseable`` gate when the whole
  panel is order-inconsistent (:func:`calibration.scores.order_gated`), ``unparseable`` also when
  no usable verdict was left, ``order_flip`` also when the primary judge flipped;
  ``panel_disagreement`` gates only when the policy asks for it;
* **flags**: every other listed reason (all reasons of accepted and spot-checked pairs).

It also counts ``tie`` right: a pair is a tie when its AI label is ``tie`` or when the panel's
verdicts are tied **in both orders** (no label has more votes than every other one, in the A-first
order and in the B-first order; a single judge answering ``tie`` twice is tied too). The router
names only the first case, so a two-judge panel split A/B in both orders showed ``tie`` 0 times.
Such a pair's ``tie`` is a gate when its AI label was ``tie`` and not accepted, a flag otherwise.
Pure functions over plain data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from calibration.scores import order_gated
from calibration.signals import JudgeSignals, PairSignals
from routing.decisions import REASONS, Reason, RoutingDecision

__all__ = ["RouteSummary", "panel_tied_both_orders", "split_reasons", "summarize_run"]

ALWAYS_GATE: frozenset[Reason] = frozenset(
    {"not_judged", "low_confidence", "tie", "both_bad", "judge_injection_suspected"}
)


def _panel(signals: PairSignals, judges: Sequence[str]) -> list[JudgeSignals]:
    names = list(judges) or sorted(signals.judges)
    return [signals.judges[name] for name in names if name in signals.judges]


def _tied(verdicts: Iterable[str | None]) -> bool:
    counts = Counter(v for v in verdicts if v is not None).most_common()
    if not counts:
        return False
    return counts[0][0] == "tie" or (len(counts) > 1 and counts[0][1] == counts[1][1])


def panel_tied_both_orders(signals: PairSignals, judges: Sequence[str] = ()) -> bool:
    """True when the panel's verdicts are tied in the A-first order and in the B-first order."""
    panel = _panel(signals, judges)
    return _tied(j.ab for j in panel) and _tied(j.ba for j in panel)


def split_reasons(
    decision: RoutingDecision,
    signals: PairSignals | None,
    judges: Sequence[str] = (),
    *,
    primary_judge: str | None = None,
    gate_panel_disagreement: bool = False,
) -> tuple[tuple[Reason, ...], tuple[Reason, ...]]:
    """``(gates, flags)`` of one decision, each in the canonical order of ``REASONS``.

    ``tie`` is added when the panel is tied in both orders (:func:`panel_tied_both_orders`).
    Only ``human_review`` decisions have gates.
    """
    reasons: set[Reason] = set(decision.reasons)
    if signals is not None and panel_tied_both_orders(signals, judges):
        reasons.add("tie")
    gates: set[Reason] = set()
    if decision.decision == "human_review":
        gates = set(reasons & ALWAYS_GATE)
        if "tie" in gates and "tie" not in decision.reasons:
            gates.discard("tie")  # a tied panel whose AI label is not tie: a flag
        whole_panel = signals is not None and order_gated(signals, judges)
        if "unparseable" in reasons and (whole_panel or decision.confidence is None):
            gates.add("unparseable")
        flipped_primary = (
            signals is not None
            and primary_judge is not None
            and primary_judge in signals.judges
            and signals.judges[primary_judge].flipped
        )
        if "order_flip" in reasons and (whole_panel or flipped_primary):
            gates.add("order_flip")
        if "panel_disagreement" in reasons and gate_panel_disagreement:
            gates.add("panel_disagreement")
    flags = reasons - gates
    return (
        tuple(r for r in REASONS if r in gates),
        tuple(r for r in REASONS if r in flags),
    )


@dataclass(frozen=True)
class RouteSummary:
    """Pairs per reason: as a gate, as a flag, and in all (a pair counts once per reason)."""

    gates: dict[str, int]
    flags: dict[str, int]
    ungated_review: int

    @property
    def reasons(self) -> dict[str, int]:
        """Pairs listing each reason at all (gate or flag)."""
        return {r: self.gates[r] + self.flags[r] for r in REASONS}

    def to_json(self) -> dict[str, Any]:
        """``{"gates", "flags", "reasons", "ungated_review"}``."""
        return {
            "gates": dict(self.gates),
            "flags": dict(self.flags),
            "reasons": self.reasons,
            "ungated_review": self.ungated_review,
        }


def summarize_run(
    decisions: Iterable[RoutingDecision],
    signals: Mapping[str, PairSignals],
    judges: Sequence[str] = (),
    *,
    primary_judge: str | None = None,
    gate_panel_disagreement: bool = False,
) -> RouteSummary:
    """Count gates and flags over a run. ``ungated_review`` counts ``human_review`` pairs with
    no gate found (0 when this module and the router agree)."""
    gates: Counter[str] = Counter()
    flags: Counter[str] = Counter()
    ungated = 0
    for d in decisions:
        g, f = split_reasons(
            d,
            signals.get(d.pair_id),
            judges,
            primary_judge=primary_judge,
            gate_panel_disagreement=gate_panel_disagreement,
        )
        gates.update(g)
        flags.update(f)
        ungated += int(d.decision == "human_review" and not g)
    return RouteSummary(
        {r: gates.get(r, 0) for r in REASONS}, {r: flags.get(r, 0) for r in REASONS}, ungated
    )
