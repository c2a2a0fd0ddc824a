"""Gold-driven choice of the score at little cost: every candidate certified on all the gold.

The candidates are scores fixed before any gold label is read (:func:`gold_free_scorers`):
each judge leading (:func:`calibration.scores.led_vote`), the panel's vote share, and the
panel's gold-free score (the cluster-weighted vote when some judge states probabilities, else
the Dawid-Skene posterior). Candidate ``k`` gets a share ``w_k`` of δ (:func:`member_weights`:
a function of the number of candidates only, ``Σ w_k = 1``) and its own fixed-sequence test on
*all* the gold (:func:`certify_on_gold`), over a grid fixed from its scores alone. The policy
keeps the certified candidate that accepts the most.

**Why the guarantee holds (union bound).** Write ``E_k`` for the event that candidate ``k``'s
test certifies a threshold whose agreement is below the target. Its grid and score do not
depend on the gold labels, so the fixed-sequence test bounds ``P(E_k) ≤ w_k·δ`` (Bauer 1991).
Then ``P(E_1 or … or E_K) ≤ Σ w_k·δ = δ`` (Bonferroni), whatever the dependence between the
candidates' tests. Outside that union every certified threshold is valid, so any choice
among them, here the one with the best coverage, made after seeing the gold, is valid too.
An optional member fitted on gold (the label model, chosen on a selection part and tested on
the rest, :mod:`calibration.certify`) joins the union with its own share and the same
argument.

The price of choosing is the smaller level ``δ/K`` per candidate, so the candidate list is
kept short: judges whose verdicts are near-identical lead once (one per cluster,
:mod:`calibration.clusters`), and at most :data:`MAX_LED_JUDGES` judges lead, ranked by their
gold-free Dawid-Skene accuracy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from calibration.certify import Route, make_part
from calibration.clusters import judge_clusters, representatives
from calibration.posterior import PosteriorScorer
from calibration.scores import AnyScorer, VoteScorer, led_vote, reliability_weights
from calibration.signals import PairSignals
from calibration.thresholds import first_testable_count, fixed_sequence_search, threshold_grid

__all__ = [
    "MAX_LED_JUDGES",
    "POSTERIOR_MIN_VOTERS",
    "ROUTE_STEPS",
    "certify_on_gold",
    "gold_free_scorers",
    "member_weights",
    "reports_probabilities",
]

#: Most judges that lead a candidate of their own (each costs a share of δ).
MAX_LED_JUDGES = 6
#: Fewest independent voters (clusters) for the Dawid-Skene posterior: two that disagree are
#: symmetric to it.
POSTERIOR_MIN_VOTERS = 3
#: Steps of each candidate's grid below its first testable count.
ROUTE_STEPS = 20


def reports_probabilities(signals: Sequence[PairSignals], panel: Sequence[str]) -> bool:
    """True when some panel judge states a probability (confidence or log-probability)."""
    names = set(panel)
    return any(
        js.confidence_ab is not None
        or js.confidence_ba is not None
        or js.logprob_ab is not None
        or js.logprob_ba is not None
        for pair in signals
        for name, js in pair.judges.items()
        if name in names
    )


def _leaders(
    signals: Sequence[PairSignals], panel: Sequence[str], reps: Sequence[str]
) -> list[str]:
    """The cluster representatives that lead a candidate: all of them up to
    :data:`MAX_LED_JUDGES`, else those Dawid-Skene finds most accurate (no gold read)."""
    if len(reps) <= MAX_LED_JUDGES:
        return list(reps)
    fitted = PosteriorScorer.fit(signals, reps)
    if fitted is None:
        return list(reps[:MAX_LED_JUDGES])
    accuracy = {j: fitted.judge_accuracy(j) or 0.0 for j in reps}
    ranked = sorted(reps, key=lambda j: -accuracy[j])  # stable: panel order on ties
    return [j for j in panel if j in ranked[:MAX_LED_JUDGES]]


def gold_free_scorers(
    signals: Sequence[PairSignals], panel: Sequence[str], orders: Mapping[str, int]
) -> list[AnyScorer]:
    """The candidates, from the signals alone (module doc): each leading judge, the panel vote
    share, and the panel's gold-free score where the panel has one."""
    if not panel:
        return []
    if len(panel) == 1:
        return [VoteScorer((panel[0],), dict(orders))]
    clusters = judge_clusters(signals, panel)
    reps = representatives(signals, clusters)
    out: list[AnyScorer] = [led_vote(j, panel, orders) for j in _leaders(signals, panel, reps)]
    out.append(VoteScorer(tuple(panel), dict(orders)))
    if reports_probabilities(signals, panel):
        weights = reliability_weights(signals, panel)
        if weights is not None:
            out.append(VoteScorer(tuple(panel), dict(orders), weights))
    elif len(reps) >= POSTERIOR_MIN_VOTERS:
        posterior = PosteriorScorer.fit(signals, reps)
        if posterior is not None:
            out.append(posterior)
    return out


def member_weights(count: int) -> list[float]:
    """Each candidate's share of δ: ``1/K`` each (Bonferroni; counts only, never labels)."""
    return [1.0 / count] * count if count > 0 else []


def certify_on_gold(
    scorer: AnyScorer,
    parts: tuple[list[PairSignals], list[PairSignals]],
    gold: Mapping[str, str],
    *,
    panel: Sequence[str],
    accept_labels: Sequence[str],
    target: float,
    level: float,
    predictive_level: float | None,
) -> Route:
    """Fixed sequence of ``scorer`` on all the gold pairs at ``level``.

    ``parts`` are (gold pairs, pairs to route). The grid starts at the first count of items at
    which a run at agreement ``(1 + target) / 2`` would pass and walks down in about
    :data:`ROUTE_STEPS` even steps (scores only, never labels). With ``predictive_level`` each
    step must also pass the exact check of the routed pairs' realised agreement at that level.
    """
    gold_pairs, routed_pairs = parts
    part = make_part(gold_pairs, *scorer.score_many(gold_pairs), panel, accept_labels)
    routed = make_part(routed_pairs, *scorer.score_many(routed_pairs), panel, accept_labels)
    scores = part.scores[part.acceptable].tolist()
    correct = part.correct(gold)[part.acceptable].tolist()
    applied = routed.scores[routed.acceptable].tolist() if predictive_level else None
    start = first_testable_count(
        scores,
        target=target,
        delta=level,
        plan_accuracy=(1.0 + target) / 2.0,
        application_scores=applied,
        predictive_level=predictive_level,
    )
    grid = [] if start is None else threshold_grid(scores, min_items=start, steps=ROUTE_STEPS)
    search = fixed_sequence_search(
        scores,
        correct,
        target=target,
        delta=level,
        grid=grid,
        application_scores=applied,
        predictive_level=predictive_level,
    )
    share = 0.0
    if search.certified:
        pool = routed if routed_pairs else part
        hits = pool.acceptable & (pool.scores >= search.threshold)
        share = float(np.mean(hits)) if len(pool.pairs) else 0.0
    return Route("gold", scorer, search, len(gold_pairs), share, level, scores, correct)
