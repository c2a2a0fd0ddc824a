"""Candidate scores for auto-acceptance: what a policy ranks pairs by before a threshold.

A *scorer* maps a pair's :class:`PairSignals` to a label and a score in [0, 1] (higher = more
likely right). The policy certifies a threshold on one scorer, chosen among candidates on part
of the gold (:mod:`calibration.selection`). Candidates:

* :class:`VoteScorer` over **one judge**: the share of that judge's expected calls (one per
  order it is asked in) that back the label, each call weighted by the judge's own probability
  when it reports one (log-probability confidence first, else self-reported confidence, else
  1). A judge asked in both orders scores 1 when it gives the same verdict both times, 0.5 when
  it flips or one call failed: agreement of both orders is the confidence (as in Jung et al.,
  "Trust or Escalate", ICLR 2025, and FastChat's order-swap rule).
* :class:`VoteScorer` over **the panel**: the same share pooled over every judge and order
  (vote share; 1 = unanimous in both orders), the simple signal of Verga et al., "Replacing
  Judges with Juries" (2024).
* :class:`VoteScorer` over the panel **with weights** (:func:`reliability_weights`): each
  judge is one voter whose vote share (over its orders) counts ``log(a/(1 - a))`` times, ``a``
  its accuracy as Dawid-Skene estimates it from the verdicts alone (no gold), the optimal
  weights for independent voters (Nitzan and Paroush, "Optimal decision rules in uncertain
  dichotomous choice situations", International Economic Review 1982). A strong judge among
  weak ones then decides nearly alone; judges alike in accuracy share the vote evenly.
* :class:`ModelScorer`: the calibrated multinomial logistic label model of
  :mod:`calibration.calibrator` (argmax class and its probability), fitted on gold.
* :class:`~calibration.posterior.PosteriorScorer`: the Dawid-Skene posterior of the label,
  each judge's order an annotator of its own, fitted on every pair's verdicts without gold.

Vote scores use no gold at all; only the model and the choice among candidates do. The label
of a vote is the verdict with the largest share; a tie at the top is broken in the fixed order
of :data:`calibration.signals.VERDICTS` (deterministic, so the certified rule is a function).
Pairs nobody judged get label ``None`` and score 0.

:func:`order_gated` is the routing gate that is part of every certified rule: a pair whose panel
has no order-consistent judge while some judge flipped or failed to answer is never accepted
(:mod:`routing.router` applies the same function).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from calibration.calibrator import FeatureEncoder, LabelModel
from calibration.clusters import judge_clusters, representatives
from calibration.posterior import PosteriorScorer
from calibration.scoring import score_each
from calibration.signals import VERDICTS, JudgeSignals, PairSignals

__all__ = [
    "AnyScorer",
    "ModelScorer",
    "Scorer",
    "VoteScorer",
    "call_weight",
    "judge_orders",
    "led_vote",
    "order_gated",
    "reliability_weights",
    "scorer_from_json",
]

FloatArray = NDArray[np.float64]


class Scorer(Protocol):
    """Anything that labels and scores pairs and can be stored as JSON."""

    @property
    def kind(self) -> str: ...

    @property
    def name(self) -> str: ...

    def score_many(self, signals: Sequence[PairSignals]) -> tuple[list[str | None], FloatArray]:
        """Label (``None`` when unjudged) and score in [0, 1] of every pair, in order."""
        ...

    def to_json(self) -> dict[str, Any]: ...


def judge_orders(signals: Sequence[PairSignals], judges: Sequence[str]) -> dict[str, int]:
    """How many calls each judge is expected to make per pair: 2 if it was ever asked in the
    B-first order (or ever failed in it) on ``signals``, else 1."""
    out: dict[str, int] = {}
    for name in judges:
        both = False
        for pair in signals:
            js = pair.judges.get(name)
            if js is not None and (js.ba is not None or "BA" in js.unparseable_orders):
                both = True
                break
        out[name] = 2 if both else 1
    return out


def call_weight(confidence: float | None, logprob: float | None) -> float:
    """Weight of one call's vote: its log-probability confidence, else its stated confidence,
    else 1 (a judge that reports no probability backs its verdict fully)."""
    if logprob is not None:
        return float(logprob)
    if confidence is not None:
        return float(confidence)
    return 1.0


def _votes(js: JudgeSignals, into: dict[str, float], weight: float = 1.0) -> None:
    """Add each parsed call's :func:`call_weight`, times ``weight``, to its verdict in ``into``."""
    for verdict, conf, logp in (
        (js.ab, js.confidence_ab, js.logprob_ab),
        (js.ba, js.confidence_ba, js.logprob_ba),
    ):
        if verdict is not None:
            into[verdict] += weight * call_weight(conf, logp)


@dataclass(frozen=True)
class VoteScorer:
    """Confidence-weighted vote share of ``judges`` (one judge or a panel); see module doc.

    ``orders`` gives each judge's expected calls per pair (1 or 2): a missing or failed call
    counts as a vote against every label. With ``weights`` (judge -> weight > 0) each judge is
    one voter, whatever its number of calls: its own vote share (votes over its expected calls)
    counts ``weight`` times, and the score is the weighted sum over the sum of the weights. A
    judge's two orders are far from independent, so they are not two voters; a reward model
    scoring a pair once weighs as much as an LLM judge asked in both orders.
    """

    judges: tuple[str, ...]
    orders: Mapping[str, int]
    weights: Mapping[str, float] | None = None
    lead: str | None = None  # set by :func:`led_vote`: the judge whose vote decides

    @property
    def kind(self) -> str:
        if self.lead is not None:
            return "led"
        if len(self.judges) == 1:
            return "judge"
        return "panel" if self.weights is None else "weighted"

    @property
    def name(self) -> str:
        if len(self.judges) == 1:
            judge = self.judges[0]
            how = "both-order vote" if self.orders.get(judge, 1) == 2 else "vote"
            return f"judge {judge} ({how})"
        if self.lead is not None:
            how = "both-order vote" if self.orders.get(self.lead, 1) == 2 else "vote"
            return f"judge {self.lead} ({how}), ties broken by the other judges"
        if self.weights is not None:
            return f"reliability-weighted panel vote share ({len(self.judges)} judges)"
        return f"panel vote share ({len(self.judges)} judges)"

    def _weight(self, judge: str) -> float:
        """What one of the judge's votes counts: 1 unweighted, else its weight over its calls."""
        if self.weights is None:
            return 1.0
        return float(self.weights.get(judge, 0.0)) / self.orders.get(judge, 1)

    def score_one(self, pair: PairSignals) -> tuple[str | None, float]:
        """Label and score of one pair."""
        votes = dict.fromkeys(VERDICTS, 0.0)
        judged = False
        for name in self.judges:
            js = pair.judges.get(name)
            if js is not None and js.verdicts:
                judged = True
                _votes(js, votes, self._weight(name))
        if not judged:
            return None, 0.0
        label = max(VERDICTS, key=lambda v: votes[v])  # first of VERDICTS on ties
        total = sum(self._weight(j) * self.orders.get(j, 1) for j in self.judges)
        return label, min(1.0, votes[label] / total) if total > 0 else 0.0

    def score_many(self, signals: Sequence[PairSignals]) -> tuple[list[str | None], FloatArray]:
        """Label and score of every pair, in order."""
        return score_each(self.score_one, signals)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "vote",
            "judges": list(self.judges),
            "orders": {j: int(self.orders.get(j, 1)) for j in self.judges},
        }
        if self.weights is not None:
            out["weights"] = {j: float(self.weights.get(j, 0.0)) for j in self.judges}
        if self.lead is not None:
            out["lead"] = self.lead
        return out


#: What the other judges weigh together in a judge-led vote (:func:`led_vote`), the lead
#: weighing 1: enough to order the lead's equal scores, never to overturn a lead that backs one
#: label (its smallest margin is one call's weight, at least 0.5 for a stated probability).
LED_OTHERS_WEIGHT = 0.1


def led_vote(lead: str, judges: Sequence[str], orders: Mapping[str, int]) -> VoteScorer:
    """Judge ``lead`` alone, its equal scores ordered by the rest of the panel.

    A weighted :class:`VoteScorer` where ``lead`` weighs 1 and the others share
    :data:`LED_OTHERS_WEIGHT`: the label is the lead's own whenever its calls lean one way (its
    order consistency and stated confidence set its score, as for the judge alone), and the
    panel decides only where the lead is split (it flipped between orders). Among pairs the lead
    scores alike, those the panel backs score higher, so a threshold can stop between them
    instead of accepting or refusing all the lead's consistent verdicts at once.
    """
    others = [j for j in judges if j != lead]
    if not others:
        return VoteScorer((lead,), dict(orders))
    weights = {lead: 1.0, **{j: LED_OTHERS_WEIGHT / len(others) for j in others}}
    return VoteScorer((lead, *others), dict(orders), weights, lead)


#: Accuracies are clipped to this range before the log-odds weight (a judge Dawid-Skene finds
#: no better than chance still votes a little; none outweighs the rest without limit).
WEIGHT_ACCURACY_RANGE = (0.55, 0.99)


def reliability_weights(
    signals: Sequence[PairSignals], judges: Sequence[str]
) -> dict[str, float] | None:
    """Each judge's weight: its cluster's ``log(a/(1 - a))`` split evenly among the cluster's
    members (:func:`calibration.clusters.judge_clusters`: judges with near-identical verdicts
    count as one voter), ``a`` the accuracy of the cluster's representative as Dawid-Skene
    estimates it from the verdicts of ``signals`` with one representative per cluster and no
    gold label (:meth:`PosteriorScorer.judge_accuracy`), clipped to
    :data:`WEIGHT_ACCURACY_RANGE`; a judge with no call in ``signals`` gets the lowest weight.
    ``None`` when the model cannot be fitted (fewer than two annotators or one answer in all).
    Needs three or more independent judges to mean anything: two judges that disagree are
    symmetric to it."""
    clusters = judge_clusters(signals, judges)
    reps = representatives(signals, clusters)
    fitted = PosteriorScorer.fit(signals, reps)
    if fitted is None:
        return None
    low, high = WEIGHT_ACCURACY_RANGE
    weights: dict[str, float] = {}
    for cluster, rep in zip(clusters, reps, strict=True):
        accuracy = fitted.judge_accuracy(rep)
        a = min(max(low if accuracy is None else accuracy, low), high)
        for judge in cluster:
            weights[judge] = math.log(a / (1.0 - a)) / len(cluster)
    return {j: weights[j] for j in judges}


@dataclass(frozen=True)
class ModelScorer:
    """The logistic label model: argmax class and its probability (``penalty_c`` for reports)."""

    encoder: FeatureEncoder
    model: LabelModel
    penalty_c: float = 1.0

    @property
    def kind(self) -> str:
        return "model"

    @property
    def name(self) -> str:
        return f"logistic label model (C={self.penalty_c:g})"

    def score_many(self, signals: Sequence[PairSignals]) -> tuple[list[str | None], FloatArray]:
        judged = [
            i
            for i, p in enumerate(signals)
            if any(p.judges[j].verdicts for j in self.encoder.judges if j in p.judges)
        ]
        labels: list[str | None] = [None] * len(signals)
        scores = np.zeros(len(signals))
        if not judged or not self.model.classes:
            return labels, scores
        proba = self.model.predict_proba(self.encoder.transform([signals[i] for i in judged]))
        best = proba.argmax(axis=1)
        for row, i in enumerate(judged):
            labels[i] = self.model.classes[int(best[row])]
            scores[i] = float(proba[row, best[row]])
        return labels, scores

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "model",
            "penalty_c": self.penalty_c,
            "encoder": self.encoder.to_json(),
            "model": self.model.to_json(),
        }


#: Every kind of candidate score a policy may certify.
AnyScorer = VoteScorer | ModelScorer | PosteriorScorer


def scorer_from_json(d: Mapping[str, Any]) -> AnyScorer:
    """Rebuild a scorer stored by ``to_json``."""
    kind = d.get("kind")
    if kind == "posterior":
        return PosteriorScorer.from_json(d)
    if kind == "vote":
        judges = tuple(str(j) for j in d["judges"])
        orders = {str(k): int(v) for k, v in dict(d.get("orders", {})).items()}
        weights = d.get("weights")
        lead = d.get("lead")
        return VoteScorer(
            judges,
            orders,
            None if weights is None else {str(k): float(v) for k, v in dict(weights).items()},
            None if lead is None else str(lead),
        )
    if kind == "model":
        return ModelScorer(
            FeatureEncoder.from_json(dict(d["encoder"])),
            LabelModel.from_json(dict(d["model"])),
            float(d.get("penalty_c", 1.0)),
        )
    raise ValueError(f"unknown scorer kind {kind!r}")


def order_gated(pair: PairSignals, judges: Sequence[str]) -> bool:
    """True when no panel judge gave the same verdict in both orders while some judge flipped
    or failed to answer (for one judge: it flipped, or one of its calls was unparseable).

    Verdicts recorded in one order only carry no position-bias evidence and are not gated.
    """
    panel = [pair.judges[j] for j in (judges or sorted(pair.judges)) if j in pair.judges]
    if any(js.consistent for js in panel):
        return False
    return any(js.flipped or js.unparseable_orders for js in panel)
