"""Review-queue ordering: a hybrid of uncertainty and diversity (active learning).

Start from the most uncertain item; then repeatedly take the not-yet-taken item maximising

    score_i = w * u'_i + (1 - w) * d'_i

where ``u_i`` is the item's uncertainty, ``d_i`` its Euclidean distance to the nearest item
already taken, and ``'`` is min-max normalisation over the items still to choose from (a
constant column normalises to 0). ``w = 0.6`` by default. This is the "uncertainty + diversity"
family of batch-mode selection (Brinker, ICML 2003, "Incorporating diversity in active learning
with support vector machines"; the distance term is the greedy k-center criterion of Sener &
Savarese, ICLR 2018, "Active learning for convolutional neural networks: a core-set approach").
Ties go to the lowest index.

:func:`select_diverse_uncertain` keeps each item's nearest-taken distance and updates it with
the distances to the one item just taken: ``O(n·d)`` per pick, ``O(k·n·d)`` in all.
:func:`select_diverse_uncertain_naive` recomputes every distance to every taken item each
round (``O(n·t·d)`` in round ``t``, ``O(n·k²·d)`` in all); it exists for tests and the benchmark.
Both use the same distance kernel, so their selections are identical, not merely close.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["select_diverse_uncertain", "select_diverse_uncertain_naive"]

FloatArray = NDArray[np.floating]


def _prepare(
    uncertainty: ArrayLike, embeddings: ArrayLike, k: int, w: float
) -> tuple[NDArray[np.float64], FloatArray, int]:
    u = np.asarray(uncertainty, dtype=np.float64)
    x = np.asarray(embeddings)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    x = np.ascontiguousarray(x)
    if u.ndim != 1 or x.ndim != 2 or x.shape[0] != u.shape[0]:
        raise ValueError(
            f"need uncertainty of shape (n,) and embeddings of shape (n, d); got {u.shape} "
            f"and {x.shape}"
        )
    if not np.all(np.isfinite(u)) or not np.all(np.isfinite(x)):
        raise ValueError("uncertainty and embeddings must be finite")
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"w must be in [0, 1], got {w}")
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}")
    return u, x, min(k, u.shape[0])


def _distances_to(x: FloatArray, sq_norms: FloatArray, j: int) -> NDArray[np.float64]:
    """Euclidean distances from every row of ``x`` to row ``j`` (``|a|² - 2a·b + |b|²``)."""
    sq = sq_norms - 2.0 * (x @ x[j]) + sq_norms[j]
    out: NDArray[np.float64] = np.sqrt(np.maximum(sq, 0.0)).astype(np.float64, copy=False)
    return out


def _minmax(values: NDArray[np.float64], mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Min-max normalise ``values`` over ``mask`` (a constant column becomes 0)."""
    lo = float(values[mask].min())
    span = float(values[mask].max()) - lo
    if span <= 0.0:
        return np.zeros_like(values)
    return (values - lo) / span


def _pick(
    u: NDArray[np.float64], nearest: NDArray[np.float64], free: NDArray[np.bool_], w: float
) -> int:
    score = w * _minmax(u, free) + (1.0 - w) * _minmax(nearest, free)
    score[~free] = -np.inf
    return int(np.argmax(score))


def select_diverse_uncertain(
    uncertainty: ArrayLike, embeddings: ArrayLike, k: int, *, w: float = 0.6
) -> list[int]:
    """Indices of ``k`` items in selection order (fast, incremental nearest distances).

    ``uncertainty``: shape ``(n,)``, higher means less sure (e.g. ``1 - confidence``).
    ``embeddings``: shape ``(n, d)``, float32 or float64 (float32 halves memory traffic).
    """
    u, x, k = _prepare(uncertainty, embeddings, k, w)
    if k == 0:
        return []
    sq_norms = np.einsum("ij,ij->i", x, x)
    free = np.ones(u.shape[0], dtype=bool)
    first = int(np.argmax(u))
    chosen = [first]
    free[first] = False
    nearest = _distances_to(x, sq_norms, first)
    while len(chosen) < k:
        j = _pick(u, nearest, free, w)
        chosen.append(j)
        free[j] = False
        np.minimum(nearest, _distances_to(x, sq_norms, j), out=nearest)
    return chosen


def select_diverse_uncertain_naive(
    uncertainty: ArrayLike, embeddings: ArrayLike, k: int, *, w: float = 0.6
) -> list[int]:
    """The same selection, recomputing every distance to every taken item each round."""
    u, x, k = _prepare(uncertainty, embeddings, k, w)
    if k == 0:
        return []
    sq_norms = np.einsum("ij,ij->i", x, x)
    free = np.ones(u.shape[0], dtype=bool)
    first = int(np.argmax(u))
    chosen = [first]
    free[first] = False
    while len(chosen) < k:
        nearest = np.full(u.shape[0], np.inf)
        for t in chosen:
            nearest = np.minimum(nearest, _distances_to(x, sq_norms, t))
        j = _pick(u, nearest, free, w)
        chosen.append(j)
        free[j] = False
    return chosen
