"""Tightening an accept policy when spot checks show its accepted labels fall short.

The check is one-sided: the lower confidence bound (level ``1 - delta``, i.e. the lower end of a
two-sided ``1 - 2·delta`` interval, from :func:`routing.spot_check_estimate.estimate_accuracy`)
of the accuracy of accepted AI labels is compared with the policy's target agreement.

When it falls short, the new threshold is chosen from the spot-check answers themselves:

1. Candidate thresholds are the distinct confidences of answered spot checks above the current
   threshold, in increasing order. For each, the accuracy of the checked pairs at or above it is
   estimated (same estimator, restricted to that domain); the first whose lower bound reaches
   the target becomes the new threshold (the most lenient one the evidence supports).
2. If none does (too few answers above any candidate to certify), the threshold moves just
   above the highest confidence of any spot check that people rejected, so that no pattern
   already seen to fail is accepted again.
3. If people rejected none and the bound is still short, the sample is simply too small: no
   new policy is made and the caller is told to collect more spot-check answers.

The threshold only ever goes up, so the accepted set only shrinks: this is a conservative
correction, not a new guarantee (a fresh ``referee calibrate`` on more gold gives that).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routing.spot_check_estimate import AccuracyEstimate, SpotCheckOutcome, estimate_accuracy

__all__ = ["Tightening", "tighten_threshold"]


@dataclass(frozen=True)
class Tightening:
    """The outcome: ``new_threshold`` is ``None`` when nothing changes; ``why`` says why."""

    new_threshold: float | None
    why: str
    estimate: AccuracyEstimate

    def to_json(self) -> dict[str, Any]:
        return {
            "new_threshold": self.new_threshold,
            "why": self.why,
            "spot_check": self.estimate.to_json(),
        }


def tighten_threshold(
    outcomes: Sequence[SpotCheckOutcome],
    confidence_of: Mapping[str, float],
    *,
    current_threshold: float,
    target: float,
    delta: float,
) -> Tightening:
    """Decide whether and how far to raise the accept threshold (see the module docstring)."""
    level = 1.0 - 2.0 * delta
    overall = estimate_accuracy(outcomes, confidence=level)
    if overall.lower is None:
        return Tightening(None, "no answered spot checks yet", overall)
    if overall.lower >= target:
        return Tightening(
            None,
            f"spot-check lower bound {overall.lower:.3f} meets the target {target:.3f}",
            overall,
        )
    scored = [(confidence_of[o.pair_id], o) for o in outcomes if o.pair_id in confidence_of]
    floor = current_threshold if math.isfinite(current_threshold) else 0.0
    for t in sorted({c for c, _ in scored if c > floor}):
        subset = [o for c, o in scored if c >= t]
        estimate = estimate_accuracy(subset, confidence=level)
        if estimate.lower is not None and estimate.lower >= target:
            return Tightening(
                t,
                f"spot-check lower bound {overall.lower:.3f} < target {target:.3f}; at "
                f"threshold {t:.4f} the {estimate.n} checked pairs give {estimate.lower:.3f}",
                overall,
            )
    wrong = [c for c, o in scored if not o.correct]
    if wrong:
        t = math.nextafter(max(wrong), math.inf)
        return Tightening(
            t,
            f"spot-check lower bound {overall.lower:.3f} < target {target:.3f}; no threshold "
            f"is certified by the answers, so the threshold moves above the most confident "
            f"rejected label ({max(wrong):.4f})",
            overall,
        )
    return Tightening(
        None,
        f"spot-check lower bound {overall.lower:.3f} < target {target:.3f} but people rejected "
        f"none of the {overall.n} checked labels: answer more spot checks",
        overall,
    )
