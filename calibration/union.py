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
:mod:`calibration.clusters`), and at most :data:`MAX_LED_JUDGES` judges lead, ranked without
gold (:func:`rank_judges`).
"""

from __future__ import annotations

import math
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
    "order_consistency",
    "rank_judges",
    "reports_probabilities",
]

#: Most judges that lead a candidate of their own (each costs a share of δ).
import os

MAX_LED_JUDGES = int(os.environ.get("WT23_MAXLED", "3"))
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


def order_consistency(signals: Sequence[PairSignals], judge: str) -> float | None:
    """Share of the pairs the judge answered in both orders where it gave the same verdict
    (``None`` when it never answered both): a gold-free sign of a judge's quality, since a
    judge that changes its answer when the order changes is wrong on one of the two."""
    both = [
        js.consistent
        for p in signals
        if (js := p.judges.get(judge)) is not None and js.ab is not None and js.ba is not None
    ]
    return sum(both) / len(both) if both else None


def rank_judges(signals: Sequence[PairSignals], judges: Sequence[str]) -> list[str]:
    """``judges`` best first, without gold: those asked in both orders by their order
    consistency, then the others by their Dawid-Skene accuracy (fitted on ``judges``).
    Agreement with the other judges is no guide here: on adversarial pairs the weak judges
    agree with each other on the wrong answer (LLMBar Adversarial)."""
    consistency = {j: order_consistency(signals, j) for j in judges}
    fitted = PosteriorScorer.fit(signals, judges)
    accuracy = {j: (fitted.judge_accuracy(j) if fitted else None) or 0.0 for j in judges}

    def key(j: str) -> tuple[int, float]:
        c = consistency[j]
        return (0, -c) if c is not None else (1, -accuracy[j])

    return sorted(judges, key=key)  # stable: panel order on ties


def _leaders(signals: Sequence[PairSignals], reps: Sequence[str]) -> list[str]:
    """The cluster representatives that lead a candidate: the :data:`MAX_LED_JUDGES` best by
    :func:`rank_judges` (no gold read), in panel order."""
    chosen = set(rank_judges(signals, reps)[:MAX_LED_JUDGES])
    return [j for j in reps if j in chosen]


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
    if os.environ.get("WT23_ALONE"):
        out: list[AnyScorer] = [VoteScorer((j,), dict(orders)) for j in _leaders(signals, reps)]
    else:
        out = [led_vote(j, panel, orders) for j in _leaders(signals, reps)]
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


#: The label model's share of δ when it joins (the gold-free candidates share the rest).
MODEL_SHARE = float(os.environ.get("WT23_MODEL", "0.5"))


def member_weights(gold_free: int, model: bool) -> list[float]:
    """Each member's share of δ, from counts only (never labels): with the label model,
    :data:`MODEL_SHARE` for it (last) and the rest split evenly among the ``gold_free``
    candidates; without it, ``1/K`` each. The shares sum to 1 (Bonferroni)."""
    if not model:
        return [1.0 / gold_free] * gold_free if gold_free else []
    if not gold_free:
        return [1.0]
    return [(1.0 - MODEL_SHARE) / gold_free] * gold_free + [MODEL_SHARE]


#: Where the chains of a candidate start: at the first count where a run at agreement
#: ``target + f·(1 - target)`` would pass, for each ``f`` here (an early and a late start).
CHAIN_STARTS = tuple(float(x) for x in os.environ.get("WT23_CHAINS", "0.75,0.5").split(","))


def chain_grids(
    scores: Sequence[float],
    target: float,
    level: float,
    applied: Sequence[float] | None,
    predictive_level: float | None,
) -> list[list[float]]:
    """The distinct grids of a candidate's chains (scores only, never labels); each chain is
    then tested at ``level`` over the number of grids. ``[[]]`` when no start can pass."""
    grids: list[list[float]] = []
    if os.environ.get("WT23_FRAC"):
        from calibration.thresholds import min_items_to_certify as mic

        st = max(mic(target, level), math.ceil(float(os.environ["WT23_FRAC"]) * len(scores)))
        g = threshold_grid(scores, min_items=st, steps=ROUTE_STEPS) if st <= len(scores) else []
        return [g]
    for f in CHAIN_STARTS:
        start = first_testable_count(
            scores,
            target=target,
            delta=level / len(CHAIN_STARTS),
            plan_accuracy=target + f * (1.0 - target),
            application_scores=applied,
            predictive_level=predictive_level,
        )
        grid = [] if start is None else threshold_grid(scores, min_items=start, steps=ROUTE_STEPS)
        if grid and grid not in grids:
            grids.append(grid)
    return grids or [[]]


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
    grids = chain_grids(scores, target, level, applied, predictive_level)
    searches = [
        fixed_sequence_search(
            scores,
            correct,
            target=target,
            delta=level / len(grids),
            grid=grid,
            application_scores=applied,
            predictive_level=predictive_level,
        )
        for grid in grids
    ]
    search = max(searches, key=lambda r: (r.certified, r.accepted))
    share = 0.0
    if search.certified:
        pool = routed if routed_pairs else part
        hits = pool.acceptable & (pool.scores >= search.threshold)
        share = float(np.mean(hits)) if len(pool.pairs) else 0.0
    return Route("gold", scorer, search, len(gold_pairs), share, level, scores, correct)
