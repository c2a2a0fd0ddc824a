"""Hybrid uncertainty/diversity ordering: incremental equals naive equals an independent loop."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from routing.active_selection import select_diverse_uncertain, select_diverse_uncertain_naive


def brute_force(u: np.ndarray, x: np.ndarray, k: int, w: float) -> list[int]:
    """Independent implementation: scipy's cdist, normalisation over the remaining items."""
    chosen = [int(np.argmax(u))]
    while len(chosen) < k:
        free = np.setdiff1d(np.arange(len(u)), chosen)
        d = cdist(x[free], x[chosen]).min(axis=1)
        uu = u[free]

        def norm(v: np.ndarray) -> np.ndarray:
            span = v.max() - v.min()
            return (v - v.min()) / span if span > 0 else np.zeros_like(v)

        score = w * norm(uu) + (1 - w) * norm(d)
        chosen.append(int(free[np.argmax(score)]))
    return chosen


@pytest.mark.parametrize("seed", range(5))
def test_incremental_matches_naive_and_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, dim, k = 300, 16, 40
    u = rng.random(n)
    x = rng.standard_normal((n, dim))
    fast = select_diverse_uncertain(u, x, k)
    assert fast == select_diverse_uncertain_naive(u, x, k)
    assert fast == brute_force(u, x, k, 0.6)
    assert len(set(fast)) == k


def test_float32_embeddings_match_naive() -> None:
    rng = np.random.default_rng(9)
    u = rng.random(500)
    x = rng.standard_normal((500, 32)).astype(np.float32)
    assert select_diverse_uncertain(u, x, 30) == select_diverse_uncertain_naive(u, x, 30)


def test_starts_from_the_most_uncertain() -> None:
    u = np.array([0.1, 0.9, 0.3])
    x = np.eye(3)
    assert select_diverse_uncertain(u, x, 1) == [1]


def test_w_one_is_pure_uncertainty_order() -> None:
    rng = np.random.default_rng(0)
    u = rng.random(50)
    x = rng.standard_normal((50, 4))
    assert select_diverse_uncertain(u, x, 10, w=1.0) == list(np.argsort(-u)[:10])


def test_w_zero_is_farthest_point_traversal() -> None:
    # points on a line at 0, 1, 2, 10; all equally uncertain except the first
    x = np.array([[0.0], [1.0], [2.0], [10.0]])
    u = np.array([1.0, 0.0, 0.0, 0.0])
    assert select_diverse_uncertain(u, x, 4, w=0.0) == [0, 3, 2, 1]
    # with u decisive, the near but uncertain item wins over the far one
    u2 = np.array([1.0, 0.95, 0.0, 0.0])
    assert select_diverse_uncertain(u2, x, 2, w=0.9)[1] == 1


def test_k_larger_than_n_and_zero() -> None:
    u = np.array([0.2, 0.5])
    x = np.array([[0.0, 1.0], [1.0, 0.0]])
    assert sorted(select_diverse_uncertain(u, x, 5)) == [0, 1]
    assert select_diverse_uncertain(u, x, 0) == []


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="shape"):
        select_diverse_uncertain(np.zeros(3), np.zeros((4, 2)), 2)
    with pytest.raises(ValueError, match="w must"):
        select_diverse_uncertain(np.zeros(3), np.zeros((3, 2)), 2, w=1.5)
