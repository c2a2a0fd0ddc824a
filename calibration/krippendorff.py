"""Krippendorff's alpha for any number of raters, missing labels and several levels of measurement.

``alpha = 1 - D_o / D_e``, computed from the *coincidence matrix* ``o`` (Krippendorff 2011,
"Computing Krippendorff's Alpha-Reliability", https://repository.upenn.edu/asc_papers/43;
Krippendorff, *Content Analysis*, 4th ed., 2018, ch. 12)::

    o[c, k] = sum over items u with m_u >= 2 pairable values of
              (number of ordered pairs of values (c, k) from different raters on u) / (m_u - 1)
    n_c     = sum_k o[c, k],   n = sum_c n_c
    alpha   = 1 - (n - 1) * sum_{c,k} o[c, k] delta[c, k] / sum_{c,k} n_c n_k delta[c, k]

with the difference function ``delta`` of the level of measurement: nominal ``[c != k]``;
ordinal ``(sum_{g=c..k} n_g - (n_c + n_k) / 2)^2``; interval ``(v_c - v_k)^2``; ratio
``((v_c - v_k) / (v_c + v_k))^2``.

Vectorised: the per-item category counts ``N[u, c]`` come from one ``np.bincount``, and the
coincidence matrix is one ``K x K`` matrix product ``(N / (m - 1)).T @ N`` minus its diagonal
self-pairs, so the cost is linear in the number of labels. Alpha is NaN when it is undefined
(fewer than two pairable values, or a single category in use).

Example (Krippendorff 2011, section A: 4 coders, 12 units, nominal alpha 0.743)::

    >>> import numpy as np
    >>> nan = np.nan
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(krippendorff_alpha(data, "nominal"), 3)
    0.743
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibration.agreement import rating_counts

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")
_FEW_VALUES = 32

__all__ = [
    "LEVELS",
    "Level",
    "coincidence_matrix",
    "krippendorff_alpha",
    "krippendorff_alpha_from_counts",
    "krippendorff_alpha_from_ratings",
    "reliability_counts",
]


def reliability_counts(
    reliability_data: ArrayLike, value_domain: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Turn ``raters x items`` data (NaN = missing) into ``items x values`` counts.

    Returns ``(counts, values)``: ``values`` is ``value_domain`` (in the given order) or the
    sorted distinct values found. A value outside ``value_domain`` raises ``ValueError``.
    """
    data = np.asarray(reliability_data, dtype=np.float64)
    if data.ndim != 2:
        raise ValueError(f"reliability data must be raters x items (2-d), got shape {data.shape}")
    n_items = data.shape[1]
    observed = data[~np.isnan(data)]
    if value_domain is None:
        values = _distinct_values(observed)
    else:
        values = np.asarray(value_domain, dtype=np.float64).ravel()
    k = values.size
    if k <= _FEW_VALUES:
        # One comparison pass per value beats building (item, value) index pairs.
        counts = np.empty((n_items, k))
        for c in range(k):
            counts[:, c] = np.count_nonzero(data == values[c], axis=0)
        if counts.sum() != observed.size:
            unknown = observed[~np.isin(observed, values)]
            raise ValueError(f"value {unknown[0]!r} is not in the value domain {values}")
        return counts, values
    order = np.argsort(values, kind="stable")
    pos = np.minimum(np.searchsorted(values[order], data), k - 1)
    category = order[pos]
    present = ~np.isnan(data)
    bad = present & (values[category] != data)
    if bad.any():
        raise ValueError(f"value {data[bad][0]!r} is not in the value domain {values}")
    item_of = np.broadcast_to(np.arange(n_items), data.shape)[present]
    flat = np.bincount(item_of * k + category[present], minlength=n_items * k)
    return flat.reshape(n_items, k).astype(np.float64), values


def _distinct_values(observed: NDArray[np.float64]) -> NDArray[np.float64]:
    """The sorted distinct values (as ``np.unique``).

    Labels are usually small integers: then a ``bincount`` over ``value - min`` finds the
    distinct values in linear time, several times faster than the sort inside ``np.unique``.
    """
    if observed.size:
        low, high = float(observed.min()), float(observed.max())
        if high - low <= 4 * observed.size + 1024:
            offset = observed - low
            as_int = offset.astype(np.intp)
            if np.array_equal(as_int, offset):
                return (np.flatnonzero(np.bincount(as_int)) + low).astype(np.float64)
    return np.unique(observed).astype(np.float64)


def coincidence_matrix(counts: ArrayLike) -> NDArray[np.float64]:
    """The ``K x K`` coincidence matrix of an ``items x categories`` count matrix.

    ``o = sum_u (n_u n_u^T - diag(n_u)) / (m_u - 1)`` over items with ``m_u >= 2`` values.
    """
    n = np.asarray(counts, dtype=np.float64)
    m = n.sum(axis=1)
    weight = np.zeros_like(m)
    np.divide(1.0, m - 1.0, out=weight, where=m >= 2)  # unpairable items weigh 0
    scaled = n * weight[:, None]
    o: NDArray[np.float64] = scaled.T @ n
    o[np.diag_indices_from(o)] -= scaled.sum(axis=0)
    return o


def _difference(
    level: Level, values: NDArray[np.float64], n_c: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The squared difference function ``delta[c, k]`` of a level of measurement."""
    if level == "nominal":
        return 1.0 - np.eye(values.size)
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    if level == "ratio":
        total = values[:, None] + values[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            d = ((values[:, None] - values[None, :]) / total) ** 2
        return np.where(total == 0, 0.0, d)
    if level == "ordinal":
        # sum_{g=c..k} n_g = cum[k] - cum[c] + n_c for c <= k (categories in their given order)
        cum = np.cumsum(n_c)
        lo = np.minimum.outer(np.arange(n_c.size), np.arange(n_c.size))
        hi = np.maximum.outer(np.arange(n_c.size), np.arange(n_c.size))
        between = cum[hi] - cum[lo] + n_c[lo]
        out: NDArray[np.float64] = (between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2
        return out
    raise ValueError(f"level must be one of {LEVELS}, not {level!r}")


def krippendorff_alpha_from_counts(
    counts: ArrayLike, level: Level = "nominal", values: ArrayLike | None = None
) -> float:
    """Krippendorff's alpha of an ``items x categories`` count matrix.

    ``values`` are the numeric values of the categories (interval/ratio) and fix their order
    (ordinal); default ``0..K-1``. Items with fewer than two values do not count (they are not
    pairable). Returns NaN when alpha is undefined.
    """
    n = np.asarray(counts, dtype=np.float64)
    if n.ndim != 2:
        raise ValueError(f"counts must be items x categories, got shape {n.shape}")
    vals = (
        np.arange(n.shape[1], dtype=np.float64)
        if values is None
        else np.asarray(values, dtype=np.float64).ravel()
    )
    if vals.size != n.shape[1]:
        raise ValueError(f"{vals.size} values given for {n.shape[1]} categories")
    o = coincidence_matrix(n)
    n_c = o.sum(axis=1)
    total = float(n_c.sum())
    if total <= 1:
        return float("nan")
    delta = _difference(level, vals, n_c)
    expected = float(n_c @ delta @ n_c)
    if expected == 0.0:
        return float("nan")
    return 1.0 - (total - 1.0) * float((o * delta).sum()) / expected


def krippendorff_alpha(
    reliability_data: ArrayLike,
    level: Level = "nominal",
    value_domain: ArrayLike | None = None,
) -> float:
    """Krippendorff's alpha of ``raters x items`` data with NaN for missing labels.

    Same input convention as the ``krippendorff`` package (``krippendorff.alpha``):
    ``value_domain`` lists the possible values (their order matters for ordinal); by default
    the sorted distinct values in the data.
    """
    counts, values = reliability_counts(reliability_data, value_domain)
    return krippendorff_alpha_from_counts(counts, level, values)


def krippendorff_alpha_from_ratings(
    items: Sequence[Hashable],
    labels: Sequence[Hashable],
    level: Level = "nominal",
    categories: Sequence[Hashable] | None = None,
) -> float:
    """Alpha of long-format ratings (one item id and one label per rating).

    ``categories`` fixes the order of the labels for ordinal alpha; for interval/ratio the
    labels must be numbers (their values are used), otherwise their positions ``0..K-1`` are.
    """
    rc = rating_counts(items, labels, categories)
    values: ArrayLike | None = None
    if level in ("interval", "ratio"):
        try:
            values = np.asarray(rc.categories, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{level} alpha needs numeric labels, got {rc.categories}") from exc
    return krippendorff_alpha_from_counts(rc.counts, level, values)
