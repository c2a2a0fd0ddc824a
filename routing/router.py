"""One routing decision per pair, from the panel's signals and the calibrated accept policy.

Reasons (every one that applies is listed, in the order of :data:`routing.decisions.REASONS`):

* ``not_judged``: no judge of the policy's panel has any judgment of the pair.
* ``unparseable``: some panel judge's call was made but gave no usable verdict (an order that
  was never asked, as in verdicts recorded in one order only, is not unparseable).
* ``order_flip``: some panel judge gave different verdicts in the two orders.
* ``panel_disagreement``: the order-consistent judges of the panel do not all give the same
  verdict (needs two or more of them).
* ``low_confidence``: the policy's score (calibrated probability or vote share, whichever
  score calibration chose) is below the policy threshold (always, when the policy certified
  no threshold: its threshold is ``+inf``).
* ``tie`` / ``both_bad``: the AI label is ``tie`` / ``both_bad`` and the policy does not accept
  that label (by default it accepts only ``A`` and ``B``; people decide whether such a pair is
  usable).
* ``judge_injection_suspected``: a response appears to address the judge.

Hard gates versus soft reasons. The threshold was certified for the policy's own rule
(``AcceptPolicy.accepts``: label in ``accept_labels``, score ≥ threshold, no injection, and
not the whole panel order-inconsistent), and the score already reflects order consistency and
panel agreement, so a soft reason is not allowed to override that rule. Extra hard gates can
only remove pairs from the accepted set. The order gate below is part of the certified rule;
the optional gates (``primary_judge``, ``gate_panel_disagreement``) are not, and remove pairs
whose labels are *less* likely to be right, so they make accepted labels stricter rather than
breaking the guarantee (they cost coverage, which is why they are off by default):

* hard: ``not_judged``; ``unparseable`` when the panel gave no usable verdict at all;
  ``tie``/``both_bad`` (labels outside ``accept_labels``); ``judge_injection_suspected``;
  ``low_confidence``; and **order inconsistency of the whole panel**: no panel judge gave the
  same verdict in both orders while some judge flipped or failed to answer (for a single judge:
  it flipped, or one of its calls was unparseable). Verdicts recorded in one order only carry
  no position-bias evidence and are not gated for it. With
  ``primary_judge`` set, a flip of that judge is a hard gate as well.
* soft (listed, not gating): ``order_flip`` / ``unparseable`` of some judges while another
  judge is order-consistent, and ``panel_disagreement`` (a gate only with
  ``gate_panel_disagreement=True``, e.g. when the stored policy asks for it).

Frozen-evaluation pairs get decision ``frozen_eval``, no label and no reasons, whatever the
judges said: they are never auto-labeled and never exported for training.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace

from calibration.cascade import CascadePolicy
from calibration.policy import AcceptPolicy
from calibration.scores import order_gated
from calibration.signals import JudgeSignals, PairSignals
from routing.decisions import DecisionKind, Reason, RoutingDecision, ordered_reasons
from routing.spot_check import SpotCheckCandidate, SpotCheckSample, sample_spot_checks

__all__ = ["AnyPolicy", "RouteOptions", "RoutingRun", "find_reasons", "route_all", "route_pair"]

#: A single certified policy, or a cascade of them (the first stage that accepts labels).
AnyPolicy = AcceptPolicy | CascadePolicy

HARD_LABEL_REASONS: dict[str, Reason] = {"tie": "tie", "both_bad": "both_bad"}


@dataclass(frozen=True)
class RouteOptions:
    """Optional extra gates on top of the calibrated policy (both default off)."""

    primary_judge: str | None = None
    gate_panel_disagreement: bool = False


@dataclass(frozen=True)
class _Assessment:
    reasons: frozenset[Reason]
    gated: bool
    label: str | None
    confidence: float | None


def _panel(signals: PairSignals, policy: AcceptPolicy) -> list[JudgeSignals]:
    names = policy.judges or sorted(signals.judges)
    return [signals.judges[name] for name in names if name in signals.judges]


def _assess(signals: PairSignals, policy: AcceptPolicy, options: RouteOptions) -> _Assessment:
    panel = _panel(signals, policy)
    reasons: set[Reason] = set()
    gated = False
    if signals.injection_suspected:
        reasons.add("judge_injection_suspected")
        gated = True
    if not panel:
        reasons.add("not_judged")
        return _Assessment(frozenset(reasons), True, None, None)

    scored = policy.score(signals)
    unparseable = [j for j in panel if j.unparseable_orders]
    if unparseable:
        reasons.add("unparseable")
    if scored.label is None:
        reasons.add("unparseable")
        return _Assessment(frozenset(reasons), True, None, None)

    flipped = [j for j in panel if j.flipped]
    consistent = [j for j in panel if j.consistent]
    if flipped:
        reasons.add("order_flip")
    if order_gated(signals, policy.judges):
        # no judge of the panel stands by its verdict in both orders. Judges asked in one
        # order only (recorded elsewhere) show no position bias either way: no gate for them.
        # The same function is part of the certified rule (AcceptPolicy.accepts).
        gated = True
    if options.primary_judge is not None and any(j.judge == options.primary_judge for j in flipped):
        gated = True
    if len({j.ab for j in consistent}) > 1:
        reasons.add("panel_disagreement")
        gated = gated or options.gate_panel_disagreement
    if scored.label not in policy.accept_labels:
        reasons.add(HARD_LABEL_REASONS.get(scored.label, "low_confidence"))
        gated = True
    if scored.probability < policy.threshold:
        reasons.add("low_confidence")
        gated = True
    return _Assessment(frozenset(reasons), gated, scored.label, scored.probability)


def _assess_any(signals: PairSignals, policy: AnyPolicy, options: RouteOptions) -> _Assessment:
    """One policy's assessment; for a cascade, the first stage that accepts the pair, else the
    last stage that judged it (its reasons are why the pair goes to people)."""
    if isinstance(policy, AcceptPolicy):
        return _assess(signals, policy, options)
    found: _Assessment | None = None
    for stage in policy.stages:
        here = _assess(signals, stage, options)
        if not here.gated:
            return here
        if found is None or "not_judged" not in here.reasons:
            found = here
    assert found is not None  # a cascade has at least one stage
    return found


def find_reasons(
    signals: PairSignals, policy: AnyPolicy, options: RouteOptions | None = None
) -> tuple[Reason, ...]:
    """Every reason that applies to the pair (hard and soft), in canonical order."""
    return ordered_reasons(_assess_any(signals, policy, options or RouteOptions()).reasons)


def route_pair(
    signals: PairSignals,
    policy: AnyPolicy,
    *,
    frozen_eval: bool,
    options: RouteOptions | None = None,
) -> RoutingDecision:
    """Route one pair: ``frozen_eval``, ``auto_accept`` (with the AI label) or ``human_review``.

    With a cascade, the first stage whose policy accepts the pair gives the label.
    Spot checks are drawn afterwards among auto-accepted pairs (:func:`route_all`).
    """
    found = _assess_any(signals, policy, options or RouteOptions())
    if frozen_eval:
        return RoutingDecision(signals.pair_id, "frozen_eval", None, "ai", (), found.confidence)
    if found.gated:
        return RoutingDecision(
            signals.pair_id,
            "human_review",
            None,
            "ai",
            ordered_reasons(found.reasons),
            found.confidence,
        )
    return RoutingDecision(
        signals.pair_id,
        "auto_accept",
        found.label,
        "ai",
        ordered_reasons(found.reasons),
        found.confidence,
    )


@dataclass(frozen=True)
class RoutingRun:
    """Every pair's decision plus the spot-check draw that produced the ``spot_check`` ones."""

    decisions: list[RoutingDecision]
    spot_check: SpotCheckSample

    def counts(self) -> dict[str, int]:
        """Pairs per decision kind."""
        out: dict[str, int] = {}
        for d in self.decisions:
            out[d.decision] = out.get(d.decision, 0) + 1
        return dict(sorted(out.items()))

    def reason_counts(self) -> dict[str, int]:
        """Pairs per reason (a pair with several reasons counts once for each)."""
        out: dict[str, int] = {}
        for d in self.decisions:
            for r in d.reasons:
                out[r] = out.get(r, 0) + 1
        return dict(sorted(out.items()))


def route_all(
    signals: Iterable[PairSignals],
    policy: AnyPolicy,
    *,
    frozen: Collection[str] = (),
    spot_check_rate: float = 0.05,
    seed: int = 0,
    stratify: bool = False,
    bins: int = 4,
    options: RouteOptions | None = None,
    known: Collection[str] = (),
) -> RoutingRun:
    """Route every pair, then send a seeded sample of the auto-accepted ones to ``spot_check``.

    ``frozen``: ids of frozen-evaluation pairs. ``known``: ids of pairs whose label is already
    known (gold): never drawn for spot check (their accepted AI label is never the final one,
    so checking it buys nothing); they keep ``auto_accept`` with no inclusion probability.
    Spot-checked pairs keep their AI label and confidence (people check that label); every
    other auto-accepted pair, sampled or not, records its inclusion probability. Decisions come
    out sorted by pair id.
    """
    frozen_ids = set(frozen)
    known_ids = set(known)
    routed = [
        route_pair(s, policy, frozen_eval=s.pair_id in frozen_ids, options=options)
        for s in sorted(signals, key=lambda s: s.pair_id)
    ]
    candidates = [
        SpotCheckCandidate(d.pair_id, d.confidence if d.confidence is not None else 0.0)
        for d in routed
        if d.decision == "auto_accept" and d.pair_id not in known_ids
    ]
    sample = sample_spot_checks(
        candidates, rate=spot_check_rate, seed=seed, stratify=stratify, bins=bins
    )
    out: list[RoutingDecision] = []
    for d in routed:
        if d.decision == "auto_accept" and d.pair_id not in known_ids:
            pi = sample.inclusion_probability[d.pair_id]
            kind: DecisionKind = "spot_check" if d.pair_id in sample.selected else "auto_accept"
            d = replace(d, decision=kind, inclusion_probability=pi)
        out.append(d)
    return RoutingRun(out, sample)
