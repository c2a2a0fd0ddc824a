"""Percent agreement, Cohen's kappa and Fleiss' kappa: worked examples and sklearn."""

from __future__ import annotations

import doctest
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

import calibration.agreement as agreement_module
from calibration.agreement import (
    cohen_kappa,
    cohen_kappa_components,
    cohen_kappa_from_confusion,
    confusion_matrix,
    fleiss_kappa,
    fleiss_kappa_from_ratings,
    percent_agreement,
    percent_agreement_from_counts,
    rating_counts,
)
from calibration.krippendorff import krippendorff_alpha_from_counts

ANCHOR = [[42, 3, 1], [4, 38, 2], [2, 1, 27]]
SKLEARN_WEIGHTS = {"unweighted": None, "linear": "linear", "quadratic": "quadratic"}


def expand(confusion: list[list[int]]) -> tuple[list[int], list[int]]:
    """The two label vectors behind a confusion matrix."""
    a, b = [], []
    for i, row in enumerate(confusion):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def test_anchor_worked_example_to_three_decimals() -> None:
    c = cohen_kappa_components(ANCHOR)
    assert (round(c.observed, 3), round(c.chance, 3), round(c.kappa, 3)) == (0.892, 0.344, 0.835)
    assert c.n == 120
    # the terms by hand: p_o = 107/120, p_e = (46*48 + 44*42 + 30*30) / 120^2
    assert c.observed == pytest.approx(107 / 120, abs=1e-15)
    assert c.chance == pytest.approx((46 * 48 + 44 * 42 + 30 * 30) / 120**2, abs=1e-15)


@pytest.mark.parametrize("weights", ["unweighted", "linear", "quadratic"])
def test_anchor_matches_sklearn_on_expanded_vectors(weights: str) -> None:
    a, b = expand(ANCHOR)
    ours = cohen_kappa_from_confusion(ANCHOR, weights)  # type: ignore[arg-type]
    theirs = cohen_kappa_score(a, b, weights=SKLEARN_WEIGHTS[weights])
    assert abs(ours - theirs) < 1e-12
    assert abs(cohen_kappa(a, b, weights) - theirs) < 1e-12  # type: ignore[arg-type]


def test_small_hand_checked_kappa() -> None:
    a = ["A", "A", "B", "B"]
    b = ["A", "B", "B", "B"]
    # p_o = 3/4; marginals a: A .5 B .5, b: A .25 B .75 -> p_e = .125 + .375 = .5
    c = cohen_kappa_components(confusion_matrix(a, b))
    assert c.observed == 0.75 and c.chance == 0.5 and c.kappa == 0.5
    assert percent_agreement(a, b) == 0.75


def test_kappa_undefined_when_one_category_only() -> None:
    assert np.isnan(cohen_kappa(["A", "A"], ["A", "A"]))


def test_confusion_matrix_rejects_label_outside_categories() -> None:
    with pytest.raises(ValueError, match="not one of the categories"):
        confusion_matrix(["A", "C"], ["A", "A"], categories=["A", "B"])


labels = st.sampled_from(["A", "B", "tie", "both_bad"])
label_pairs = st.lists(st.tuples(labels, labels), min_size=2, max_size=60)


@given(label_pairs, st.sampled_from(["unweighted", "linear", "quadratic"]))
@settings(max_examples=150, deadline=None)
def test_kappa_equals_sklearn_and_is_symmetric(pairs: list[tuple[str, str]], weights: str) -> None:
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    cats = ["A", "B", "tie", "both_bad"]
    ours = cohen_kappa(a, b, weights, categories=cats)  # type: ignore[arg-type]
    swapped = cohen_kappa(b, a, weights, categories=cats)  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = cohen_kappa_score(a, b, labels=cats, weights=SKLEARN_WEIGHTS[weights])
    if np.isnan(ours):
        assert np.isnan(swapped)
    else:
        assert abs(ours - theirs) < 1e-12
        assert abs(ours - swapped) < 1e-12
        assert ours <= 1.0 + 1e-12


# Fleiss (1971) as reproduced in many texts: 10 items, 14 raters, 5 categories, kappa 0.210.
FLEISS_EXAMPLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_worked_example() -> None:
    assert round(fleiss_kappa(FLEISS_EXAMPLE), 3) == 0.210
    assert round(percent_agreement_from_counts(FLEISS_EXAMPLE), 3) == 0.378


def test_fleiss_with_two_raters_is_scotts_pi() -> None:
    a = ["A", "A", "B", "B", "tie", "A"]
    b = ["A", "B", "B", "B", "tie", "tie"]
    items = list(range(6)) * 2
    kappa = fleiss_kappa_from_ratings(items, a + b)
    # Scott's pi by hand: p_o = 4/6, pooled shares A 4/12, B 5/12, tie 3/12
    p_e = (4 / 12) ** 2 + (5 / 12) ** 2 + (3 / 12) ** 2
    assert kappa == pytest.approx((4 / 6 - p_e) / (1 - p_e), abs=1e-12)


def test_fleiss_refuses_unequal_rater_counts() -> None:
    with pytest.raises(ValueError, match="same number of raters"):
        fleiss_kappa([[2, 0], [1, 2]])


@given(
    st.integers(2, 6).flatmap(
        lambda m: st.lists(
            st.lists(st.integers(0, 3), min_size=m, max_size=m), min_size=2, max_size=40
        )
    )
)
@settings(max_examples=100, deadline=None)
def test_fleiss_and_alpha_agree_on_complete_data(ratings: list[list[int]]) -> None:
    """With m raters on every item, alpha = 1 - (1 - P-bar) / (1 - sum n_c(n_c-1)/(n(n-1)))."""
    counts = np.zeros((len(ratings), 4))
    for u, row in enumerate(ratings):
        for value in row:
            counts[u, value] += 1
    kappa = fleiss_kappa(counts)
    alpha = krippendorff_alpha_from_counts(counts)
    if np.isnan(kappa):
        assert np.isnan(alpha)
        return
    n_c = counts.sum(axis=0)
    n = n_c.sum()
    p_bar = percent_agreement_from_counts(counts)
    expected_alpha = 1 - (1 - p_bar) / (1 - (n_c * (n_c - 1)).sum() / (n * (n - 1)))
    assert alpha == pytest.approx(expected_alpha, abs=1e-12)
    p_e = ((n_c / n) ** 2).sum()
    assert kappa == pytest.approx((p_bar - p_e) / (1 - p_e), abs=1e-12)


def test_percent_agreement_from_counts_with_two_raters_is_the_plain_share() -> None:
    a = ["A", "B", "B", "tie"]
    b = ["A", "A", "B", "B"]
    counts = rating_counts([0, 1, 2, 3] * 2, a + b, ["A", "B", "tie"]).counts
    assert percent_agreement_from_counts(counts) == percent_agreement(a, b) == 0.5


def test_rating_counts_layout() -> None:
    rc = rating_counts(["x", "y", "x"], ["B", "A", "B"])
    assert rc.items == ["x", "y"] and rc.categories == ["A", "B"]
    assert rc.counts.tolist() == [[0, 2], [1, 0]]


def test_module_doctests() -> None:
    assert doctest.testmod(agreement_module).failed == 0
