"""A calibrated probability that the panel's label is right, learned from gold labels.

The signals of a pair become a feature vector (:class:`FeatureEncoder`): for every judge and
each presentation order, one indicator per verdict; one indicator per verdict when both orders
agree (order consistency); the self-reported and log-probability confidences of the verdict
given, when the judge reports them; the panel's vote shares and the share of the leading
verdict (panel agreement); and the log ratio of the response lengths. A multinomial logistic
regression over the gold classes (:class:`LabelModel`) turns them into class probabilities, so
the weights are learned: a judge that is usually right (GPT-4) counts more than one that is not
(Falcon), and an inconsistent verdict counts less than a consistent one.

Probabilities used to choose thresholds must not come from a model that saw the same items:
:func:`cross_fit_probabilities` returns out-of-fold probabilities (K-fold cross-fitting, as in
Chernozhukov et al., "Double/debiased machine learning", 2018; the same device keeps the
threshold search of Angelopoulos et al., "Learn then Test", 2021, honest).

Reference for the model: multinomial logistic regression (Hastie, Tibshirani & Friedman,
*The Elements of Statistical Learning*, 2nd ed., section 4.4), fitted by scikit-learn with an
L2 penalty; applying a fitted model needs only numpy (weights are kept as plain lists).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, StratifiedKFold

from calibration.signals import VERDICTS, PairSignals

__all__ = [
    "DEFAULT_PENALTIES",
    "FeatureEncoder",
    "LabelModel",
    "choose_penalty",
    "cross_fit_probabilities",
    "fit_label_model",
    "log_loss",
    "nested_cross_fit_probabilities",
]

#: Inverse L2 penalty strengths (scikit-learn's ``C``) tried by :func:`choose_penalty`.
DEFAULT_PENALTIES: tuple[float, ...] = (0.03, 0.1, 0.3, 1.0, 3.0)

FloatArray = NDArray[np.float64]


def _confidence_features(verdict: str | None, value: float | None) -> list[float]:
    """Centred confidence (value - 0.5) in the slot of the verdict it backs, zeros elsewhere."""
    return [value - 0.5 if verdict == c and value is not None else 0.0 for c in VERDICTS]


@dataclass
class FeatureEncoder:
    """Turns :class:`PairSignals` into a fixed-length feature vector for a given panel.

    ``confidence_judges`` / ``logprob_judges`` name the judges whose self-reported or
    log-probability confidences are used (those that reported any on the fitting data).
    """

    judges: list[str]
    confidence_judges: list[str] = field(default_factory=list)
    logprob_judges: list[str] = field(default_factory=list)
    use_length: bool = False

    @classmethod
    def fit(cls, signals: Sequence[PairSignals], judges: Sequence[str]) -> FeatureEncoder:
        """Choose the features the data supports: confidences only where some were reported."""
        conf: set[str] = set()
        logp: set[str] = set()
        for pair in signals:
            for name in judges:
                js = pair.judges.get(name)
                if js is None:
                    continue
                if js.confidence_ab is not None or js.confidence_ba is not None:
                    conf.add(name)
                if js.logprob_ab is not None or js.logprob_ba is not None:
                    logp.add(name)
        use_length = any(p.length_a > 0 or p.length_b > 0 for p in signals)
        return cls(
            judges=list(judges),
            confidence_judges=[j for j in judges if j in conf],
            logprob_judges=[j for j in judges if j in logp],
            use_length=use_length,
        )

    def transform_one(self, pair: PairSignals) -> list[float]:
        """The feature vector of one pair (see the module docstring for its parts)."""
        row: list[float] = []
        votes = dict.fromkeys(VERDICTS, 0.0)
        n_votes = 0
        conf_set, logp_set = set(self.confidence_judges), set(self.logprob_judges)
        for name in self.judges:
            js = pair.judges.get(name)
            ab = js.ab if js else None
            ba = js.ba if js else None
            for verdict in (ab, ba):
                row.extend(1.0 if verdict == c else 0.0 for c in VERDICTS)
                if verdict is not None:
                    votes[verdict] += 1.0
                    n_votes += 1
            consistent = js is not None and js.consistent
            row.extend(1.0 if consistent and ab == c else 0.0 for c in VERDICTS)
            if name in conf_set:
                row.extend(_confidence_features(ab, js.confidence_ab if js else None))
                row.extend(_confidence_features(ba, js.confidence_ba if js else None))
            if name in logp_set:
                row.extend(_confidence_features(ab, js.logprob_ab if js else None))
                row.extend(_confidence_features(ba, js.logprob_ba if js else None))
        shares = [votes[c] / n_votes if n_votes else 0.0 for c in VERDICTS]
        row.extend(shares)
        row.append(max(shares))
        if self.use_length:
            row.append(math.log((1.0 + pair.length_a) / (1.0 + pair.length_b)))
        return row

    def transform(self, signals: Sequence[PairSignals]) -> FloatArray:
        """Feature matrix, one row per pair."""
        return np.asarray([self.transform_one(p) for p in signals], dtype=np.float64).reshape(
            len(signals), -1
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "judges": list(self.judges),
            "confidence_judges": list(self.confidence_judges),
            "logprob_judges": list(self.logprob_judges),
            "use_length": self.use_length,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> FeatureEncoder:
        return cls(
            judges=list(d["judges"]),
            confidence_judges=list(d.get("confidence_judges", [])),
            logprob_judges=list(d.get("logprob_judges", [])),
            use_length=bool(d.get("use_length", False)),
        )


@dataclass
class LabelModel:
    """Softmax model ``P(class k | x) = exp(w_k·x + b_k) / Σ_j exp(w_j·x + b_j)``.

    ``coef`` has one row per class; a binary model is stored with a zero first row, which is
    the same sigmoid. A single-class model gives probability 1 to its class.
    """

    classes: list[str]
    coef: list[list[float]]
    intercept: list[float]

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Class probabilities, shape (n, len(classes))."""
        w = np.asarray(self.coef, dtype=np.float64)
        b = np.asarray(self.intercept, dtype=np.float64)
        z = x @ w.T + b
        z -= z.max(axis=1, keepdims=True)  # stable softmax
        e = np.exp(z)
        out: FloatArray = e / e.sum(axis=1, keepdims=True)
        return out

    def to_json(self) -> dict[str, Any]:
        return {"classes": self.classes, "coef": self.coef, "intercept": self.intercept}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LabelModel:
        return cls(
            classes=[str(c) for c in d["classes"]],
            coef=[[float(v) for v in row] for row in d["coef"]],
            intercept=[float(v) for v in d["intercept"]],
        )


def fit_label_model(x: FloatArray, y: Sequence[str], *, c: float = 1.0) -> LabelModel:
    """Fit the L2-penalised multinomial logistic regression of ``y`` on ``x``.

    ``c`` is the inverse penalty strength (scikit-learn's ``C``).
    """
    classes = sorted(set(y))
    d = x.shape[1]
    if len(classes) == 1:
        return LabelModel(classes=classes, coef=[[0.0] * d], intercept=[0.0])
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(x, np.asarray(y))
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if coef.shape[0] == 1:  # binary: sigmoid == softmax over (0, w)
        coef = np.vstack([np.zeros(d), coef])
        intercept = np.concatenate([[0.0], intercept])
    return LabelModel(
        classes=[str(c) for c in model.classes_],
        coef=coef.tolist(),
        intercept=intercept.tolist(),
    )


def cross_fit_probabilities(
    x: FloatArray,
    y: Sequence[str],
    classes: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 0,
    c: float = 1.0,
) -> FloatArray:
    """Out-of-fold class probabilities (columns in the order of ``classes``).

    Each item's probabilities come from a model fitted on the other folds. Folds are stratified
    by class when every class has at least ``folds`` items; with fewer than two items there is
    nothing to cross-fit and the result is uniform.
    """
    n = len(y)
    out = np.full((n, len(classes)), 1.0 / max(len(classes), 1))
    if n < 2:
        return out
    labels = np.asarray(y)
    counts = [int((labels == k).sum()) for k in set(y)]
    k = min(folds, n)
    splitter: StratifiedKFold | KFold
    if min(counts) >= k:
        splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
    index = {cls: i for i, cls in enumerate(classes)}
    for train, test in splitter.split(x, labels):
        model = fit_label_model(x[train], [str(v) for v in labels[train]], c=c)
        proba = model.predict_proba(x[test])
        block = np.zeros((len(test), len(classes)))
        for j, cls in enumerate(model.classes):
            block[:, index[cls]] = proba[:, j]
        out[test] = block
    return out


def log_loss(proba: FloatArray, y: Sequence[str], classes: Sequence[str]) -> float:
    """Mean negative log-likelihood ``-(1/n) Σ log p_i(y_i)`` (probabilities clipped at 1e-12).

    Columns of ``proba`` follow ``classes``; a label outside ``classes`` gets probability 0.
    """
    index = {c: i for i, c in enumerate(classes)}
    picked = np.asarray(
        [proba[i, index[c]] if c in index else 0.0 for i, c in enumerate(y)], dtype=np.float64
    )
    return float(-np.log(np.clip(picked, 1e-12, 1.0)).mean()) if len(picked) else 0.0


def choose_penalty(
    x: FloatArray,
    y: Sequence[str],
    *,
    penalties: Sequence[float] = DEFAULT_PENALTIES,
    folds: int = 3,
    seed: int = 0,
) -> float:
    """The ``C`` of ``penalties`` with the smallest cross-validated log loss on ``(x, y)``.

    K-fold cross-validation of the penalty (Hastie, Tibshirani & Friedman, *The Elements of
    Statistical Learning*, 2nd ed., section 7.10); ties go to the stronger penalty (smaller
    ``C``). With fewer than ``2·folds`` items there is too little to compare and the middle
    value of ``penalties`` is returned.
    """
    if not penalties:
        raise ValueError("no penalties to choose from")
    ordered = sorted(penalties)
    classes = sorted(set(y))
    if len(y) < 2 * folds or len(classes) < 2:
        return ordered[len(ordered) // 2]
    losses = [
        log_loss(cross_fit_probabilities(x, y, classes, folds=folds, seed=seed, c=c), y, classes)
        for c in ordered
    ]
    return ordered[int(np.argmin(losses))]


def nested_cross_fit_probabilities(
    x: FloatArray,
    y: Sequence[str],
    classes: Sequence[str],
    *,
    folds: int = 5,
    inner_folds: int = 3,
    seed: int = 0,
    penalties: Sequence[float] = DEFAULT_PENALTIES,
) -> FloatArray:
    """Out-of-fold probabilities where each fold's penalty is itself chosen by inner CV.

    Nested cross-validation (Varma & Simon, "Bias in error estimation when using
    cross-validation for model selection", BMC Bioinformatics 2006): for every outer fold the
    penalty is chosen by :func:`choose_penalty` on the other folds only, then the model is
    fitted there and scores the fold. The result estimates how the whole procedure (penalty
    choice included) ranks items it never saw.
    """
    n = len(y)
    out = np.full((n, len(classes)), 1.0 / max(len(classes), 1))
    if n < 2:
        return out
    labels = np.asarray(y)
    k = min(folds, n)
    index = {cls: i for i, cls in enumerate(classes)}
    for train, test in KFold(n_splits=k, shuffle=True, random_state=seed).split(x):
        y_train = [str(v) for v in labels[train]]
        c = choose_penalty(x[train], y_train, penalties=penalties, folds=inner_folds, seed=seed)
        model = fit_label_model(x[train], y_train, c=c)
        proba = model.predict_proba(x[test])
        block = np.zeros((len(test), len(classes)))
        for j, cls in enumerate(model.classes):
            block[:, index[cls]] = proba[:, j]
        out[test] = block
    return out
