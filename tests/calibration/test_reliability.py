from __future__ import annotations

import pytest

from calibration.reliability import (
    brier_score,
    expected_calibration_error,
    reliability,
    reliability_bins,
)


def test_bins_ece_and_brier_by_hand() -> None:
    p = [0.95, 0.95, 0.55, 0.55, 1.0]
    y = [True, False, True, True, True]
    bins = reliability_bins(p, y, bins=10)
    # bin [0.5, 0.6): two items, confidence 0.55, accuracy 1.0; bin [0.9, 1.0]: three items
    assert [(b["lo"], b["count"]) for b in bins] == [(0.5, 2), (0.9, 3)]
    assert bins[1]["confidence"] == pytest.approx((0.95 + 0.95 + 1.0) / 3)
    assert bins[1]["accuracy"] == pytest.approx(2 / 3)
    ece = 2 / 5 * abs(1.0 - 0.55) + 3 / 5 * abs(2 / 3 - 2.9 / 3)
    assert expected_calibration_error(p, y) == pytest.approx(ece)
    brier = (0.05**2 + 0.95**2 + 0.45**2 + 0.45**2 + 0.0) / 5
    assert brier_score(p, y) == pytest.approx(brier)
    doc = reliability(p, y)
    assert (
        doc["n"] == 5 and doc["ece"] == pytest.approx(ece) and doc["brier"] == pytest.approx(brier)
    )


def test_perfectly_calibrated_forecast_has_zero_ece() -> None:
    p = [0.25] * 4 + [0.75] * 4
    y = [True, False, False, False, True, True, True, False]
    assert expected_calibration_error(p, y) == pytest.approx(0.0)


def test_bad_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="outcomes"):
        brier_score([0.5], [True, False])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        reliability_bins([1.5], [True])
    assert expected_calibration_error([], []) == 0.0
