"""Drift of a rate over time: windows of consecutive outcomes and a one-sided test of the last.

Input: outcomes (``True`` = right / agreed) in time order, with their times. Definitions:

* **Windows** hold ``size`` consecutive outcomes, counted back from the newest, so the most
  recent window is always full (when there are ``size`` outcomes) and only the oldest may be
  shorter. Counting outcomes, not days, gives every window the same evidence whatever the
  pace of work.
* **Drift test**: the most recent window against every earlier outcome, pooled. H0: the same
  success rate; H1: the recent rate is lower. One-sided Fisher exact test on the 2x2 table
  ``[[recent right, recent wrong], [earlier right, earlier wrong]]`` (conditional on the
  margins, hypergeometric; Fisher 1935, *The Design of Experiments*; ``scipy.stats.fisher_exact``
  with ``alternative="less"``). **Alarm** when ``p < alpha`` (default 0.05), tested only when the
  recent window is full and there are at least ``size`` earlier outcomes; otherwise no test.

A test is run per series at each look, so across many reviewers some false alarms at level
alpha are expected: an alarm asks for a look at the reviewer's recent answers, not a verdict.

Example::

    >>> test = drift_test([True] * 40 + [False] * 15 + [True] * 5, size=20)
    >>> test.alarm, round(test.p_value, 6) < 0.05
    (True, True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from scipy.stats import fisher_exact

__all__ = ["TEST_NAME", "DriftTest", "Window", "drift_test", "rate_windows", "series_report"]

T = TypeVar("T")
TEST_NAME = "one-sided Fisher exact test, last window vs all earlier outcomes"


@dataclass(frozen=True)
class Window:
    """``n`` consecutive outcomes, ``successes`` of them right, from ``start`` to ``end``."""

    index: int
    n: int
    successes: int
    start: Any
    end: Any

    @property
    def rate(self) -> float | None:
        """``successes / n`` (None when empty)."""
        return self.successes / self.n if self.n else None

    def to_json(self) -> dict[str, Any]:
        """A plain dict (times as ISO text when they have ``isoformat``)."""

        def when(t: Any) -> Any:
            return t.isoformat() if hasattr(t, "isoformat") else t

        return {
            "index": self.index,
            "n": self.n,
            "successes": self.successes,
            "rate": self.rate,
            "start": when(self.start),
            "end": when(self.end),
        }


@dataclass(frozen=True)
class DriftTest:
    """The last window against all earlier outcomes (see the module docstring)."""

    recent_n: int
    recent_successes: int
    earlier_n: int
    earlier_successes: int
    p_value: float
    alpha: float

    @property
    def alarm(self) -> bool:
        """True when the recent window is significantly worse (``p < alpha``)."""
        return self.p_value < self.alpha

    @property
    def recent_rate(self) -> float:
        return self.recent_successes / self.recent_n

    @property
    def earlier_rate(self) -> float:
        return self.earlier_successes / self.earlier_n

    def to_json(self) -> dict[str, Any]:
        """A plain dict."""
        return {
            "test": TEST_NAME,
            "alpha": self.alpha,
            "recent": {"n": self.recent_n, "successes": self.recent_successes},
            "earlier": {"n": self.earlier_n, "successes": self.earlier_successes},
            "recent_rate": self.recent_rate,
            "earlier_rate": self.earlier_rate,
            "p_value": self.p_value,
            "alarm": self.alarm,
        }


def rate_windows(outcomes: Sequence[bool], times: Sequence[T], size: int) -> list[Window]:
    """Windows of ``size`` consecutive outcomes counted back from the newest, oldest first.

    ``outcomes`` and ``times`` are parallel and in time order.
    """
    if size < 1:
        raise ValueError(f"window size must be at least 1, got {size}")
    if len(outcomes) != len(times):
        raise ValueError("outcomes and times must have the same length")
    n = len(outcomes)
    bounds = []
    end = n
    while end > 0:
        bounds.append((max(0, end - size), end))
        end -= size
    bounds.reverse()
    return [
        Window(i, hi - lo, sum(bool(x) for x in outcomes[lo:hi]), times[lo], times[hi - 1])
        for i, (lo, hi) in enumerate(bounds)
    ]


def drift_test(outcomes: Sequence[bool], *, size: int, alpha: float = 0.05) -> DriftTest | None:
    """Test the last ``size`` outcomes against the earlier ones; None without enough data."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if len(outcomes) < 2 * size:
        return None
    recent, earlier = outcomes[-size:], outcomes[:-size]
    r, e = sum(bool(x) for x in recent), sum(bool(x) for x in earlier)
    table = [[r, len(recent) - r], [e, len(earlier) - e]]
    _, p = fisher_exact(table, alternative="less")
    return DriftTest(len(recent), r, len(earlier), e, float(p), alpha)


def series_report(
    outcomes: Sequence[bool], times: Sequence[T], *, size: int, alpha: float = 0.05
) -> dict[str, Any]:
    """``{"n", "successes", "rate", "windows", "test"}`` of one series (``test`` None when
    there is too little data)."""
    test = drift_test(outcomes, size=size, alpha=alpha)
    n = len(outcomes)
    hits = sum(bool(x) for x in outcomes)
    return {
        "n": n,
        "successes": hits,
        "rate": hits / n if n else None,
        "windows": [w.to_json() for w in rate_windows(outcomes, times, size)],
        "test": test.to_json() if test is not None else None,
    }
