"""Agreement between raters: percent agreement, Cohen's kappa (weighted) and Fleiss' kappa.

Three shapes of data appear here:

* two label vectors ``a`` and ``b`` (rater 1 and rater 2 on the same items), or their
  ``K x K`` confusion matrix ``C[i, j]`` = number of items rater 1 put in category ``i`` and
  rater 2 in category ``j``;
* an ``items x categories`` count matrix ``N[u, c]`` = number of raters who put item ``u``
  in category ``c`` (Fleiss' kappa, multi-rater percent agreement);
* long-format ratings: parallel sequences of item ids and labels, turned into counts by
  :func:`rating_counts`.

Every chance-corrected coefficient has the form ``(p_o - p_e) / (1 - p_e)``; the observed and
chance agreements are exposed (:func:`cohen_kappa_components`) so that worked examples can be
checked term by term. Example (ANCHORS.md)::

    >>> c = cohen_kappa_components([[42, 3, 1], [4, 38, 2], [2, 1, 27]])
    >>> round(c.observed, 3), round(c.chance, 3), round(c.kappa, 3)
    (0.892, 0.344, 0.835)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Weighting = Literal["unweighted", "linear", "quadratic"]

__all__ = [
    "KappaComponents",
    "RatingCounts",
    "Weighting",
    "cohen_kappa",
    "cohen_kappa_components",
    "cohen_kappa_from_confusion",
    "confusion_matrix",
    "disagreement_weights",
    "fleiss_kappa",
    "fleiss_kappa_from_ratings",
    "percent_agreement",
    "percent_agreement_from_counts",
    "rating_counts",
]


@dataclass(frozen=True)
class KappaComponents:
    """Observed agreement ``p_o``, chance agreement ``p_e`` and ``kappa = (p_o-p_e)/(1-p_e)``.

    For weighted kappa, ``observed = 1 - sum(w * P_o)`` and ``chance = 1 - sum(w * P_e)`` with
    disagreement weights ``w`` scaled to a maximum of 1 (so the unweighted case is the usual one).
    ``kappa`` is NaN when ``chance == 1`` (both raters used one and the same category only).
    """

    observed: float
    chance: float
    kappa: float
    n: int


@dataclass(frozen=True)
class RatingCounts:
    """An ``items x categories`` count matrix with the item ids and categories of its axes."""

    counts: NDArray[np.int64]
    items: list[Hashable]
    categories: list[Hashable]


def confusion_matrix(
    a: Sequence[Hashable] | ArrayLike,
    b: Sequence[Hashable] | ArrayLike,
    categories: Sequence[Hashable] | None = None,
) -> NDArray[np.int64]:
    """The ``K x K`` table ``C[i, j]`` = #items with ``a == cats[i]`` and ``b == cats[j]``.

    ``categories`` fixes the order (needed for weighted kappa, where order matters); by default
    the sorted union of the labels in ``a`` and ``b``. Labels outside ``categories`` raise.
    """
    a_arr, b_arr = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if a_arr.shape != b_arr.shape or a_arr.ndim != 1:
        raise ValueError(
            f"a and b must be 1-d and of equal length (got {a_arr.shape} and {b_arr.shape})"
        )
    cats = list(categories) if categories is not None else sorted(set(a_arr) | set(b_arr))
    index = {c: i for i, c in enumerate(cats)}
    try:
        ia = np.fromiter((index[x] for x in a_arr), dtype=np.int64, count=a_arr.size)
        ib = np.fromiter((index[x] for x in b_arr), dtype=np.int64, count=b_arr.size)
    except KeyError as exc:
        raise ValueError(f"label {exc.args[0]!r} is not one of the categories {cats}") from exc
    k = len(cats)
    return np.bincount(ia * k + ib, minlength=k * k).reshape(k, k).astype(np.int64)


def disagreement_weights(k: int, weights: Weighting = "unweighted") -> NDArray[np.float64]:
    """Disagreement weights ``w[i, j]`` for ordered categories ``0..k-1``, scaled to max 1.

    unweighted: ``[i != j]``; linear: ``|i - j|``; quadratic: ``(i - j)^2`` (Cohen 1968,
    "Weighted kappa", Psychological Bulletin 70(4)). Scaling does not change kappa.
    """
    idx = np.arange(k)
    diff = np.abs(idx[:, None] - idx[None, :]).astype(np.float64)
    if weights == "unweighted":
        w = (diff > 0).astype(np.float64)
    elif weights == "linear":
        w = diff
    elif weights == "quadratic":
        w = diff**2
    else:
        raise ValueError(f"weights must be 'unweighted', 'linear' or 'quadratic', not {weights!r}")
    top = float(w.max()) if k > 1 else 1.0
    scaled: NDArray[np.float64] = w / top
    return scaled


def cohen_kappa_components(
    confusion: ArrayLike, weights: Weighting = "unweighted"
) -> KappaComponents:
    """Cohen's kappa from a ``K x K`` confusion matrix, with its observed and chance agreement.

    ``P_o = C / n``; ``P_e = outer(row marginals, column marginals) / n^2``;
    ``p_o = 1 - sum(w P_o)``, ``p_e = 1 - sum(w P_e)``, ``kappa = (p_o - p_e) / (1 - p_e)``.
    Source: Cohen (1960), Educational and Psychological Measurement 20(1); weighted form
    Cohen (1968). Equal to ``sklearn.metrics.cohen_kappa_score`` on the expanded vectors.
    """
    c = np.asarray(confusion, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"confusion must be a square matrix, got shape {c.shape}")
    if (c < 0).any():
        raise ValueError("confusion counts must be non-negative")
    n = float(c.sum())
    if n == 0:
        return KappaComponents(float("nan"), float("nan"), float("nan"), 0)
    w = disagreement_weights(c.shape[0], weights)
    p_obs = c / n
    p_exp = np.outer(c.sum(axis=1), c.sum(axis=0)) / (n * n)
    observed = 1.0 - float((w * p_obs).sum())
    chance = 1.0 - float((w * p_exp).sum())
    kappa = (observed - chance) / (1.0 - chance) if chance < 1.0 else float("nan")
    return KappaComponents(observed, chance, kappa, round(n))


def cohen_kappa_from_confusion(confusion: ArrayLike, weights: Weighting = "unweighted") -> float:
    """Cohen's kappa of a confusion matrix (see :func:`cohen_kappa_components`)."""
    return cohen_kappa_components(confusion, weights).kappa


def cohen_kappa(
    a: Sequence[Hashable] | ArrayLike,
    b: Sequence[Hashable] | ArrayLike,
    weights: Weighting = "unweighted",
    categories: Sequence[Hashable] | None = None,
) -> float:
    """Cohen's kappa between two raters' labels on the same items.

    ``categories`` gives the category order for weighted kappa (default: sorted labels).
    NaN when chance agreement is 1 (a single category used by both raters).
    """
    return cohen_kappa_components(confusion_matrix(a, b, categories), weights).kappa


def percent_agreement(
    a: Sequence[Hashable] | ArrayLike, b: Sequence[Hashable] | ArrayLike
) -> float:
    """Share of items on which two raters gave the same label (NaN for no items)."""
    a_arr, b_arr = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if a_arr.shape != b_arr.shape or a_arr.ndim != 1:
        raise ValueError("a and b must be 1-d and of equal length")
    if a_arr.size == 0:
        return float("nan")
    return float(np.mean(a_arr == b_arr))


def _per_item_agreement(counts: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """Fleiss' ``P_u = sum_c n_uc (n_uc - 1) / (n_u (n_u - 1))`` for items with ``n_u >= 2``."""
    n_u = counts.sum(axis=1)
    keep = n_u >= 2
    c, n = counts[keep], n_u[keep]
    return (c * (c - 1)).sum(axis=1) / (n * (n - 1)), keep


def percent_agreement_from_counts(counts: ArrayLike) -> float:
    """Multi-rater percent agreement: the mean over items of the share of agreeing rater pairs.

    ``counts`` is ``items x categories``; items with fewer than two ratings are skipped.
    With two raters per item this is the plain share of items with equal labels. This is
    Fleiss' ``P-bar`` (Fleiss 1971), generalised to a varying number of raters per item.
    """
    p_u, _ = _per_item_agreement(np.asarray(counts, dtype=np.float64))
    return float(p_u.mean()) if p_u.size else float("nan")


def fleiss_kappa(counts: ArrayLike) -> float:
    """Fleiss' kappa of an ``items x categories`` count matrix with equal raters per item.

    ``P-bar = mean_u sum_c n_uc (n_uc - 1) / (n (n - 1))``, ``p_c = sum_u n_uc / (N n)``,
    ``P_e = sum_c p_c^2``, ``kappa = (P-bar - P_e) / (1 - P_e)``.
    Source: Fleiss (1971), "Measuring nominal scale agreement among many raters",
    Psychological Bulletin 76(5). Raises when items have different numbers of raters (select
    the items with the common count first); NaN when ``P_e == 1``.
    """
    c = np.asarray(counts, dtype=np.float64)
    if c.ndim != 2:
        raise ValueError(f"counts must be items x categories, got shape {c.shape}")
    if c.shape[0] == 0:
        return float("nan")
    n_u = c.sum(axis=1)
    if not np.all(n_u == n_u[0]):
        raise ValueError(
            "Fleiss' kappa needs the same number of raters on every item "
            f"(found {sorted(set(n_u.astype(int).tolist()))}); keep only items with one count"
        )
    if n_u[0] < 2:
        raise ValueError("Fleiss' kappa needs at least two raters per item")
    p_bar = float(_per_item_agreement(c)[0].mean())
    p_c = c.sum(axis=0) / c.sum()
    p_e = float((p_c**2).sum())
    return (p_bar - p_e) / (1.0 - p_e) if p_e < 1.0 else float("nan")


def rating_counts(
    items: Sequence[Hashable],
    labels: Sequence[Hashable],
    categories: Sequence[Hashable] | None = None,
) -> RatingCounts:
    """Long-format ratings (one item id and one label per rating) as an item x category matrix.

    Items keep their first-seen order; categories default to the sorted distinct labels.
    """
    if len(items) != len(labels):
        raise ValueError(f"items and labels differ in length ({len(items)} vs {len(labels)})")
    cats = list(categories) if categories is not None else sorted(set(labels), key=str)
    cat_index = {c: i for i, c in enumerate(cats)}
    item_index: dict[Hashable, int] = {}
    rows = np.empty(len(items), dtype=np.int64)
    cols = np.empty(len(items), dtype=np.int64)
    for r, (item, label) in enumerate(zip(items, labels, strict=True)):
        rows[r] = item_index.setdefault(item, len(item_index))
        try:
            cols[r] = cat_index[label]
        except KeyError as exc:
            raise ValueError(f"label {label!r} is not one of the categories {cats}") from exc
    k = len(cats)
    flat = np.bincount(rows * k + cols, minlength=len(item_index) * k)
    return RatingCounts(flat.reshape(len(item_index), k).astype(np.int64), list(item_index), cats)


def fleiss_kappa_from_ratings(
    items: Sequence[Hashable],
    labels: Sequence[Hashable],
    categories: Sequence[Hashable] | None = None,
) -> float:
    """Fleiss' kappa of long-format ratings (every item must have the same number of ratings)."""
    return fleiss_kappa(rating_counts(items, labels, categories).counts)
