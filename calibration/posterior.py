"""A gold-free score that knows which judge to trust: the Dawid-Skene posterior of the label.

:class:`PosteriorScorer` treats every (judge, order) call as an annotator of its own and fits
Dawid-Skene (:class:`calibration.dawid_skene.DawidSkene`; Dawid and Skene 1979) to the verdicts
of *every* pair, with no gold label. The fitted class prior and confusion matrices then give
each pair the posterior probability of each label::

    P(z = k | calls) ∝ prior[k] · Π_{(w, l) in calls} confusion_w[l, k]

The label is the most probable class and the score its posterior. Unlike the panel's vote
share, the score weighs a dissent by how reliable the dissenter is, and a judge's position bias
by how reliable each of its orders is, so it ranks pairs finely even when no judge reports a
probability. It is a function of the signals only (no gold label is read), so a threshold on it
may be certified on *all* the gold, as the gold-free default route of
:func:`calibration.policy.fit_policy` does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from calibration.dawid_skene import DawidSkene
from calibration.scoring import score_each
from calibration.signals import PairSignals

__all__ = ["PosteriorScorer"]

_FLOOR = 1e-10
FloatArray = NDArray[np.float64]


def _calls(pair: PairSignals, judges: Sequence[str]) -> list[tuple[str, str]]:
    """``(annotator, verdict)`` of every parsed call of ``judges`` on the pair; the annotator is
    ``judge|AB`` or ``judge|BA``."""
    out: list[tuple[str, str]] = []
    for name in judges:
        js = pair.judges.get(name)
        if js is None:
            continue
        if js.ab is not None:
            out.append((f"{name}|AB", js.ab))
        if js.ba is not None:
            out.append((f"{name}|BA", js.ba))
    return out


@dataclass(frozen=True)
class PosteriorScorer:
    """Dawid-Skene posterior of the top label (module doc); stored as the fitted parameters.

    ``log_confusion[annotator][answer][k]`` is ``log P(answer | true class classes[k])``; an
    answer the annotator never gave is absent and contributes nothing.
    """

    judges: tuple[str, ...]
    classes: tuple[str, ...]
    log_prior: tuple[float, ...]
    log_confusion: Mapping[str, Mapping[str, tuple[float, ...]]]

    @property
    def kind(self) -> str:
        return "posterior"

    @property
    def name(self) -> str:
        return f"Dawid-Skene posterior ({len(self.judges)} judges, each order apart)"

    @classmethod
    def fit(cls, signals: Sequence[PairSignals], judges: Sequence[str]) -> PosteriorScorer | None:
        """Fit on every pair's calls (no gold). ``None`` when there are fewer than two
        annotators or two classes (nothing to weigh)."""
        tasks: list[str] = []
        workers: list[str] = []
        labels: list[str] = []
        for pair in signals:
            for worker, verdict in _calls(pair, judges):
                tasks.append(pair.pair_id)
                workers.append(worker)
                labels.append(verdict)
        if len(set(workers)) < 2 or len(set(labels)) < 2:
            return None
        ds = DawidSkene().fit(tasks, workers, labels)
        classes = tuple(str(c) for c in ds.classes_)
        confusion: dict[str, dict[str, tuple[float, ...]]] = {}
        for w, annotator in enumerate(ds.workers_):
            rows: dict[str, tuple[float, ...]] = {}
            for row, answer in enumerate(classes):
                probs = ds.errors_[w, row]
                if probs.sum() > 0:
                    rows[answer] = tuple(math.log(max(float(p), _FLOOR)) for p in probs)
            confusion[str(annotator)] = rows
        prior = tuple(math.log(max(float(p), _FLOOR)) for p in ds.priors_)
        return cls(tuple(judges), classes, prior, confusion)

    def judge_accuracy(self, judge: str) -> float | None:
        """The fitted probability that ``judge`` answers the true class, averaged over its
        orders: ``Σ_k prior[k] · confusion_w[k, k]`` per annotator ``w`` (its order).
        ``None`` when the judge made no call the model saw."""
        prior = [math.exp(x) for x in self.log_prior]
        accuracies: list[float] = []
        for order in ("AB", "BA"):
            rows = self.log_confusion.get(f"{judge}|{order}")
            if not rows:
                continue
            accuracies.append(
                sum(
                    prior[k] * math.exp(rows[c][k]) for k, c in enumerate(self.classes) if c in rows
                )
            )
        return sum(accuracies) / len(accuracies) if accuracies else None

    def score_one(self, pair: PairSignals) -> tuple[str | None, float]:
        """Label and posterior of one pair (``None``/0 when no judge of the scorer judged it)."""
        calls = _calls(pair, self.judges)
        if not calls:
            return None, 0.0
        log_post = np.asarray(self.log_prior, dtype=np.float64).copy()
        for worker, verdict in calls:
            row = self.log_confusion.get(worker, {}).get(verdict)
            if row is not None:
                log_post += np.asarray(row)
        log_post -= log_post.max()
        post = np.exp(log_post)
        post /= post.sum()
        best = int(post.argmax())
        return self.classes[best], float(post[best])

    def score_many(self, signals: Sequence[PairSignals]) -> tuple[list[str | None], FloatArray]:
        """Label and score of every pair, in order."""
        return score_each(self.score_one, signals)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON: the fitted prior and confusion rows (logs)."""
        return {
            "kind": "posterior",
            "judges": list(self.judges),
            "classes": list(self.classes),
            "log_prior": list(self.log_prior),
            "log_confusion": {
                w: {a: list(r) for a, r in rows.items()} for w, rows in self.log_confusion.items()
            },
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PosteriorScorer:
        """Rebuild from :meth:`to_json`."""
        return cls(
            tuple(str(j) for j in d["judges"]),
            tuple(str(c) for c in d["classes"]),
            tuple(float(x) for x in d["log_prior"]),
            {
                str(w): {str(a): tuple(float(x) for x in r) for a, r in dict(rows).items()}
                for w, rows in dict(d["log_confusion"]).items()
            },
        )
