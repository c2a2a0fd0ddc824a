"""Bradley-Terry by Hunter's MM algorithm: hand-checkable cases, recovery of known strengths, and
agreement with an independent fit (scipy's optimiser on the same penalised likelihood)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from calibration.bradley_terry import BradleyTerry, Outcome


def _neg_log_likelihood(theta: np.ndarray, outcomes: list[Outcome], prior: float) -> float:
    """The same model written out directly: outcomes plus ``prior`` half-won virtual games
    against a strength-1 (theta 0) reference."""
    total = 0.0
    for i, j, share in outcomes:
        d = theta[i] - theta[j]
        total += share * np.logaddexp(0, -d) + (1 - share) * np.logaddexp(0, d)
    total += prior * 0.5 * np.sum(np.logaddexp(0, -theta) + np.logaddexp(0, theta))
    return float(total)


def test_two_responses_by_hand() -> None:
    # 3 wins to 1 with prior 0.5: W = 3.25 / 1.25 against the reference; symmetric solution
    fit = BradleyTerry().fit(2, [(0, 1, 1.0)] * 3 + [(0, 1, 0.0)])
    assert list(fit.order_) == [0, 1]
    assert fit.scores_[0] == pytest.approx(-fit.scores_[1])
    assert (fit.wins_.tolist(), fit.losses_.tolist(), fit.comparisons_.tolist()) == (
        [3, 1], [1, 3], [4, 4],
    )  # fmt: skip
    assert fit.lower_[0] < fit.scores_[0] < fit.upper_[0]


def test_matches_an_independent_optimiser_of_the_same_likelihood() -> None:
    outcomes: list[Outcome] = [(0, 1, 1.0), (0, 2, 0.5), (1, 2, 0.0), (2, 3, 1.0), (3, 0, 0.0),
                               (1, 3, 1.0), (0, 1, 0.0), (2, 0, 0.0)]  # fmt: skip
    fit = BradleyTerry(prior=0.5, tol=1e-13).fit(4, outcomes)
    best = minimize(_neg_log_likelihood, np.zeros(4), args=(outcomes, 0.5), method="BFGS",
                    options={"gtol": 1e-10})  # fmt: skip
    np.testing.assert_allclose(fit.scores_, best.x, atol=1e-5)
    # the observed information is the Hessian of the negative log-likelihood: check it
    # against finite differences of the independent function
    h, eps = np.zeros((4, 4)), 1e-4
    for a in range(4):
        for b in range(4):
            e_a, e_b = np.eye(4)[a] * eps, np.eye(4)[b] * eps
            f = lambda t: _neg_log_likelihood(t, outcomes, 0.5)  # noqa: E731
            h[a, b] = (f(best.x + e_a + e_b) - f(best.x + e_a - e_b) - f(best.x - e_a + e_b)
                       + f(best.x - e_a - e_b)) / (4 * eps * eps)  # fmt: skip
    np.testing.assert_allclose(fit.se_, np.sqrt(np.diag(np.linalg.inv(h))), rtol=1e-3)


def test_recovers_the_order_of_known_strengths() -> None:
    rng = np.random.default_rng(7)
    truth = np.array([1.5, 0.8, 0.0, -0.7, -1.6])  # log-strengths, best first
    outcomes: list[Outcome] = []
    for _ in range(60):
        for i in range(5):
            for j in range(i + 1, 5):
                p = 1 / (1 + np.exp(truth[j] - truth[i]))
                outcomes.append((i, j, 1.0 if rng.random() < p else 0.0))
    fit = BradleyTerry().fit(5, outcomes)
    assert list(fit.order_) == [0, 1, 2, 3, 4]
    centred = fit.scores_ - fit.scores_.mean()
    np.testing.assert_allclose(centred, truth - truth.mean(), atol=0.3)
    covered = (fit.lower_ - fit.scores_.mean() <= truth - truth.mean()) & (
        truth - truth.mean() <= fit.upper_ - fit.scores_.mean()
    )
    assert covered.sum() >= 4  # 95% intervals cover (nearly) every true strength


def test_a_response_that_beat_every_other_is_first_and_finite() -> None:
    outcomes: list[Outcome] = [(3, 0, 1.0), (3, 1, 1.0), (2, 3, 0.0), (0, 1, 1.0), (1, 2, 0.5)]
    fit = BradleyTerry().fit(4, outcomes)
    assert fit.order_[0] == 3
    assert np.isfinite(fit.scores_).all() and np.isfinite(fit.upper_).all()
    assert fit.order_[-1] in (1, 2) and fit.ties_.tolist() == [0, 1, 1, 0]


def test_ties_are_half_wins_and_all_ties_leave_everyone_equal() -> None:
    fit = BradleyTerry().fit(3, [(0, 1, 0.5), (1, 2, 0.5), (0, 2, 0.5)])
    np.testing.assert_allclose(fit.scores_, 0.0, atol=1e-9)
    assert list(fit.order_) == [0, 1, 2]  # equal scores: by wins, then index
    assert fit.ties_.tolist() == [2, 2, 2] and fit.wins_.tolist() == [0, 0, 0]


def test_a_response_never_compared_sits_at_the_reference_with_a_wide_interval() -> None:
    fit = BradleyTerry().fit(3, [(0, 1, 1.0)])
    assert fit.scores_[2] == pytest.approx(0.0)
    assert fit.upper_[2] - fit.lower_[2] > fit.upper_[0] - fit.lower_[0]
    assert fit.comparisons_.tolist() == [1, 1, 0]


@pytest.mark.parametrize("bad", [(0, 0, 1.0), (0, 3, 1.0), (0, 1, 0.3)])
def test_refuses_a_comparison_that_is_not_one(bad: Outcome) -> None:
    with pytest.raises(ValueError, match="bad comparison"):
        BradleyTerry().fit(3, [bad])
