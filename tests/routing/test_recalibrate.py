"""Tightening the threshold from spot-check answers."""

from __future__ import annotations

import math

from routing.recalibrate import tighten_threshold
from routing.spot_check_estimate import SpotCheckOutcome


def outcomes(spec: list[tuple[float, bool]]) -> tuple[list[SpotCheckOutcome], dict[str, float]]:
    out = [SpotCheckOutcome(f"p{i}", ok, 0.1) for i, (_, ok) in enumerate(spec)]
    return out, {f"p{i}": c for i, (c, _) in enumerate(spec)}


def test_no_change_when_the_bound_meets_the_target() -> None:
    o, conf = outcomes([(0.9, True)] * 60)
    t = tighten_threshold(o, conf, current_threshold=0.7, target=0.85, delta=0.1)
    assert t.new_threshold is None
    assert "meets" in t.why


def test_threshold_rises_to_the_first_certified_value() -> None:
    # low-confidence checks are often wrong; above 0.9 every one of 40 checks is right
    spec = [(0.75, i % 2 == 0) for i in range(20)] + [(0.9 + i / 1000, True) for i in range(40)]
    o, conf = outcomes(spec)
    t = tighten_threshold(o, conf, current_threshold=0.7, target=0.85, delta=0.1)
    assert t.new_threshold is not None
    assert 0.75 < t.new_threshold <= 0.9 + 39 / 1000
    assert t.estimate.lower is not None and t.estimate.lower < 0.85


def test_falls_back_above_the_most_confident_error() -> None:
    o, conf = outcomes([(0.8, False), (0.95, False), (0.9, True), (0.97, True)])
    t = tighten_threshold(o, conf, current_threshold=0.7, target=0.85, delta=0.1)
    assert t.new_threshold == math.nextafter(0.95, math.inf)


def test_too_few_answers_without_errors_changes_nothing() -> None:
    o, conf = outcomes([(0.9, True)] * 3)
    t = tighten_threshold(o, conf, current_threshold=0.7, target=0.85, delta=0.1)
    assert t.new_threshold is None
    assert "answer more" in t.why
