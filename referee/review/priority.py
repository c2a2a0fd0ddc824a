"""Priority order of a review queue: the hybrid active-learning selection over embeddings.

The selection is :func:`routing.active_selection.select_diverse_uncertain` and the embeddings
come from :func:`routing.embeddings.default_embedder` (MiniLM, TF-IDF fallback; also when MiniLM
is installed but fails to load). This module turns queue items into their inputs (pair text ->
embedding, decision confidence -> uncertainty) and the selection into a full order.

Uncertainty is ``1 - confidence`` (the policy's calibrated probability that the AI label is
right); an item without a confidence counts as fully uncertain (1.0).

Cost: the hybrid selection orders the first ``budget`` items (``O(budget * n * d)``); items past
the budget follow by uncertainty, most uncertain first. Ranks are computed once per routing and
stored on the queue items (:mod:`referee.review.queue_build`), so serving an item is one
indexed query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from routing.active_selection import select_diverse_uncertain
from routing.embeddings import Embedder, EmbeddingUnavailable, TfidfEmbedder, default_embedder
from routing.embeddings import pair_text as item_text

SelectFn = Callable[[NDArray[np.float64], NDArray[np.floating], int, float], list[int]]
"""(uncertainty n, embeddings n x d, how many to take, weight w) -> chosen indices in order."""


def hybrid_select(
    uncertainty: NDArray[np.float64], embeddings: NDArray[np.floating], k: int, w: float
) -> list[int]:
    """routing's incremental uncertainty + diversity selection (positional ``w``)."""
    return select_diverse_uncertain(uncertainty, embeddings, k, w=w)


def uncertainty_of(confidence: float | None) -> float:
    """``1 - confidence`` clipped to [0, 1]; 1.0 when the decision carries no confidence."""
    if confidence is None:
        return 1.0
    return float(min(1.0, max(0.0, 1.0 - confidence)))


def embed_texts(texts: Sequence[str], embedder: Embedder | None = None) -> NDArray[np.floating]:
    """Embeddings of ``texts`` by ``embedder`` (default: routing's), TF-IDF if MiniLM fails."""
    chosen = embedder if embedder is not None else default_embedder()
    try:
        return chosen.embed(list(texts))
    except (EmbeddingUnavailable, ImportError, OSError):
        if embedder is not None:
            raise
        return TfidfEmbedder().embed(list(texts))


def priority_order(
    texts: Sequence[str],
    uncertainty: Sequence[float],
    *,
    embedder: Embedder | None = None,
    weight: float = 0.6,
    budget: int = 1000,
    select: SelectFn = hybrid_select,
) -> list[int]:
    """A permutation of ``range(len(texts))``: the order in which to serve the items.

    The first ``min(budget, n)`` come from the hybrid selection (most uncertain first, then the
    best ``w*uncertainty + (1 - w)*distance to the nearest chosen``, both min-max normalised);
    the rest by decreasing uncertainty, ties by index.
    """
    n = len(texts)
    if n != len(uncertainty):
        raise ValueError("texts and uncertainty must have the same length")
    if n == 0:
        return []
    unc = np.asarray(uncertainty, dtype=np.float64)
    take = min(max(budget, 0), n)
    chosen: list[int] = []
    if take > 0:
        chosen = [int(i) for i in select(unc, embed_texts(texts, embedder), take, weight)]
    seen = set(chosen)
    rest = sorted((i for i in range(n) if i not in seen), key=lambda i: (-unc[i], i))
    return chosen + rest


__all__ = [
    "Embedder",
    "SelectFn",
    "embed_texts",
    "hybrid_select",
    "item_text",
    "priority_order",
    "uncertainty_of",
]
