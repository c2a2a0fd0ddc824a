"""Accuracy of accepted labels from spot checks: exact and inverse-probability-weighted."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest

from routing.spot_check import SpotCheckCandidate, sample_spot_checks
from routing.spot_check_estimate import (
    SpotCheckOutcome,
    clopper_pearson,
    estimate_accuracy,
    hajek_mean,
    horvitz_thompson_mean,
)


@pytest.mark.parametrize(("k", "n"), [(0, 10), (7, 10), (10, 10), (45, 50), (180, 200)])
def test_clopper_pearson_matches_scipy(k: int, n: int) -> None:
    ref = binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
    lo, hi = clopper_pearson(k, n, 0.95)
    assert lo == pytest.approx(ref.low, abs=1e-10)
    assert hi == pytest.approx(ref.high, abs=1e-10)


def test_equal_probabilities_give_the_exact_interval() -> None:
    outcomes = [SpotCheckOutcome(f"p{i}", i < 18, 0.05) for i in range(20)]
    e = estimate_accuracy(outcomes)
    assert e.method == "clopper_pearson"
    assert e.accuracy == pytest.approx(0.9)
    assert (e.lower, e.upper) == pytest.approx(clopper_pearson(18, 20))


def test_no_answers() -> None:
    e = estimate_accuracy([])
    assert e.accuracy is None and e.n == 0


def population(n: int, seed: int) -> tuple[list[SpotCheckCandidate], dict[str, bool]]:
    """Confidence in [0.5, 1]; a label is right with probability equal to its confidence."""
    rng = np.random.default_rng(seed)
    conf = rng.uniform(0.5, 1.0, n)
    right = rng.random(n) < conf
    cands = [SpotCheckCandidate(f"p{i:05d}", float(c)) for i, c in enumerate(conf)]
    return cands, {c.pair_id: bool(r) for c, r in zip(cands, right, strict=True)}


def test_ipw_is_unbiased_under_stratified_sampling_and_the_raw_mean_is_not() -> None:
    cands, truth = population(2000, seed=0)
    true_accuracy = np.mean(list(truth.values()))
    ht, hajek, raw = [], [], []
    for seed in range(800):
        s = sample_spot_checks(cands, rate=0.03, seed=seed, stratify=True, bins=4)
        chosen = sorted(s.selected)
        y = [1.0 if truth[p] else 0.0 for p in chosen]
        pi = [s.inclusion_probability[p] for p in chosen]
        ht.append(horvitz_thompson_mean(y, pi, len(cands)))
        hajek.append(hajek_mean(y, pi))
        raw.append(np.mean(y))
    se = np.std(ht) / np.sqrt(len(ht))
    assert abs(np.mean(ht) - true_accuracy) < 4 * se
    assert abs(np.mean(hajek) - true_accuracy) < 4 * se
    # the unweighted mean over-samples low-confidence pairs, so it underestimates
    assert np.mean(raw) < true_accuracy - 4 * se


def test_weighted_interval_covers_the_truth_about_as_often_as_it_says() -> None:
    cands, truth = population(3000, seed=1)
    true_accuracy = float(np.mean(list(truth.values())))
    covered = 0
    runs = 300
    for seed in range(runs):
        s = sample_spot_checks(cands, rate=0.03, seed=seed, stratify=True, bins=4)
        outcomes = [
            SpotCheckOutcome(p, truth[p], s.inclusion_probability[p], s.stratum[p])
            for p in sorted(s.selected)
        ]
        e = estimate_accuracy(outcomes, confidence=0.95)
        assert e.method == "hajek_korn_graubard"
        assert e.lower is not None and e.upper is not None
        covered += e.lower <= true_accuracy <= e.upper
    assert covered / runs >= 0.90


def test_bootstrap_interval_brackets_the_estimate() -> None:
    outcomes = [
        SpotCheckOutcome(f"p{i}", i % 5 != 0, 0.02 if i < 20 else 0.1, i < 20) for i in range(40)
    ]
    e = estimate_accuracy(outcomes, method="bootstrap", n_boot=500, seed=1)
    assert e.method == "hajek_bootstrap"
    assert e.lower is not None and e.upper is not None and e.accuracy is not None
    assert e.lower <= e.accuracy <= e.upper


def test_all_correct_weighted_sample_does_not_claim_certainty() -> None:
    outcomes = [SpotCheckOutcome(f"p{i}", True, 0.02 if i < 5 else 0.2) for i in range(10)]
    e = estimate_accuracy(outcomes)
    assert e.accuracy == 1.0
    assert e.lower is not None and e.lower < 0.9
