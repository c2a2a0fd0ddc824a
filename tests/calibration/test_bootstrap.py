"""Percentile bootstrap over items."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import calibration.bootstrap as boot_module
from calibration.agreement import percent_agreement_from_counts
from calibration.bootstrap import bootstrap_ci
from calibration.krippendorff import krippendorff_alpha_from_counts


def test_seeded_and_brackets_the_estimate() -> None:
    rng = np.random.default_rng(3)
    counts = rng.multinomial(3, [0.6, 0.3, 0.1], size=300)
    a = bootstrap_ci(counts, krippendorff_alpha_from_counts, n_resamples=300, seed=5)
    b = bootstrap_ci(counts, krippendorff_alpha_from_counts, n_resamples=300, seed=5)
    c = bootstrap_ci(counts, krippendorff_alpha_from_counts, n_resamples=300, seed=6)
    assert a == b and a != c
    assert a.low <= a.estimate <= a.high
    assert a.estimate == krippendorff_alpha_from_counts(counts)
    assert a.n_valid == 300


def test_mean_interval_matches_normal_theory() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(10.0, 2.0, size=2000)
    ci = bootstrap_ci(x, lambda v: float(np.mean(v)), n_resamples=2000, confidence=0.9)
    half = 1.645 * x.std(ddof=1) / np.sqrt(x.size)
    assert ci.high - ci.low == pytest.approx(2 * half, rel=0.1)
    assert ci.as_dict()["confidence"] == 0.9


def test_undefined_resamples_are_dropped_and_counted() -> None:
    counts = np.array([[2, 0], [2, 0], [0, 2]])  # some resamples use one category only
    ci = bootstrap_ci(counts, krippendorff_alpha_from_counts, n_resamples=200, seed=0)
    assert 0 < ci.n_valid < 200
    all_same = bootstrap_ci(np.array([[2, 0]] * 4), krippendorff_alpha_from_counts, seed=0)
    assert all_same.n_valid == 0 and all_same.as_dict()["low"] is None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="confidence"):
        bootstrap_ci([1.0], np.mean, confidence=1.0)  # type: ignore[arg-type]
    empty = bootstrap_ci(np.zeros((0, 2)), percent_agreement_from_counts)
    assert np.isnan(empty.low)


def test_module_doctests() -> None:
    assert doctest.testmod(boot_module).failed == 0
