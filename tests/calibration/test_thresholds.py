from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import binom

from calibration.thresholds import (
    clopper_pearson_lower,
    fallback_weights,
    first_testable_count,
    fixed_sequence_search,
    gold_needed,
    min_items_to_certify,
    predictive_p_value,
    threshold_grid,
)


@pytest.mark.parametrize(("k", "n"), [(1, 1), (9, 10), (85, 100), (170, 200), (3, 40)])
def test_clopper_pearson_inverts_the_binomial_tail(k: int, n: int) -> None:
    # The exact lower bound L solves P(Bin(n, L) >= k) = delta (Clopper & Pearson 1934).
    low = clopper_pearson_lower(k, n, 0.1)
    assert binom.sf(k - 1, n, low) == pytest.approx(0.1, abs=1e-9)
    assert 0.0 < low < k / n


def test_clopper_pearson_edges() -> None:
    assert clopper_pearson_lower(0, 10, 0.1) == 0.0
    assert clopper_pearson_lower(0, 0, 0.1) == 0.0
    assert clopper_pearson_lower(10, 10, 0.1) == pytest.approx(0.1 ** (1 / 10))
    with pytest.raises(ValueError, match="exceed"):
        clopper_pearson_lower(11, 10, 0.1)
    with pytest.raises(ValueError, match="delta"):
        clopper_pearson_lower(1, 2, 1.5)


def test_a_perfect_run_needs_ln_delta_over_ln_target_items() -> None:
    n = min_items_to_certify(0.85, 0.1)
    assert n == 15
    assert clopper_pearson_lower(n, n, 0.1) >= 0.85
    assert clopper_pearson_lower(n - 1, n - 1, 0.1) < 0.85


def _brute_force_predictive(errors: int, n: int, m: int, target: float) -> float:
    """max over pool error counts E of P(cal errors <= e and test errors > f), by counting."""
    f = math.floor((1 - target) * m + 1e-9)
    worst = 0.0
    for total in range(n + m + 1):
        prob = 0.0
        for e_cal in range(0, min(errors, total) + 1):
            e_test = total - e_cal
            if e_test > m or e_test <= f:
                continue
            prob += math.comb(total, e_cal) * math.comb(n + m - total, n - e_cal)
        worst = max(worst, prob / math.comb(n + m, n))
    return worst


@pytest.mark.parametrize(("e", "n", "m"), [(0, 15, 15), (2, 30, 25), (5, 40, 60), (1, 20, 3)])
def test_predictive_p_value_matches_exhaustive_count(e: int, n: int, m: int) -> None:
    assert predictive_p_value(e, n, m, 0.85) == pytest.approx(
        _brute_force_predictive(e, n, m, 0.85), abs=1e-12
    )


def test_predictive_p_value_is_zero_when_nothing_is_applied() -> None:
    assert predictive_p_value(3, 10, 0, 0.85) == 0.0


def test_grid_is_strictest_first_and_never_splits_ties() -> None:
    scores = [0.99] * 5 + [0.9] * 10 + [0.8] * 20 + [0.5] * 5
    grid = threshold_grid(scores, min_items=3, steps=40)
    assert grid == [0.99, 0.9, 0.8, 0.5]
    assert threshold_grid(scores, min_items=100) == []


def test_fixed_sequence_stops_at_first_failure() -> None:
    # 40 perfect items at the top, then 40 items that are half wrong, then 40 perfect again.
    scores = [1.0 - i / 1000 for i in range(120)]
    correct = [True] * 40 + [i % 2 == 0 for i in range(40)] + [True] * 40
    grid = threshold_grid(scores, min_items=20, steps=5)
    result = fixed_sequence_search(scores, correct, target=0.85, delta=0.1, grid=grid)
    assert result.certified
    assert result.accepted <= 60  # the later perfect block is never reached
    failed = [s for s in result.steps if not s.certified]
    assert len(failed) == 1 and result.steps[-1] is failed[0]
    assert result.bound == pytest.approx(
        clopper_pearson_lower(result.correct, result.accepted, 0.1)
    )


def test_nothing_certified_gives_infinite_threshold() -> None:
    scores = [0.9] * 30
    correct = [True, False] * 15
    result = fixed_sequence_search(
        scores, correct, target=0.85, delta=0.1, grid=threshold_grid(scores, min_items=15)
    )
    assert not result.certified and math.isinf(result.threshold) and result.accepted == 0


def test_application_items_make_the_search_stricter() -> None:
    scores = [1.0 - i / 1000 for i in range(100)]
    correct = [True] * 94 + [False] * 6
    grid = threshold_grid(scores, min_items=100)
    alone = fixed_sequence_search(scores, correct, target=0.85, delta=0.1, grid=grid)
    few = fixed_sequence_search(
        scores, correct, target=0.85, delta=0.1, grid=grid, application_scores=[0.999] * 10
    )
    assert alone.certified and not few.certified
    assert few.steps[0].applied == 10 and few.steps[0].predictive_p > 0.1


def test_first_testable_count_is_where_a_planned_run_would_pass() -> None:
    scores = [1.0 - i / 1000 for i in range(200)]
    n = first_testable_count(scores, target=0.85, delta=0.1, plan_accuracy=0.925)
    assert n is not None
    errors = math.floor(0.075 * n + 1e-9)
    assert clopper_pearson_lower(n - errors, n, 0.1) >= 0.85
    earlier = n - 1
    e2 = math.floor(0.075 * earlier + 1e-9)
    assert clopper_pearson_lower(earlier - e2, earlier, 0.1) < 0.85
    assert first_testable_count(scores[:10], target=0.85, delta=0.1, plan_accuracy=0.925) is None


def test_gold_needed_reaches_a_certifying_size() -> None:
    more = gold_needed(0.92, 0.5, target=0.85, delta=0.1, have=40)
    assert more is not None and more > 0
    accepted = math.floor((40 + more) * 0.5)
    assert clopper_pearson_lower(math.floor(0.92 * accepted), accepted, 0.1) >= 0.85 - 1e-3
    assert gold_needed(0.8, 0.5, target=0.85, delta=0.1, have=40) is None


def test_fallback_continues_after_a_failed_first_step() -> None:
    # 20 best-scored items only 70% right, then 400 items 97% right
    rng = np.random.default_rng(0)
    top = [True] * 14 + [False] * 6
    rest = list(rng.random(400) < 0.97)
    scores = np.linspace(1.0, 0.5, 420).tolist()
    correct = top + rest
    grid = [scores[19], scores[119], scores[219], scores[319], scores[419]]
    plain = fixed_sequence_search(scores, correct, target=0.85, delta=0.1, grid=grid)
    assert not plain.certified and len(plain.steps) == 1
    fallback = fixed_sequence_search(
        scores, correct, target=0.85, delta=0.1, grid=grid, weights=fallback_weights(len(grid))
    )
    assert fallback.certified
    assert fallback.accepted > 20
    assert not fallback.steps[0].certified


def test_fallback_weights_sum_to_one() -> None:
    for k in (1, 2, 5, 21):
        w = fallback_weights(k)
        assert len(w) == k and abs(sum(w) - 1.0) < 1e-12 and min(w) >= 0


def test_fallback_controls_family_wise_error() -> None:
    # true agreement 0.84 < 0.85 at every threshold: certifying anything is an error
    rng = np.random.default_rng(1)
    errors = 0
    trials = 400
    for _ in range(trials):
        n = 300
        scores = np.sort(rng.random(n))[::-1].tolist()
        correct = (rng.random(n) < 0.84).tolist()
        grid = [scores[c - 1] for c in range(40, n + 1, 26)]
        result = fixed_sequence_search(
            scores, correct, target=0.85, delta=0.1, grid=grid, weights=fallback_weights(len(grid))
        )
        errors += result.certified
    assert errors / trials <= 0.1 + 3 * (0.1 * 0.9 / trials) ** 0.5
