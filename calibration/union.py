"""The members of the auto-accept union: which scores are certified, on which gold, at which δ.

A *member* is one certification attempt with its own share ``w_k`` of δ (``Σ w_k = 1``,
:func:`member_weights`):

* the **all-gold members** (:func:`all_gold_members`), each tested on *all* the gold
  (:func:`certify_on_gold`), their scores fixed before any gold label is read: the panel vote
  share (the simple router that certified most on most measured panels, at
  :data:`VOTE_SHARE_SHARE` of δ), each judge alone with its order consistency and stated
  confidence (one per cluster of near-identical voters; the other simple router chooses one of
  these on the gold, here all are candidates), the panel's gold-free score
  (:func:`panel_score`: the cluster-weighted vote when some judge states probabilities, the
  Dawid-Skene posterior over one judge per cluster without them) and, when asked for,
  ``leaders`` judge-led votes (:func:`calibration.scores.led_vote`);
* the **selected route** (with the label model, at :data:`SELECTED_SHARE` of δ): the score that
  looks best on a *selection* part of the gold among the above and the logistic label model
  (fitted there), tested on the rest of the gold (:mod:`calibration.certify`).

Each member walks a fixed sequence of thresholds (every distinct score from the first count at
which a run at :func:`plan_accuracy` would pass, strictest first; scores only, never labels)
with exact Clopper-Pearson bounds. The policy keeps the certified member that accepts the most.

**Why the guarantee holds (union bound).** Write ``E_k`` for the event that member ``k``
certifies a threshold whose agreement is below the target. Its score and grid never depend on
the labels it is tested on (the all-gold scores read no label; the selected route is chosen
and planned on the selection part and tested on the disjoint rest), so the fixed-sequence test
bounds ``P(E_k) ≤ w_k·δ`` (Bauer 1991). Then ``P(E_1 or … or E_K) ≤ Σ w_k·δ = δ``
(Bonferroni), whatever the dependence between the members. Outside that union every certified
threshold is valid, so any choice among them made after seeing the gold, here the one with the
best coverage, is valid too. The weights depend on the member list only (counts, kinds), never
on a label. Simulated in ``tests/calibration/test_guarantee_simulation.py``.

The price of a member is the smaller level of every other one: the vote share keeps most of δ,
near-copies of a judge count once, and the measurements behind the shares are in
``docs/guarantee.md``.
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
    "POSTERIOR_MIN_VOTERS",
    "SELECTED_SHARE",
    "VOTE_SHARE_SHARE",
    "all_gold_members",
    "certify_on_gold",
    "gold_free_scorers",
    "member_weights",
    "order_consistency",
    "panel_score",
    "plan_accuracy",
    "rank_judges",
    "reports_probabilities",
]

#: Fewest independent voters (clusters) for the Dawid-Skene posterior: two that disagree are
#: symmetric to it.
POSTERIOR_MIN_VOTERS = 3


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


def panel_score(
    signals: Sequence[PairSignals], panel: Sequence[str], orders: Mapping[str, int]
) -> AnyScorer | None:
    """The panel's gold-free score, from the signals alone: with stated probabilities the
    cluster-weighted vote (:func:`calibration.scores.reliability_weights`) for
    :data:`POSTERIOR_MIN_VOTERS` or more judges and the plain vote share for one or two (for one,
    the judge's own vote); without them the Dawid-Skene posterior over one
    judge per cluster when there are :data:`POSTERIOR_MIN_VOTERS` or more clusters, else none
    (two voters that disagree are symmetric to Dawid-Skene, and the votes then take two or three
    values, not worth a share of δ)."""
    if not panel:
        return None
    if reports_probabilities(signals, panel):
        if len(panel) < POSTERIOR_MIN_VOTERS:
            return VoteScorer(tuple(panel), dict(orders))
        weights = reliability_weights(signals, panel)
        return None if weights is None else VoteScorer(tuple(panel), dict(orders), weights)
    reps = representatives(signals, judge_clusters(signals, panel))
    if len(reps) < POSTERIOR_MIN_VOTERS:
        return None
    return PosteriorScorer.fit(signals, reps)


def gold_free_scorers(
    signals: Sequence[PairSignals],
    panel: Sequence[str],
    orders: Mapping[str, int],
    leaders: int = 0,
) -> list[AnyScorer]:
    """The gold-free members' scores (module doc): ``leaders`` judge-led votes (one judge per
    cluster, best first by :func:`rank_judges`), then the panel's score where it has one."""
    out: list[AnyScorer] = []
    if leaders > 0 and len(panel) > 1:
        reps = representatives(signals, judge_clusters(signals, panel))
        out.extend(led_vote(j, panel, orders) for j in rank_judges(signals, reps)[:leaders])
    score = panel_score(signals, panel, orders)
    if score is not None:
        out.append(score)
    return out


#: The selected route's share of δ (the label model lives there; it needs gold to be fitted).
SELECTED_SHARE = 0.15
#: The panel vote share's share of δ among the all-gold members: the simple router that
#: certified most on most measured panels (``docs/guarantee.md``), so it is tested near full δ.
VOTE_SHARE_SHARE = 0.6


#: A weighted vote whose heaviest judge weighs this many times the next is led by that judge,
#: when that judge states probabilities (without them its vote takes two or three values and
#: certifies all or nothing; the vote share then ranks better).
DOMINANT_WEIGHT_RATIO = 2.0


def _dominated(scorer: AnyScorer) -> bool:
    """True for a reliability-weighted vote whose heaviest judge weighs at least
    :data:`DOMINANT_WEIGHT_RATIO` times the next one (weights are gold-free)."""
    if not isinstance(scorer, VoteScorer) or scorer.weights is None or len(scorer.weights) < 2:
        return False
    first, second = sorted(scorer.weights.values(), reverse=True)[:2]
    return first >= DOMINANT_WEIGHT_RATIO * second


def all_gold_members(
    signals: Sequence[PairSignals],
    panel: Sequence[str],
    orders: Mapping[str, int],
    leaders: int = 0,
) -> list[AnyScorer]:
    """Every score certified on all the gold, fixed before any gold label is read: the panel
    vote share (or the lone judge's vote; that judge's vote instead when the gold-free weights
    of the cluster-weighted vote say one judge dominates, :data:`DOMINANT_WEIGHT_RATIO`), each
    judge alone (its
    order consistency and stated confidence, :class:`calibration.scores.VoteScorer`), then the
    gold-free scores
    (:func:`gold_free_scorers`: the cluster-weighted vote or the Dawid-Skene posterior, and
    ``leaders`` judge-led votes). Duplicates (same stored body) are kept once.

    The best single judge of the simple router is chosen on the gold; here every judge (one
    per cluster of near-identical voters, :mod:`calibration.clusters`, which would certify
    nearly the same) is a candidate at its share of δ instead, so the choice is covered by the
    union bound."""
    out: list[AnyScorer] = [VoteScorer(tuple(panel), dict(orders))]
    if len(panel) > 1:
        reps = representatives(signals, judge_clusters(signals, panel))
        out.extend(VoteScorer((j,), dict(orders)) for j in reps)
    out.extend(gold_free_scorers(signals, panel, orders, leaders))
    lead = next((s for s in out if _dominated(s)), None)
    if isinstance(lead, VoteScorer) and lead.weights:  # one judge decides the weighted vote:
        top = max(lead.weights, key=lambda j: lead.weights[j] if lead.weights else 0.0)
        if reports_probabilities(signals, [top]):  # and its scores can rank: it leads
            out.insert(0, VoteScorer((top,), dict(orders)))

    seen: set[str] = set()
    unique = []
    for scorer in out:
        key = repr(sorted(scorer.to_json().items()))
        if key not in seen:
            seen.add(key)
            unique.append(scorer)
    return unique


def member_weights(members: Sequence[AnyScorer], with_selected: bool = True) -> list[float]:
    """Each all-gold member's share of δ, then the selected route's (last, when
    ``with_selected``); from the member list only, never labels, and summing to 1.

    The first member (the lead: the panel vote share, or a dominated weighted vote) gets
    :data:`VOTE_SHARE_SHARE`, the others split
    the rest of the all-gold share evenly, the selected route gets :data:`SELECTED_SHARE`."""
    selected = SELECTED_SHARE if with_selected else 0.0
    if not members:
        return [1.0] if with_selected else []
    if len(members) == 1:
        return [1.0 - selected] + ([selected] if with_selected else [])
    vote = VOTE_SHARE_SHARE if with_selected else VOTE_SHARE_SHARE / (1.0 - SELECTED_SHARE)
    rest = (1.0 - selected - vote) / (len(members) - 1)
    return [vote] + [rest] * (len(members) - 1) + ([selected] if with_selected else [])


def plan_accuracy(target: float) -> float:
    """The agreement a run is planned at to place the grid's first step: two thirds of the way
    from the target to 1 (0.95 at 0.85), so that one early error does not end the walk."""
    return target + 2.0 * (1.0 - target) / 3.0


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
    which a run at agreement :func:`plan_accuracy` would pass and walks down every distinct
    score (scores only, never labels; fixed-sequence testing pays nothing for a long grid).
    With ``predictive_level`` each step must also pass the exact check of the routed pairs'
    realised agreement at that level.
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
        plan_accuracy=plan_accuracy(target),
        application_scores=applied,
        predictive_level=predictive_level,
    )
    grid = [] if start is None else threshold_grid(scores, min_items=start, steps=len(scores))
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
    return Route("default", scorer, search, len(gold_pairs), share, level, scores, correct)
