r"""Dawid-Skene: true labels and per-annotator confusion matrices by expectation-maximisation.

Model (Dawid & Skene 1979, "Maximum Likelihood Estimation of Observer Error-Rates Using the EM
Algorithm", *Journal of the Royal Statistical Society, Series C (Applied Statistics)* 28(1),
20-28, https://doi.org/10.2307/2346806): every item ``t`` has a hidden true class ``z_t`` with
prior ``p[k] = P(z_t = k)``; annotator ``w`` answers ``l`` with probability
``e_w[l, k] = P(y_wt = l | z_t = k)``. EM alternates

* **E-step** ``P(z_t = k | y) ∝ p[k] * prod_{(w, l) on t} e_w[l, k]``, computed in log space;
* **M-step** ``e_w[l, k] ∝ sum_{t labelled l by w} P(z_t = k | y)`` (normalised over ``l``),
  ``p[k] = mean_t P(z_t = k | y)``.

Items with a known (gold) label are *clamped*: their posterior is the one-hot vector of the
gold label at initialisation and after every E-step, so they teach the annotators' confusion
matrices without being re-estimated.

Numerical details follow crowd-kit's ``DawidSkene`` (Toloka, v1.4) so the two agree: the
initial posterior is the majority-vote share of each label, confusion entries are floored at
``1e-10`` before normalising (only for labels the annotator used), priors are floored at
``1e-10``, and iteration stops when the evidence lower bound per response improves by less
than ``tol``.

Example (two careful annotators outvote a contrarian)::

    >>> ds = DawidSkene().fit(
    ...     tasks=["t1", "t1", "t1", "t2", "t2", "t2"],
    ...     workers=["w1", "w2", "w3", "w1", "w2", "w3"],
    ...     labels=["A", "A", "B", "B", "B", "A"],
    ... )
    >>> ds.labels_
    {'t1': 'A', 't2': 'B'}
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Self

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

__all__ = ["DawidSkene"]

_EPS = 1e-10


def _encode(values: Sequence[Hashable]) -> tuple[list[Hashable], NDArray[np.int64]]:
    """Distinct values in first-seen order and the index of each value among them."""
    index: dict[Hashable, int] = {}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values)
    )
    return list(index), codes


def _m_step(
    responses_t: sp.csr_matrix,
    probas: NDArray[np.float64],
    used: NDArray[np.bool_],
    n_w: int,
    k: int,
) -> NDArray[np.float64]:
    """Confusion matrices ``errors[w, l, k]`` from the posteriors (floored, normalised over l)."""
    counts = np.asarray(responses_t @ probas)
    errors = np.where(used[:, None], np.maximum(counts, _EPS), 0.0).reshape(n_w, k, k)
    result: NDArray[np.float64] = errors / errors.sum(axis=1, keepdims=True)
    return result


def _log_errors(errors: NDArray[np.float64], used: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``log errors`` as a ``(n_w * k, k)`` matrix; rows of unused labels (never read) are 0."""
    n_w, k, _ = errors.shape
    flat = errors.reshape(n_w * k, k)
    out = np.zeros_like(flat)
    out[used] = np.log(flat[used])
    return out


def _elbo(
    probas: NDArray[np.float64],
    priors: NDArray[np.float64],
    log_err: NDArray[np.float64],
    responses: sp.csr_matrix,
    votes_per_task: NDArray[np.float64],
) -> float:
    """Evidence lower bound as crowd-kit computes it (the prior term counted once per response)."""
    log_lik = np.asarray(responses @ log_err)
    log_prior = np.log(np.maximum(priors, _EPS))
    joint = float((probas * (log_lik + votes_per_task[:, None] * log_prior)).sum())
    clipped = np.maximum(probas, _EPS)
    entropy = -float((clipped * np.log(clipped)).sum())
    return joint + entropy


def _check_responses(
    tasks: Sequence[Hashable], workers: Sequence[Hashable], labels: Sequence[Hashable]
) -> None:
    """Raise ``ValueError`` unless the three response sequences are non-empty and equally long."""
    if not len(tasks) == len(workers) == len(labels):
        raise ValueError(
            f"tasks, workers and labels differ in length "
            f"({len(tasks)}, {len(workers)}, {len(labels)})"
        )
    if not tasks:
        raise ValueError("no responses to aggregate")


def _clamp(
    probas: NDArray[np.float64], gold_rows: NDArray[np.int64], gold_cols: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Set the gold items' rows of ``probas`` (in place) to one-hot on their gold label."""
    if gold_rows.size:
        probas[gold_rows] = 0.0
        probas[gold_rows, gold_cols] = 1.0
    return probas


class DawidSkene:
    """Dawid-Skene EM aggregation in the scikit-learn manner.

    Args:
        n_iter: maximum number of EM iterations.
        tol: stop when the evidence lower bound per response improves by less than this.

    Attributes (set by :meth:`fit`):
        tasks_: item ids, in first-seen order (rows of ``probas_``).
        workers_: annotator ids, in first-seen order (first axis of ``errors_``).
        classes_: the labels, sorted (columns of ``probas_``, axes of ``errors_``).
        probas_: ``(n_tasks, n_classes)`` posterior probability of each true label.
        labels_: ``{task: most probable label}`` (first class in ``classes_`` order on ties).
        errors_: ``(n_workers, n_classes, n_classes)`` confusion matrices,
            ``errors_[w, l, k] = P(worker w answers classes_[l] | true label classes_[k])``;
            rows of labels a worker never used are 0.
        priors_: ``(n_classes,)`` prior probability of each true label.
        loss_history_: evidence lower bound per response after each iteration.
        n_iter_: iterations run.
    """

    def __init__(self, n_iter: int = 100, tol: float = 1e-5) -> None:
        self.n_iter = n_iter
        self.tol = tol

    def fit(
        self,
        tasks: Sequence[Hashable],
        workers: Sequence[Hashable],
        labels: Sequence[Hashable],
        gold: Mapping[Hashable, Hashable] | None = None,
    ) -> Self:
        """Fit on responses given as three parallel sequences (item, annotator, label).

        ``gold`` maps item ids to known labels; those items are clamped. Gold entries for items
        without responses are ignored. Returns ``self``.
        """
        _check_responses(tasks, workers, labels)
        gold = dict(gold or {})
        self.tasks_, t = _encode(tasks)
        self.workers_, w = _encode(workers)
        task_set = set(self.tasks_)
        gold = {task: lab for task, lab in gold.items() if task in task_set}
        self.classes_ = sorted(set(labels) | set(gold.values()), key=str)
        class_index = {c: i for i, c in enumerate(self.classes_)}
        n_t, n_w, k = len(self.tasks_), len(self.workers_), len(self.classes_)
        lab = np.fromiter((class_index[x] for x in labels), dtype=np.int64, count=len(labels))

        # A[t, w*k + l] = 1 when worker w answered l on item t. The E-step is A @ log(errors),
        # the M-step is A.T @ probas: two sparse products per iteration.
        responses = sp.csr_matrix(
            (np.ones(len(labels)), (t, w * k + lab)), shape=(n_t, n_w * k), dtype=np.float64
        )
        responses_t = responses.T.tocsr()
        used = np.bincount(w * k + lab, minlength=n_w * k) > 0
        votes_per_task = np.bincount(t, minlength=n_t).astype(np.float64)

        task_index = {task: i for i, task in enumerate(self.tasks_)}
        gold_rows = np.array([task_index[x] for x in gold], dtype=np.int64)
        gold_cols = np.array([class_index[v] for v in gold.values()], dtype=np.int64)

        # Initialisation: majority-vote shares, as crowd-kit does.
        vote_counts = np.zeros((n_t, k))
        np.add.at(vote_counts, (t, lab), 1.0)
        probas = _clamp(vote_counts / vote_counts.sum(axis=1, keepdims=True), gold_rows, gold_cols)
        probas, priors, errors = self._expectation_maximisation(
            probas, responses, responses_t, used, votes_per_task, (gold_rows, gold_cols)
        )
        self.probas_ = probas
        self.priors_ = priors
        self.errors_ = errors
        best = probas.argmax(axis=1)
        self.labels_: dict[Hashable, Hashable] = {
            task: self.classes_[b] for task, b in zip(self.tasks_, best.tolist(), strict=True)
        }
        return self

    def _expectation_maximisation(
        self,
        probas: NDArray[np.float64],
        responses: sp.csr_matrix,
        responses_t: sp.csr_matrix,
        used: NDArray[np.bool_],
        votes_per_task: NDArray[np.float64],
        gold: tuple[NDArray[np.int64], NDArray[np.int64]],
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """EM from initial ``probas`` until the ELBO gains under ``tol``: probas, priors, errors."""
        n_w, k = len(self.workers_), len(self.classes_)
        gold_rows, gold_cols = gold
        n_responses = int(votes_per_task.sum())
        priors = probas.mean(axis=0)
        errors = _m_step(responses_t, probas, used, n_w, k)
        loss = -np.inf
        self.loss_history_: list[float] = []
        self.n_iter_ = 0
        for _ in range(self.n_iter):
            # E-step in log space: products of many probabilities underflow, sums of logs do
            # not. Subtracting each row's maximum before exp() keeps the largest term at 1.
            log_err = _log_errors(errors, used)
            log_post = np.log(np.maximum(priors, _EPS)) + np.asarray(responses @ log_err)
            log_post -= log_post.max(axis=1, keepdims=True)
            probas = np.exp(log_post)
            probas = _clamp(probas / probas.sum(axis=1, keepdims=True), gold_rows, gold_cols)
            priors = probas.mean(axis=0)
            errors = _m_step(responses_t, probas, used, n_w, k)
            new_loss = _elbo(probas, priors, _log_errors(errors, used), responses, votes_per_task)
            self.loss_history_.append(new_loss / n_responses)
            self.n_iter_ += 1
            if self.loss_history_[-1] - loss < self.tol:
                break
            loss = self.loss_history_[-1]
        return probas, priors, errors

    def fit_predict(
        self,
        tasks: Sequence[Hashable],
        workers: Sequence[Hashable],
        labels: Sequence[Hashable],
        gold: Mapping[Hashable, Hashable] | None = None,
    ) -> dict[Hashable, Hashable]:
        """:meth:`fit`, then return ``labels_``."""
        return self.fit(tasks, workers, labels, gold).labels_
