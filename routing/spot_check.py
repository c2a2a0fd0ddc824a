"""Seeded spot-check sampling of auto-accepted pairs, with each pair's inclusion probability.

Two designs (Cochran, *Sampling Techniques*, 3rd ed., 1977):

* **Simple random sampling without replacement** (ch. 2): ``n = ceil(rate * N)`` of the ``N``
  candidates; every candidate has inclusion probability ``pi = n / N``. Spot-check accuracy is
  then estimated with an exact Clopper-Pearson interval.
* **Stratified** (ch. 5) by calibrated confidence: candidates sorted by confidence are cut into
  ``bins`` strata of (nearly) equal size; the same total ``n`` is allocated by Neyman allocation
  (Cochran §5.5) ``n_h ∝ N_h * S_h`` with ``S_h = sqrt(p_h (1 - p_h))`` and ``p_h`` the stratum's
  mean confidence (the expected accuracy of its accepted labels), so strata whose labels are
  more likely wrong get more checks. There are never more strata than draws, and every
  stratum gets at least one check, so every candidate has ``pi_h = n_h / N_h > 0`` and the
  inverse-probability-weighted estimate is unbiased. When every ``S_h`` is 0 the allocation
  is proportional.

The draw is deterministic for a seed and does not depend on the order of the input: candidates
are sorted by pair id (and confidence, for the strata) before sampling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SpotCheckCandidate", "SpotCheckSample", "allocate", "sample_spot_checks"]


@dataclass(frozen=True, slots=True)
class SpotCheckCandidate:
    """An auto-accepted pair and the calibrated probability that its AI label is right."""

    pair_id: str
    confidence: float


@dataclass(frozen=True)
class SpotCheckSample:
    """The outcome of one draw.

    ``selected``: pair ids sent to spot check. ``inclusion_probability`` and ``stratum``: for
    every candidate (selected or not). ``strata``: per stratum ``(N_h, n_h)``.
    """

    selected: frozenset[str]
    inclusion_probability: dict[str, float]
    stratum: dict[str, int]
    strata: tuple[tuple[int, int], ...]
    stratified: bool


def allocate(total: int, sizes: Sequence[int], weights: Sequence[float]) -> list[int]:
    """Split ``total`` draws over strata of ``sizes`` in proportion to ``weights``.

    Each non-empty stratum gets at least one draw (when ``total`` allows) and never more than
    its size; the remainder is shared by largest remainders (Hamilton's method). Inputs are
    plain lists; the output sums to ``min(total, sum(sizes))``.
    """
    sizes = list(sizes)
    total = min(total, sum(sizes))
    counts = [1 if size > 0 and total > 0 else 0 for size in sizes]
    if sum(counts) > total:  # fewer draws than strata: the largest weights get one each
        order = sorted(range(len(sizes)), key=lambda h: (-weights[h], h))
        counts = [0] * len(sizes)
        for h in order[:total]:
            counts[h] = 1 if sizes[h] > 0 else 0
        return counts
    w = [max(0.0, float(x)) if size > 0 else 0.0 for x, size in zip(weights, sizes, strict=True)]
    if sum(w) <= 0:
        w = [float(size) for size in sizes]
    while sum(counts) < total:
        room = [h for h in range(len(sizes)) if counts[h] < sizes[h]]
        left = total - sum(counts)
        w_room = sum(w[h] for h in room)
        if w_room <= 0:
            w_room = float(len(room))
            shares = {h: left / w_room for h in room}
        else:
            shares = {h: left * w[h] / w_room for h in room}
        added = 0
        for h in room:
            extra = min(math.floor(shares[h]), sizes[h] - counts[h])
            counts[h] += extra
            added += extra
        if added == 0:  # distribute the last units by largest remainder
            by_remainder = sorted(room, key=lambda h: (-(shares[h] - math.floor(shares[h])), h))
            for h in by_remainder[: total - sum(counts)]:
                counts[h] += 1
    return counts


def sample_spot_checks(
    candidates: Sequence[SpotCheckCandidate],
    *,
    rate: float = 0.05,
    seed: int = 0,
    stratify: bool = False,
    bins: int = 4,
) -> SpotCheckSample:
    """Choose ``ceil(rate * N)`` of ``N`` candidates for spot check (see the module docstring).

    ``rate`` in [0, 1]; ``bins`` ≥ 1 strata when ``stratify``. Returns every candidate's
    inclusion probability, including the ones not selected.
    """
    _check_arguments(candidates, rate, bins)
    n_total = len(candidates)
    n_draw = min(n_total, math.ceil(rate * n_total - 1e-9)) if n_total else 0
    rng = np.random.default_rng(seed)
    if not stratify or n_total == 0:
        return _simple_sample(candidates, n_draw, rng)
    return _stratified_sample(candidates, n_draw, bins, rng)


def _check_arguments(candidates: Sequence[SpotCheckCandidate], rate: float, bins: int) -> None:
    """Raise ``ValueError`` on a rate outside [0, 1], fewer than one bin or repeated pair ids."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"spot-check rate must be in [0, 1], got {rate}")
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    ids = [c.pair_id for c in candidates]
    if len(set(ids)) != len(ids):
        raise ValueError("spot-check candidates must have distinct pair ids")


def _simple_sample(
    candidates: Sequence[SpotCheckCandidate], n_draw: int, rng: np.random.Generator
) -> SpotCheckSample:
    """A simple random sample of ``n_draw`` candidates without replacement (one stratum)."""
    n_total = len(candidates)
    ordered = sorted(c.pair_id for c in candidates)
    chosen_idx: list[int] = (
        rng.choice(n_total, size=n_draw, replace=False).tolist() if n_draw else []
    )
    pi = n_draw / n_total if n_total else 0.0
    return SpotCheckSample(
        selected=frozenset(ordered[int(i)] for i in chosen_idx),
        inclusion_probability={pid: pi for pid in ordered},
        stratum={pid: 0 for pid in ordered},
        strata=((n_total, n_draw),) if n_total else (),
        stratified=False,
    )


def _confidence_strata(
    candidates: Sequence[SpotCheckCandidate], n_draw: int, bins: int
) -> list[list[SpotCheckCandidate]]:
    """The candidates split by confidence into at most ``bins`` non-empty strata."""
    n_total = len(candidates)
    by_conf = sorted(candidates, key=lambda c: (c.confidence, c.pair_id))
    # no more strata than draws, so that every stratum gets one and every pi_h > 0
    n_strata = max(1, min(bins, n_total, n_draw))
    groups = [g for g in np.array_split(np.arange(n_total), n_strata) if len(g)]
    return [[by_conf[int(i)] for i in g] for g in groups]


def _stratum_spread(members: list[SpotCheckCandidate]) -> float:
    """Neyman weight of one stratum: its size times the spread of its mean confidence."""
    p = float(np.clip(np.mean([c.confidence for c in members]), 0.0, 1.0))
    return len(members) * math.sqrt(p * (1.0 - p))


def _stratified_sample(
    candidates: Sequence[SpotCheckCandidate], n_draw: int, bins: int, rng: np.random.Generator
) -> SpotCheckSample:
    """A sample of ``n_draw`` candidates stratified by confidence, allocated by spread."""
    members = _confidence_strata(candidates, n_draw, bins)
    sizes = [len(m) for m in members]
    spread = [_stratum_spread(m) for m in members]
    counts = allocate(n_draw, sizes, spread)

    selected: set[str] = set()
    inclusion: dict[str, float] = {}
    stratum: dict[str, int] = {}
    for h, (m, n_h) in enumerate(zip(members, counts, strict=True)):
        ordered = sorted(c.pair_id for c in m)
        if n_h:
            for i in rng.choice(len(ordered), size=n_h, replace=False):
                selected.add(ordered[int(i)])
        for pid in ordered:
            inclusion[pid] = n_h / len(ordered)
            stratum[pid] = h
    return SpotCheckSample(
        selected=frozenset(selected),
        inclusion_probability=inclusion,
        stratum=stratum,
        strata=tuple(zip(sizes, counts, strict=True)),
        stratified=True,
    )
