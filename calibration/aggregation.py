"""Majority vote with an explicit policy for ties.

When two or more labels share the highest vote count, the ``tie_policy`` decides:

* ``"abstain"``: no label (``None``); the item needs another vote or an adjudicator;
* ``"tie_label"``: the label ``tie_label`` (default ``"tie"``: in pairwise preference data a
  split vote between A and B is itself evidence that the responses are equally good);
* ``"random"``: one of the tied labels uniformly at random, from a seeded generator.

Example::

    >>> majority_vote(["x", "x", "x", "y", "y"], ["A", "A", "B", "A", "B"])
    {'x': 'A', 'y': None}
    >>> majority_vote(["y", "y"], ["A", "B"], tie_policy="tie_label")
    {'y': 'tie'}
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibration.agreement import rating_counts

TiePolicy = Literal["abstain", "tie_label", "random"]
TIE_POLICIES: tuple[TiePolicy, ...] = ("abstain", "tie_label", "random")
NO_MAJORITY = -1
"""What :func:`majority_vote_counts` returns for an unresolved tie or an item without votes."""

__all__ = [
    "NO_MAJORITY",
    "TIE_POLICIES",
    "TiePolicy",
    "majority_vote",
    "majority_vote_counts",
]


def majority_vote_counts(
    counts: ArrayLike, *, random_ties: bool = False, seed: int | None = None
) -> NDArray[np.int64]:
    """Winning category index per row of an ``items x categories`` count (or weight) matrix.

    Rows whose maximum is shared by several categories get :data:`NO_MAJORITY`, unless
    ``random_ties`` is set: then one of the tied categories is drawn uniformly (seeded).
    Rows without votes always get :data:`NO_MAJORITY`.
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"counts must be items x categories, got shape {c.shape}")
    if c.shape[1] == 0:
        return np.full(c.shape[0], NO_MAJORITY, dtype=np.int64)
    top = c.max(axis=1, keepdims=True)
    is_top = (c == top) & (top > 0)
    n_top = is_top.sum(axis=1)
    winner = np.where(n_top == 1, is_top.argmax(axis=1), NO_MAJORITY).astype(np.int64)
    if random_ties:
        tied = np.flatnonzero(n_top > 1)
        if tied.size:
            rng = np.random.default_rng(seed)
            # pick the j-th tied category with j uniform in 0..n_top-1
            pick = (rng.random(tied.size) * n_top[tied]).astype(np.int64)
            rank = np.cumsum(is_top[tied], axis=1) - 1
            winner[tied] = ((rank == pick[:, None]) & is_top[tied]).argmax(axis=1)
    return winner


def majority_vote(
    items: Sequence[Hashable],
    labels: Sequence[Hashable],
    *,
    tie_policy: TiePolicy = "abstain",
    tie_label: Hashable = "tie",
    seed: int | None = None,
) -> dict[Hashable, Hashable | None]:
    """The most frequent label of every item, ties resolved by ``tie_policy``.

    Args:
        items: item id of each vote.
        labels: label of each vote (parallel to ``items``).
        tie_policy: ``"abstain"`` -> ``None``; ``"tie_label"`` -> ``tie_label``;
            ``"random"`` -> one of the tied labels, drawn with ``seed``.
        tie_label: the label given to tied items under ``"tie_label"``.
        seed: seed of the generator used by ``"random"``.

    Returns:
        ``{item: label or None}`` in first-seen item order.
    """
    if tie_policy not in TIE_POLICIES:
        raise ValueError(f"tie_policy must be one of {TIE_POLICIES}, not {tie_policy!r}")
    rc = rating_counts(items, labels)
    winner = majority_vote_counts(rc.counts, random_ties=tie_policy == "random", seed=seed)
    unresolved: Hashable | None = tie_label if tie_policy == "tie_label" else None
    return {
        item: (rc.categories[w] if w != NO_MAJORITY else unresolved)
        for item, w in zip(rc.items, winner.tolist(), strict=True)
    }
