"""Bradley-Terry strengths of k responses from their pairwise outcomes, with intervals.

The model (Bradley & Terry 1952): response ``i`` beats ``j`` with probability
``P(i > j) = g_i / (g_i + g_j)``, ``g_i = exp(theta_i) > 0``. The score reported is the
log-strength ``theta_i``.

**Fit.** The minorization-maximization (MM) iteration of Hunter (2004), "MM algorithms for
generalized Bradley-Terry models", *Annals of Statistics* 32(1), eq. (3)::

    g_i <- W_i / sum_{j != i} n_ij / (g_i + g_j)

where ``W_i`` is i's wins and ``n_ij`` the comparisons of i and j. Each step increases the
likelihood. **Ties** count as half a win to each side (the simple tie rule, not the
Rao-Kupper model). **Prior**: every response also plays ``prior`` virtual comparisons against
a virtual response of fixed strength ``g_0 = 1``, winning half of them (a weak, symmetric
prior; Hunter 2004 §5 and Caron & Doucet 2012 use the same device). Without it a response that
won every comparison has no finite maximum (``theta -> inf``) and one that was never compared
is undefined; with it both are finite (the second gets ``theta = 0``), the scale is pinned
(``g_0 = 1``, no normalisation needed) and the MM iteration converges from any start.

**Intervals.** Wald intervals from the observed Fisher information of the log-strengths
(Agresti, *Categorical Data Analysis*, 3rd ed. 2013, §11.6): with ``p_ij = P(i > j)`` the
information is ``I_ii = sum_j n_ij p_ij (1 - p_ij) + prior p_i0 (1 - p_i0)`` and
``I_ij = -n_ij p_ij (1 - p_ij)``; ``se_i = sqrt((I^-1)_ii)`` and the interval is
``theta_i +/- z se_i`` (``z = 1.96`` for 95%). The virtual comparisons make ``I`` invertible.
With the handful of comparisons a k-wise prompt has (6 pairs for 4 responses) the intervals
are wide; they say how much the order can be trusted.

>>> fit = BradleyTerry().fit(3, [(0, 1, 1.0), (0, 2, 1.0), (1, 2, 1.0)])
>>> [int(i) for i in fit.order_]
[0, 1, 2]
>>> bool(fit.scores_[0] > 0 > fit.scores_[2])
True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Outcome = tuple[int, int, float]
"""``(i, j, s)``: one comparison of response ``i`` with ``j``; ``s`` is i's share of the win
(1 when i won, 0 when j won, 0.5 for a tie)."""

__all__ = ["BradleyTerry", "Outcome"]


@dataclass
class BradleyTerry:
    """Bradley-Terry fit by Hunter's MM algorithm (see the module docstring).

    ``prior``: virtual comparisons of each response with a strength-1 reference (half won).
    ``z``: the normal quantile of the interval (1.96: 95%).
    After :meth:`fit`: ``scores_`` (log-strengths), ``lower_`` / ``upper_`` (interval),
    ``se_`` (standard errors), ``wins_`` / ``losses_`` / ``ties_`` / ``comparisons_`` (counts
    per response, ties counted apart from wins and losses), ``order_`` (indices, best first:
    by score, then wins, then index) and ``n_iter_``.
    """

    prior: float = 0.5
    z: float = 1.96
    tol: float = 1e-10
    max_iter: int = 10_000
    scores_: npt.NDArray[np.float64] = field(init=False, repr=False)
    se_: npt.NDArray[np.float64] = field(init=False, repr=False)
    lower_: npt.NDArray[np.float64] = field(init=False, repr=False)
    upper_: npt.NDArray[np.float64] = field(init=False, repr=False)
    wins_: npt.NDArray[np.int64] = field(init=False, repr=False)
    losses_: npt.NDArray[np.int64] = field(init=False, repr=False)
    ties_: npt.NDArray[np.int64] = field(init=False, repr=False)
    comparisons_: npt.NDArray[np.int64] = field(init=False, repr=False)
    order_: npt.NDArray[np.int64] = field(init=False, repr=False)
    n_iter_: int = field(init=False, default=0)

    def fit(self, k: int, outcomes: Iterable[Outcome]) -> BradleyTerry:
        """Fit ``k`` responses (indices ``0..k-1``) to ``outcomes``; returns ``self``."""
        if k < 1:
            raise ValueError("k must be at least 1")
        if self.prior <= 0:
            raise ValueError("prior must be positive (it keeps every strength finite)")
        won, games = self._tally(k, outcomes)
        strength = self._mm(won, games)
        self.scores_ = np.log(strength)
        self.se_ = self._standard_errors(strength, games)
        self.lower_ = self.scores_ - self.z * self.se_
        self.upper_ = self.scores_ + self.z * self.se_
        # equal strengths (ties, symmetric outcomes) must order alike whatever the rounding
        keys = [(-round(self.scores_[i], 9), -int(self.wins_[i]), i) for i in range(k)]
        self.order_ = np.array([i for *_, i in sorted(keys)], dtype=np.int64)
        return self

    def _tally(
        self, k: int, outcomes: Iterable[Outcome]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Wins ``W`` (ties as halves) and the symmetric comparison counts ``n``."""
        won = np.zeros(k)
        games = np.zeros((k, k))
        self.wins_, self.losses_, self.ties_ = (np.zeros(k, dtype=np.int64) for _ in range(3))
        for i, j, share in outcomes:
            if i == j or not (0 <= i < k and 0 <= j < k) or share not in (0.0, 0.5, 1.0):
                raise ValueError(f"bad comparison {(i, j, share)}")
            won[i] += share
            won[j] += 1.0 - share
            games[i, j] += 1
            games[j, i] += 1
            if share == 0.5:
                self.ties_[[i, j]] += 1
            else:
                winner, loser = (i, j) if share == 1.0 else (j, i)
                self.wins_[winner] += 1
                self.losses_[loser] += 1
        self.comparisons_ = games.sum(axis=1).astype(np.int64)
        return won, games

    def _mm(
        self, won: npt.NDArray[np.float64], games: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Hunter's MM update, with the virtual reference (strength 1) in every sum."""
        strength = np.ones(len(won))
        wins = won + self.prior / 2  # half of the virtual games won
        self.n_iter_ = self.max_iter
        for step in range(1, self.max_iter + 1):
            pair_sum = games / (strength[:, None] + strength[None, :])
            denominator = pair_sum.sum(axis=1) + self.prior / (strength + 1.0)
            updated = wins / denominator
            change = float(np.max(np.abs(np.log(updated) - np.log(strength))))
            strength = updated
            if change < self.tol:
                self.n_iter_ = step
                break
        return strength

    def _standard_errors(
        self, strength: npt.NDArray[np.float64], games: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Square roots of the diagonal of the inverse observed information (log scale)."""
        p = strength[:, None] / (strength[:, None] + strength[None, :])
        weight = games * p * (1.0 - p)
        p0 = strength / (strength + 1.0)
        info = -weight
        np.fill_diagonal(info, weight.sum(axis=1) + self.prior * p0 * (1.0 - p0))
        return np.sqrt(np.diag(np.linalg.inv(info)))
