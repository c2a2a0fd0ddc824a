"""Drift windows and the one-sided Fisher exact test, checked by hand."""

from __future__ import annotations

from math import comb

import pytest

from calibration.drift import drift_test, rate_windows, series_report


def _fisher_less_by_hand(r: int, n_recent: int, e: int, n_earlier: int) -> float:
    """P(X <= r) for X ~ hypergeometric: successes r + e drawn into a window of n_recent."""
    total, hits = n_recent + n_earlier, r + e
    denom = comb(total, n_recent)
    return sum(comb(hits, x) * comb(total - hits, n_recent - x) for x in range(0, r + 1)) / denom


def test_windows_count_back_from_the_newest() -> None:
    outcomes = [True, False, True, True, False, True, True]
    windows = rate_windows(outcomes, list(range(7)), 3)
    assert [(w.n, w.successes, w.start, w.end) for w in windows] == [
        (1, 1, 0, 0),
        (3, 2, 1, 3),
        (3, 2, 4, 6),
    ]
    with pytest.raises(ValueError):
        rate_windows(outcomes, list(range(6)), 3)


@pytest.mark.parametrize(("recent", "earlier"), [(2, 18), (5, 20), (9, 15), (10, 10)])
def test_p_value_is_the_hypergeometric_tail(recent: int, earlier: int) -> None:
    outcomes = [True] * earlier + [False] * (20 - earlier) + [True] * recent
    outcomes += [False] * (10 - recent)
    test = drift_test(outcomes, size=10)
    assert test is not None
    assert (test.recent_successes, test.earlier_successes) == (recent, earlier)
    assert test.p_value == pytest.approx(_fisher_less_by_hand(recent, 10, earlier, 20))
    assert test.alarm == (test.p_value < 0.05)


def test_a_drop_raises_the_alarm_and_a_steady_rate_does_not() -> None:
    dropped = drift_test([True] * 40 + [False] * 15 + [True] * 5, size=20)
    assert dropped is not None and dropped.alarm
    steady = drift_test([i % 10 != 0 for i in range(60)], size=20)
    assert steady is not None and not steady.alarm
    better = drift_test([False] * 20 + [True] * 20, size=20)  # one-sided: better is no alarm
    assert better is not None and not better.alarm and better.p_value == pytest.approx(1.0)


def test_too_little_data_runs_no_test() -> None:
    assert drift_test([True] * 39, size=20) is None
    doc = series_report([True] * 5, list(range(5)), size=20)
    assert doc["test"] is None and doc["rate"] == 1.0 and len(doc["windows"]) == 1
    with pytest.raises(ValueError):
        drift_test([True] * 40, size=20, alpha=0.0)
