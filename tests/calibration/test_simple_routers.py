"""The two simple routers: thresholds by hand, and the better of the two methods."""

from __future__ import annotations

import math

import pytest

from calibration.signals import JudgeSignals, PairSignals
from calibration.simple_routers import (
    LTT_STEPS,
    fixed_sequence_threshold,
    learn_then_test_threshold,
    simple_routers,
)
from calibration.thresholds import clopper_pearson_lower


def test_fixed_sequence_walks_distinct_scores_and_stops_at_the_first_failure() -> None:
    # 30 perfect items at 1.0, then 10 wrong ones at 0.9, then 60 perfect at 0.5
    scores = [1.0] * 30 + [0.9] * 10 + [0.5] * 60
    correct = [True] * 30 + [False] * 10 + [True] * 60
    assert fixed_sequence_threshold(scores, correct, target=0.85, delta=0.1) == 1.0
    # 0.5 alone would pass (90/100), but the sequence stopped at 0.9 (30/40 fails)
    assert clopper_pearson_lower(90, 100, 0.1) >= 0.85
    assert clopper_pearson_lower(30, 40, 0.1) < 0.85
    # too few items at every score: nothing
    assert math.isinf(fixed_sequence_threshold([1.0] * 5, [True] * 5, target=0.85, delta=0.1))


def test_learn_then_test_takes_the_loosest_passing_step_at_delta_over_steps() -> None:
    scores = [1.0] * 30 + [0.9] * 10 + [0.5] * 160
    correct = [True] * 30 + [False] * 10 + [True] * 160
    # every step is tested, so the dip at 0.9 does not stop it: 0.5 (190/200) passes at δ/20
    assert clopper_pearson_lower(190, 200, 0.1 / LTT_STEPS) >= 0.85
    assert fixed_sequence_threshold(scores, correct, target=0.85, delta=0.1) == 1.0
    assert learn_then_test_threshold(scores, correct, target=0.85, delta=0.1) == 0.5


def _pair(i: int, strong: str, weak: str) -> PairSignals:
    return PairSignals(
        f"p{i:03d}",
        {
            "strong": JudgeSignals("strong", strong, strong),
            "weak": JudgeSignals("weak", weak, weak),
        },
    )


def test_routers_certify_on_the_gold_and_pick_the_most_accurate_judge() -> None:
    pairs, gold = [], {}
    for i in range(100):
        truth = "A" if i % 2 else "B"
        wrong = "B" if truth == "A" else "A"
        pairs.append(_pair(i, truth if i % 20 else wrong, truth if i % 3 else wrong))
        gold[pairs[-1].pair_id] = truth
    judge, panel = simple_routers(
        pairs,
        gold,
        ["weak", "strong"],
        {"strong": 2, "weak": 2},
        target=0.85,
        delta=0.1,
        accept_labels=("A", "B"),
    )
    assert judge.router == "best single judge" and judge.score == "judge strong (both-order vote)"
    assert judge.method == "fixed sequence" and judge.accepted == 100 and judge.correct == 95
    assert judge.coverage == pytest.approx(1.0)
    assert panel.router == "panel vote share"
    # the panel's unanimous pairs (both right or both wrong together) are the only top score
    assert panel.to_json()["certified"] == math.isfinite(panel.threshold)
    assert panel.correct <= panel.accepted <= 100
