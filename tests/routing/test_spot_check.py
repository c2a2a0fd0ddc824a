"""The seeded spot-check sampler: determinism, sizes and inclusion probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from routing.spot_check import SpotCheckCandidate, allocate, sample_spot_checks


def candidates(n: int, seed: int = 0) -> list[SpotCheckCandidate]:
    rng = np.random.default_rng(seed)
    return [SpotCheckCandidate(f"p{i:04d}", float(rng.uniform(0.6, 1.0))) for i in range(n)]


@pytest.mark.parametrize("stratify", [False, True])
def test_same_seed_same_draw_whatever_the_input_order(stratify: bool) -> None:
    c = candidates(200)
    a = sample_spot_checks(c, rate=0.05, seed=11, stratify=stratify)
    b = sample_spot_checks(list(reversed(c)), rate=0.05, seed=11, stratify=stratify)
    assert a == b
    other = sample_spot_checks(c, rate=0.05, seed=12, stratify=stratify)
    assert other.selected != a.selected


def test_simple_random_size_and_probability() -> None:
    s = sample_spot_checks(candidates(381), rate=0.05, seed=0)
    assert len(s.selected) == 20  # ceil(0.05 * 381)
    assert set(s.inclusion_probability.values()) == {20 / 381}
    assert not s.stratified


def test_rate_zero_and_one() -> None:
    assert sample_spot_checks(candidates(10), rate=0.0).selected == frozenset()
    assert len(sample_spot_checks(candidates(10), rate=1.0).selected) == 10
    assert sample_spot_checks([], rate=0.5).selected == frozenset()


def test_stratified_probabilities_favour_low_confidence() -> None:
    s = sample_spot_checks(candidates(400), rate=0.05, seed=0, stratify=True, bins=4)
    assert s.stratified
    assert sum(n for _, n in s.strata) == len(s.selected) == 20
    assert all(n >= 1 for _, n in s.strata)
    by_stratum: dict[int, float] = {}
    for pid, h in s.stratum.items():
        by_stratum[h] = s.inclusion_probability[pid]
    # strata are in increasing confidence: the lowest gets at least the highest's probability
    assert by_stratum[0] >= by_stratum[max(by_stratum)]
    assert by_stratum[0] > by_stratum[max(by_stratum)]
    # expected sample size = sum of inclusion probabilities
    assert sum(s.inclusion_probability.values()) == pytest.approx(20)


def test_fewer_draws_than_bins_keeps_every_probability_positive() -> None:
    s = sample_spot_checks(candidates(30), rate=0.05, seed=0, stratify=True, bins=10)
    assert len(s.selected) == 2
    assert min(s.inclusion_probability.values()) > 0


@pytest.mark.parametrize("stratify", [False, True])
def test_inclusion_frequencies_match_recorded_probabilities(stratify: bool) -> None:
    c = candidates(40, seed=3)
    hits = dict.fromkeys((x.pair_id for x in c), 0)
    runs = 3000
    first = sample_spot_checks(c, rate=0.1, seed=0, stratify=stratify, bins=2)
    for seed in range(runs):
        for pid in sample_spot_checks(c, rate=0.1, seed=seed, stratify=stratify, bins=2).selected:
            hits[pid] += 1
    for pid, count in hits.items():
        pi = first.inclusion_probability[pid]
        sd = np.sqrt(pi * (1 - pi) / runs)
        assert abs(count / runs - pi) < 5 * sd


def test_allocate_by_hand() -> None:
    assert allocate(10, [50, 50], [1.0, 1.0]) == [5, 5]
    assert allocate(10, [50, 50], [3.0, 1.0]) == [7, 3]  # 7.5/2.5 -> remainder tie to first
    assert allocate(4, [2, 50], [100.0, 1.0]) == [2, 2]  # capped at the stratum size
    assert allocate(3, [5, 5, 5], [0.0, 0.0, 0.0]) == [1, 1, 1]


def test_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="rate"):
        sample_spot_checks(candidates(5), rate=1.5)
