"""Annotator quality: gold accuracy, agreement with the majority, a pause rule and time outliers.

For each annotator, from long-format ratings (item, annotator, label, optional duration):

* **gold accuracy**: share of the annotator's labels on gold items that equal the gold label;
* **kappa with the majority**: Cohen's kappa between the annotator's labels and the majority
  label of the *other* annotators on the same items, counted only on items with at least
  ``min_answers`` (3) answers, so that "the majority" is at least two other people (items where
  the others tie are left out). With two reviewers the "majority" is the other person, and a
  careful reviewer paired with a saboteur would get a low kappa for being right;
* **pause rule** — gold accuracy decides first:

  1. *conclusively bad on gold*: the one-sided upper confidence bound (exact Clopper-Pearson,
     level ``confidence``, 95%) of gold accuracy is below ``min_accuracy``: ``paused``, however
     few gold items (0 of 5 right: bound 0.451 < 0.7);
  2. *enough gold* (``min_gold`` items or more): ``paused`` when gold accuracy is below
     ``min_accuracy``, else ``ok`` — agreement with others can no longer pause them;
  3. *too little gold*: kappa with the majority decides once it rests on ``min_gold`` items
     with ``min_answers`` answers or more: ``paused`` below ``min_kappa``; otherwise
     ``needs_gold``;
* **time outliers**: modified z-scores ``0.6745 (x - median) / MAD`` of ``log(1 + seconds)``
  over every timed rating, ``|z| > 3.5`` flags an item as too fast / too slow (Iglewicz &
  Hoaglin 1993, *How to Detect and Handle Outliers*, ASQC). The same rule applied to the
  annotators' median durations marks an annotator as a ``fast``/``slow`` outlier. Durations are
  logged because they are right-skewed: on the raw scale the lower fence is usually below zero
  and click-through raters could never be flagged.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from calibration.aggregation import NO_MAJORITY, majority_vote_counts
from calibration.agreement import cohen_kappa_components
from calibration.thresholds import clopper_pearson_upper

Status = Literal["ok", "paused", "needs_gold"]
MAD_SCALE = 0.6745
"""``Phi^-1(0.75)``: makes ``MAD / 0.6745`` estimate the standard deviation of a normal."""

__all__ = [
    "AnnotatorQuality",
    "PauseRule",
    "Status",
    "accuracy_upper_bound",
    "annotator_quality",
    "modified_z_scores",
]


@dataclass(frozen=True)
class PauseRule:
    """When to pause an annotator. Defaults from ANCHORS.md agreement gates."""

    min_accuracy: float = 0.7
    min_kappa: float = 0.5
    min_gold: int = 10
    z_threshold: float = 3.5
    min_answers: int = 3
    confidence: float = 0.95


def accuracy_upper_bound(correct: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact (Clopper-Pearson) upper bound of a proportion: ``Beta⁻¹(confidence;
    correct + 1, n - correct)``, 1 when ``correct == n`` (Clopper & Pearson 1934)."""
    return clopper_pearson_upper(correct, n, 1.0 - confidence)


@dataclass(frozen=True)
class AnnotatorQuality:
    """One annotator's row of the quality table. Undefined values are ``None``."""

    annotator: Hashable
    items_labeled: int
    gold_items: int
    gold_accuracy: float | None
    majority_items: int
    kappa_with_majority: float | None
    status: Status
    reasons: list[str] = field(default_factory=list)
    timed_items: int = 0
    median_duration_s: float | None = None
    fast_items: int = 0
    slow_items: int = 0
    time_outlier: Literal["fast", "slow"] | None = None

    @property
    def paused(self) -> bool:
        """True when the pause rule fired."""
        return self.status == "paused"

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        doc = asdict(self)
        doc["paused"] = self.paused
        return doc


def modified_z_scores(values: ArrayLike) -> NDArray[np.float64]:
    """``0.6745 (x - median) / MAD`` (Iglewicz & Hoaglin 1993).

    When the MAD is 0 (over half the values equal), the mean absolute deviation times
    ``1.253314`` (``sqrt(pi/2)``) stands in for ``MAD / 0.6745``; when that is 0 too, every
    score is 0.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x
    median = np.median(x)
    mad = float(np.median(np.abs(x - median)))
    if mad > 0:
        return MAD_SCALE * (x - median) / mad
    mean_ad = float(np.mean(np.abs(x - median)))
    if mean_ad > 0:
        return (x - median) / (1.253314 * mean_ad)
    return np.zeros_like(x)


def _encode(values: Sequence[Hashable]) -> tuple[list[Hashable], NDArray[np.int64]]:
    index: dict[Hashable, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values)
    )
    return list(index), codes


def annotator_quality(
    items: Sequence[Hashable],
    annotators: Sequence[Hashable],
    labels: Sequence[Hashable],
    gold: Mapping[Hashable, Hashable] | None = None,
    durations: Sequence[float | None] | None = None,
    rule: PauseRule | None = None,
) -> list[AnnotatorQuality]:
    """The quality table, one row per annotator in first-seen order.

    Args:
        items, annotators, labels: parallel sequences, one entry per rating (an annotator
            rates an item at most once).
        gold: known labels of some items.
        durations: seconds spent per rating (``None``/NaN when not recorded), parallel.
        rule: pause thresholds (default :class:`PauseRule`).
    """
    rule = rule or PauseRule()
    n = len(items)
    _check_lengths(n, annotators, labels, durations)
    gold = gold or {}
    item_ids, item = _encode(items)
    people, who = _encode(annotators)
    categories = sorted(set(labels) | set(gold.values()), key=str)
    cat_index = {c: i for i, c in enumerate(categories)}
    lab = np.fromiter((cat_index[x] for x in labels), dtype=np.int64, count=n)
    k = len(categories)
    others_majority, answers = _others_majority(item, lab, len(item_ids), k)
    gold_code = _gold_codes(item_ids, gold, cat_index)[item]

    z_item, timed, seconds = _duration_scores(durations, n)
    medians, z_person = _person_durations(who, timed, seconds, len(people))

    rows = []
    for p, person in enumerate(people):
        mine = who == p
        on_gold = mine & (gold_code >= 0)
        n_gold, n_right, accuracy = _gold_accuracy(lab, gold_code, on_gold)
        compared = mine & (others_majority != NO_MAJORITY) & (answers >= rule.min_answers)
        kappa = _kappa_with_majority(lab, others_majority, compared, k)
        status, reasons = _judge(rule, n_gold, n_right, kappa, int(compared.sum()))
        rows.append(
            AnnotatorQuality(
                annotator=person,
                items_labeled=int(mine.sum()),
                gold_items=n_gold,
                gold_accuracy=accuracy,
                majority_items=int(compared.sum()),
                kappa_with_majority=kappa,
                status=status,
                reasons=reasons,
                timed_items=int((mine & timed).sum()),
                median_duration_s=None if np.isnan(medians[p]) else float(medians[p]),
                fast_items=int((mine & (z_item < -rule.z_threshold)).sum()),
                slow_items=int((mine & (z_item > rule.z_threshold)).sum()),
                time_outlier=_time_outlier(float(z_person[p]), rule),
            )
        )
    return rows


def _gold_codes(
    item_ids: Sequence[Hashable], gold: Mapping[Hashable, Hashable], cat_index: dict[Hashable, int]
) -> NDArray[np.int64]:
    """Per item, the index of its gold label's category, or -1 when it has no gold."""
    return np.array([cat_index[gold[i]] if i in gold else -1 for i in item_ids], dtype=np.int64)


def _gold_accuracy(
    lab: NDArray[np.int64], gold_code: NDArray[np.int64], on_gold: NDArray[np.bool_]
) -> tuple[int, int, float | None]:
    """Gold ratings, how many match gold, and their accuracy (``None`` without gold)."""
    n_gold = int(on_gold.sum())
    accuracy = float(np.mean(lab[on_gold] == gold_code[on_gold])) if n_gold else None
    n_right = int(np.sum(lab[on_gold] == gold_code[on_gold])) if n_gold else 0
    return n_gold, n_right, accuracy


def _check_lengths(
    n: int,
    annotators: Sequence[Hashable],
    labels: Sequence[Hashable],
    durations: Sequence[float | None] | None,
) -> None:
    """Raise ``ValueError`` unless the parallel rating sequences all have ``n`` entries."""
    if not n == len(annotators) == len(labels):
        raise ValueError("items, annotators and labels must have the same length")
    if durations is not None and len(durations) != n:
        raise ValueError("durations must have one entry per rating")


def _others_majority(
    item: NDArray[np.int64], lab: NDArray[np.int64], n_items: int, k: int
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Per rating: the majority of the *other* annotators on its item, and its item's answers."""
    # item counts minus own vote
    counts = np.zeros((n_items, k))
    np.add.at(counts, (item, lab), 1.0)
    others = counts[item]
    others[np.arange(len(lab)), lab] -= 1.0
    others_majority = majority_vote_counts(others)
    answers = counts.sum(axis=1)[item]  # answers on each rating's item
    return others_majority, answers


def _person_durations(
    who: NDArray[np.int64], timed: NDArray[np.bool_], seconds: NDArray[np.float64], n_people: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each annotator's median timed duration (NaN if none) and its modified z-score of log1p."""
    medians = np.full(n_people, np.nan)
    for p in range(n_people):
        mine = timed & (who == p)
        if mine.any():
            medians[p] = float(np.median(seconds[mine]))
    has_median = ~np.isnan(medians)
    z_person = np.zeros(n_people)
    if has_median.sum() >= 3:
        z_person[has_median] = modified_z_scores(np.log1p(medians[has_median]))
    return medians, z_person


def _kappa_with_majority(
    lab: NDArray[np.int64],
    others_majority: NDArray[np.int64],
    compared: NDArray[np.bool_],
    k: int,
) -> float | None:
    """Cohen's kappa of the ``compared`` ratings against the others' majority, if defined."""
    if not compared.any():
        return None
    conf = np.bincount(lab[compared] * k + others_majority[compared], minlength=k * k).reshape(k, k)
    value = cohen_kappa_components(conf).kappa
    return None if np.isnan(value) else value


def _time_outlier(z: float, rule: PauseRule) -> Literal["fast", "slow"] | None:
    """``"fast"``/``"slow"`` when the annotator's duration z-score is beyond the threshold."""
    if z < -rule.z_threshold:
        return "fast"
    if z > rule.z_threshold:
        return "slow"
    return None


def _duration_scores(
    durations: Sequence[float | None] | None, n: int
) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]:
    """Modified z-scores of ``log1p(duration)`` per rating (0 where untimed), the timed mask
    and the durations as floats (NaN where untimed)."""
    z = np.zeros(n)
    if durations is None:
        return z, np.zeros(n, dtype=bool), np.full(n, np.nan)
    d = np.array([np.nan if x is None else float(x) for x in durations], dtype=np.float64)
    timed = ~np.isnan(d) & (d >= 0)
    if timed.sum() >= 3:
        z[timed] = modified_z_scores(np.log1p(d[timed]))
    return z, timed, np.where(timed, d, np.nan)


def _judge(
    rule: PauseRule, n_gold: int, n_right: int, kappa: float | None, compared: int
) -> tuple[Status, list[str]]:
    """Apply the pause rule (module docstring); the reasons name the deciding measure."""
    if n_gold:
        accuracy = n_right / n_gold
        bound = accuracy_upper_bound(n_right, n_gold, rule.confidence)
        if bound < rule.min_accuracy:
            return "paused", [
                f"gold accuracy {n_right}/{n_gold} = {accuracy:.3f}: its "
                f"{rule.confidence:.0%} upper bound {bound:.3f} < {rule.min_accuracy}"
            ]
        if n_gold >= rule.min_gold:
            if accuracy < rule.min_accuracy:
                return "paused", [f"gold accuracy {accuracy:.3f} < {rule.min_accuracy}"]
            return "ok", []
    if kappa is not None and compared >= rule.min_gold and kappa < rule.min_kappa:
        return "paused", [
            f"kappa with majority {kappa:.3f} < {rule.min_kappa} on {compared} items with "
            f"{rule.min_answers}+ answers ({n_gold} gold items < {rule.min_gold})"
        ]
    return "needs_gold", [f"{n_gold} gold items < {rule.min_gold} needed to judge"]
