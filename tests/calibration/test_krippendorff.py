"""Krippendorff's alpha against the published example, the ``krippendorff`` package and real data."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import calibration.krippendorff as kmodule
from calibration.krippendorff import (
    coincidence_matrix,
    krippendorff_alpha,
    krippendorff_alpha_from_counts,
    krippendorff_alpha_from_ratings,
    reliability_counts,
)

nan = np.nan
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section A.
PUBLISHED = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
]
LEVELS = ("nominal", "ordinal", "interval", "ratio")


def test_published_example() -> None:
    assert round(krippendorff_alpha(PUBLISHED, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(PUBLISHED, "interval"), 3) == 0.849


def test_coincidence_matrix_by_hand() -> None:
    # one item, three raters: A, A, B -> pairs (A,A) x2, (A,B) x2, (B,A) x2, each / (m-1)=2
    o = coincidence_matrix([[2, 1]])
    assert o.tolist() == [[1.0, 1.0], [1.0, 0.0]]


@pytest.mark.parametrize("level", LEVELS)
def test_published_example_matches_package(level: str) -> None:
    ours = krippendorff_alpha(PUBLISHED, level)  # type: ignore[arg-type]
    assert abs(ours - krippendorff.alpha(PUBLISHED, level_of_measurement=level)) < 1e-9


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
@pytest.mark.parametrize(
    ("raters", "items", "categories", "missing", "seed"),
    [(2, 50, 2, 0.0, 0), (3, 200, 4, 0.2, 1), (5, 1000, 5, 0.4, 2), (12, 300, 40, 0.7, 3)],
)
def test_random_data_matches_package(
    level: str, raters: int, items: int, categories: int, missing: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, categories, size=items)
    noise = rng.integers(0, categories, size=(raters, items))
    data = np.where(rng.random((raters, items)) < 0.6, truth, noise).astype(float) * 1.5 - 2
    data[rng.random(data.shape) < missing] = nan
    ours = krippendorff_alpha(data, level)  # type: ignore[arg-type]
    theirs = krippendorff.alpha(data, level_of_measurement=level)
    assert abs(ours - theirs) < 1e-9


def test_value_domain_order_matters_for_ordinal_like_package() -> None:
    domain = [3.0, 1.0, 2.0]
    data = [[1, 2, 3, 1], [2, 2, 3, 3]]
    ours = krippendorff_alpha(data, "ordinal", value_domain=domain)
    theirs = krippendorff.alpha(data, level_of_measurement="ordinal", value_domain=domain)
    assert abs(ours - theirs) < 1e-12
    assert abs(ours - krippendorff_alpha(data, "ordinal")) > 1e-3


def test_value_outside_domain_raises() -> None:
    with pytest.raises(ValueError, match="not in the value domain"):
        krippendorff_alpha([[1, 2], [1, 7]], value_domain=[1, 2])


def test_undefined_alpha_is_nan() -> None:
    assert np.isnan(krippendorff_alpha([[1, 1, 1], [1, 1, nan]]))  # one value only
    assert np.isnan(krippendorff_alpha([[1, nan], [nan, 2]]))  # nothing pairable


def test_perfect_agreement_is_one() -> None:
    assert krippendorff_alpha([[1, 2, 3, nan], [1, 2, 3, 4]]) == 1.0


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 6), st.integers(2, 30)),
        elements=st.sampled_from([0.0, 1.0, 2.0, 3.0, nan]),
    ),
    st.randoms(use_true_random=False),
    st.sampled_from(["nominal", "ordinal", "interval"]),
)
@settings(max_examples=150, deadline=None)
def test_invariant_to_annotator_and_item_order(data, random, level) -> None:  # type: ignore[no-untyped-def]
    base = krippendorff_alpha(data, level)
    rows = list(range(data.shape[0]))
    cols = list(range(data.shape[1]))
    random.shuffle(rows)
    random.shuffle(cols)
    shuffled = krippendorff_alpha(data[rows][:, cols], level)
    if np.isnan(base):
        assert np.isnan(shuffled)
    else:
        assert shuffled == pytest.approx(base, abs=1e-12)
        assert base <= 1.0 + 1e-12
        try:
            theirs = krippendorff.alpha(data, level_of_measurement=level)
        except ValueError:  # the package refuses a one-value domain
            return
        assert abs(base - theirs) < 1e-9


def test_long_format_equals_matrix() -> None:
    items, labels = [], []
    for row in PUBLISHED:
        for u, value in enumerate(row):
            if not np.isnan(value):
                items.append(u)
                labels.append(value)
    for level in ("nominal", "interval"):
        assert krippendorff_alpha_from_ratings(items, labels, level) == pytest.approx(
            krippendorff_alpha(PUBLISHED, level), abs=1e-12
        )
    with pytest.raises(ValueError, match="numeric labels"):
        krippendorff_alpha_from_ratings([0, 0], ["A", "B"], "interval")


def test_counts_and_values_roundtrip() -> None:
    counts, values = reliability_counts(PUBLISHED)
    assert values.tolist() == [1, 2, 3, 4, 5]
    assert counts.sum() == np.count_nonzero(~np.isnan(np.asarray(PUBLISHED)))
    assert krippendorff_alpha_from_counts(counts, "interval", values) == pytest.approx(
        krippendorff_alpha(PUBLISHED, "interval"), abs=1e-15
    )


def _matrix(path: Path, codes: dict[str, float]) -> np.ndarray:
    """raters x items from a labels.jsonl (the last label of a repeated (pair, annotator))."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    people = sorted({r["annotator"] for r in rows})
    items = sorted({r["pair_id"] for r in rows})
    pi, ii = {p: i for i, p in enumerate(people)}, {t: i for i, t in enumerate(items)}
    data = np.full((len(people), len(items)), nan)
    for r in rows:
        data[pi[r["annotator"]], ii[r["pair_id"]]] = codes[r["label"]]
    return data


CODES = {"A": 0.0, "tie": 1.0, "B": 2.0, "both_bad": 3.0}


@pytest.mark.parametrize("dataset", ["pandalm", "llmfao"])
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_real_data_matches_package(shared_data: Path, dataset: str, level: str) -> None:
    data = _matrix(shared_data / dataset / "labels.jsonl", CODES)
    if dataset == "llmfao":
        assert data.shape[0] == 124  # sparse: 124 workers, most cells missing
        assert np.isnan(data).mean() > 0.9
    ours = krippendorff_alpha(data, level)  # type: ignore[arg-type]
    theirs = krippendorff.alpha(data, level_of_measurement=level)
    assert abs(ours - theirs) < 1e-9
    assert 0.0 < ours < 1.0


def test_module_doctests() -> None:
    assert doctest.testmod(kmodule).failed == 0
