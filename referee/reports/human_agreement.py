"""Agreement among human annotators and the annotator quality table, read from the database.

The database is read here (SQLAlchemy, ``referee.db.models``); every number is computed by the
pure functions of ``calibration/``.

Choices, documented once:

* **Kinds.** ``kinds=None`` pools every kind of human label (``gold``, ``review``,
  ``spot_check``): imported data sets often carry their several annotators as one kind, and the
  question "do our people agree?" does not depend on why an item was labelled. When one
  annotator labelled the same pair under several kinds, their most recent label counts once.
  Second looks (``adjudication``, ``incident``: :mod:`referee.review.escalation`) are left out
  of the pool: those pairs get a second answer because someone disagreed with the AI label or
  flagged the pair, so they are a sample of disputes, not of the work.
* **Items.** ``items`` counts labelled pairs; only pairs with at least two labels
  (``comparable_items``) carry information about agreement.
* **Percent agreement** is the mean over comparable items of the share of agreeing annotator
  pairs (Fleiss' P-bar; with two annotators, the share of items with equal labels).
* **Krippendorff's alpha** is nominal, on every comparable item (any number of raters).
* **Fleiss' kappa** needs the same number of raters on every item: it is computed on the items
  with the most common rater count (ties: the larger count), reported as ``fleiss_items`` and
  ``fleiss_raters_per_item``.
* **Cohen's kappa** is reported when there are exactly two annotators (on the items both
  labelled); with three to ten annotators every pair's kappa is listed in ``pairwise``.
* **Intervals** are 95% percentile bootstrap intervals over items (seeded).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.orm import Session

from calibration.aggregation import majority_vote
from calibration.agreement import (
    cohen_kappa_components,
    fleiss_kappa,
    percent_agreement_from_counts,
    rating_counts,
)
from calibration.annotators import PauseRule, annotator_quality
from calibration.bootstrap import bootstrap_ci
from calibration.krippendorff import krippendorff_alpha_from_counts
from judge.labels import LABELS
from referee.db.models import HumanLabel, Pair

MAX_PAIRWISE_ANNOTATORS = 10

__all__ = [
    "SECOND_LOOK_KINDS",
    "LabelRow",
    "agreement_report",
    "annotators_report",
    "load_human_labels",
]


SECOND_LOOK_KINDS = ("adjudication", "incident")
"""Label kinds of second looks, left out of the pooled agreement (see the module notes)."""


@dataclass(frozen=True)
class LabelRow:
    """One human label as the reports need it."""

    pair_id: str
    annotator: str
    label: str
    kind: str
    duration_s: float | None


def load_human_labels(
    session: Session, dataset_id: int, kinds: Sequence[str] | None = None
) -> list[LabelRow]:
    """The dataset's human labels of ``kinds`` (all kinds but :data:`SECOND_LOOK_KINDS` when
    None), one per (pair, annotator).

    Within ``kinds``, an annotator's most recent label of a pair wins (by time, then id).
    """
    query = (
        select(
            HumanLabel.pair_id,
            HumanLabel.annotator,
            HumanLabel.label,
            HumanLabel.kind,
            HumanLabel.duration_s,
        )
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id)
        .order_by(HumanLabel.created_at, HumanLabel.id)
    )
    if kinds is not None:
        query = query.where(HumanLabel.kind.in_(list(kinds)))
    else:
        query = query.where(HumanLabel.kind.not_in(SECOND_LOOK_KINDS))
    latest: dict[tuple[str, str], LabelRow] = {}
    for pair_id, annotator, label, kind, duration in session.execute(query):
        latest[(pair_id, annotator)] = LabelRow(pair_id, annotator, label, kind, duration)
    return list(latest.values())


def _categories(labels: Sequence[str]) -> list[str]:
    """The four known labels in their canonical order, then any others (sorted)."""
    return list(LABELS) + sorted(set(labels) - set(LABELS))


def _clean(x: float) -> float | None:
    return None if x is None or np.isnan(x) else float(x)


def _kappa_of_pairs(pairs: NDArray[np.int64], k: int) -> float:
    """Cohen's kappa of ``n x 2`` category codes (rater 1, rater 2)."""
    conf = np.bincount(pairs[:, 0] * k + pairs[:, 1], minlength=k * k).reshape(k, k)
    return cohen_kappa_components(conf).kappa


def _two_rater_codes(
    rows: Sequence[LabelRow], first: str, second: str, index: dict[str, int]
) -> NDArray[np.int64]:
    """Codes of the items both annotators labelled, as ``n x 2``."""
    by_first = {r.pair_id: index[r.label] for r in rows if r.annotator == first}
    both = [
        (by_first[r.pair_id], index[r.label])
        for r in rows
        if r.annotator == second and r.pair_id in by_first
    ]
    return np.array(both, dtype=np.int64).reshape(-1, 2)


def agreement_report(
    rows: Sequence[LabelRow], *, n_resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """The agreement document of ``referee agreement`` (see the module docstring)."""
    categories = _categories([r.label for r in rows])
    index = {c: i for i, c in enumerate(categories)}
    k = len(categories)
    people = sorted({r.annotator for r in rows})
    rc = rating_counts([r.pair_id for r in rows], [r.label for r in rows], categories)
    counts = rc.counts[rc.counts.sum(axis=1) >= 2]

    def ci(data: NDArray[Any], stat: Any) -> dict[str, Any]:
        return bootstrap_ci(data, stat, n_resamples=n_resamples, seed=seed).as_dict()

    doc: dict[str, Any] = {
        "items": len(rc.items),
        "comparable_items": int(counts.shape[0]),
        "labels": len(rows),
        "annotators": len(people),
        "annotator_names": people,
        "label_counts": {
            c: int(n) for c, n in zip(categories, rc.counts.sum(axis=0), strict=True) if n
        },
        "percent_agreement": None,
        "krippendorff_alpha": None,
        "fleiss_kappa": None,
        "fleiss_items": 0,
        "fleiss_raters_per_item": None,
        "cohen_kappa": None,
        "cohen_items": 0,
        "pairwise": [],
        "ci": {},
        "ci_method": f"percentile bootstrap over items, {n_resamples} resamples, seed {seed}",
    }
    if counts.shape[0]:
        doc["percent_agreement"] = _clean(percent_agreement_from_counts(counts))
        doc["krippendorff_alpha"] = _clean(krippendorff_alpha_from_counts(counts, "nominal"))
        doc["ci"]["percent_agreement"] = ci(counts, percent_agreement_from_counts)
        doc["ci"]["krippendorff_alpha"] = ci(
            counts, lambda c: krippendorff_alpha_from_counts(c, "nominal")
        )
        raters = counts.sum(axis=1).astype(int)
        tally = Counter(raters.tolist())
        modal = max(tally, key=lambda m: (tally[m], m))
        same = counts[raters == modal]
        doc["fleiss_raters_per_item"] = modal
        doc["fleiss_items"] = int(same.shape[0])
        doc["fleiss_kappa"] = _clean(fleiss_kappa(same))
        doc["ci"]["fleiss_kappa"] = ci(same, fleiss_kappa)
    if len(people) == 2:
        codes = _two_rater_codes(rows, people[0], people[1], index)
        doc["cohen_items"] = int(codes.shape[0])
        if codes.shape[0]:
            doc["cohen_kappa"] = _clean(_kappa_of_pairs(codes, k))
            doc["ci"]["cohen_kappa"] = ci(codes, lambda c: _kappa_of_pairs(c, k))
    elif 2 < len(people) <= MAX_PAIRWISE_ANNOTATORS:
        doc["pairwise"] = _pairwise(rows, people, index, k)
    return doc


def _pairwise(
    rows: Sequence[LabelRow], people: list[str], index: dict[str, int], k: int
) -> list[dict[str, Any]]:
    """Percent agreement and Cohen's kappa of every two annotators on the items both labeled."""
    pairs = []
    for first, second in combinations(people, 2):
        codes = _two_rater_codes(rows, first, second, index)
        if codes.shape[0]:
            pairs.append(
                {
                    "annotators": [first, second],
                    "items": int(codes.shape[0]),
                    "percent_agreement": float(np.mean(codes[:, 0] == codes[:, 1])),
                    "cohen_kappa": _clean(_kappa_of_pairs(codes, k)),
                }
            )
    return pairs


def annotators_report(rows: Sequence[LabelRow], rule: PauseRule | None = None) -> dict[str, Any]:
    """The quality table of ``referee annotators``.

    Gold per pair is the majority of its ``gold``-kind labels (ties: no gold). The annotators
    rated are those with ``review``/``spot_check`` labels; when a dataset has only gold labels,
    its gold annotators are rated on agreement with each other (no gold accuracy then).
    """
    rule = rule or PauseRule()
    gold_rows = [r for r in rows if r.kind == "gold"]
    rated = [r for r in rows if r.kind != "gold"]
    gold: dict[Hashable, Hashable] = {}
    if rated:
        votes = majority_vote([r.pair_id for r in gold_rows], [r.label for r in gold_rows])
        gold = {item: label for item, label in votes.items() if label is not None}
    else:
        rated = gold_rows
    quality = annotator_quality(
        [r.pair_id for r in rated],
        [r.annotator for r in rated],
        [r.label for r in rated],
        gold=gold,
        durations=[r.duration_s for r in rated],
        rule=rule,
    )
    table = sorted((q.as_dict() for q in quality), key=lambda d: str(d["annotator"]))
    return {
        "gold_items": len(gold),
        "rated_kinds": sorted({r.kind for r in rated}),
        "rule": {
            "min_accuracy": rule.min_accuracy,
            "min_kappa": rule.min_kappa,
            "min_gold": rule.min_gold,
            "z_threshold": rule.z_threshold,
        },
        "paused": sum(1 for q in quality if q.paused),
        "annotators": table,
    }
