"""The members of the auto-accept union: which scores are certified, on which gold, at which δ.

A *member* is one certification attempt with its own share ``w_k`` of δ (``Σ w_k = 1``,
:func:`member_weights`):

* the **all-gold members** (:func:`all_gold_members`), each tested on *all* the gold
  (:func:`certify_on_gold`), chosen from the panel's shape before any gold label is read, so
  that the score likely to certify most gets most of δ: the **lead** (the panel vote share, or
  the judge stating probabilities that the gold-free weights say decides) at
  :data:`LEAD_SHARE`, and at most one or two **second members** sharing the rest (the
  Dawid-Skene posterior and the judge ranked first without gold for a panel without
  probabilities, the cluster-weighted vote when a judge leads it, ``leaders`` judge-led votes
  when asked for);
* the **selected route** (with the label model, at :data:`SELECTED_SHARE` of δ): the score that
  looks best on a *selection* part of the gold among the panel vote share, each judge alone,
  the gold-free scores and the logistic label model (fitted there), tested on the rest of the
  gold (:mod:`calibration.certify`).

Each all-gold member walks :data:`WALK_STEPS` thresholds after its first (:func:`walk_plan`:
scores only, never labels), strictest first, with exact Clopper-Pearson bounds, as a fallback
procedure (:data:`FALLBACK_FIRST` of its level on the first step, the rest spread over the
later ones, a passed step's level carried to the next). The policy keeps the certified member
that accepts the most.

**Why the guarantee holds (union bound).** Write ``E_k`` for the event that member ``k``
certifies a threshold whose agreement is below the target. Its score, grid and step weights
never depend on the labels it is tested on (the all-gold scores and their plans read no label;
the selected route is chosen and planned on the selection part and tested on the disjoint
rest), so its walk bounds ``P(E_k) ≤ w_k·δ``. For the fallback walk at level ``L`` (Wiens
2003; Wiens & Dmitrienko 2005): until the first wrong certification, a level is carried only
through steps whose null is false, so the step of each true null ``i`` is tested at ``L·Σ w_j``
over its own run of steps ``j`` after the previous true null; these runs are disjoint, so the
chance that some true null is the first wrongly certified is at most ``L·Σ_j w_j = L`` (each
exact Clopper-Pearson test errs at most at its level). A plain fixed sequence (Bauer 1991) is
the case ``w = (1, 0, …)``. Then ``P(E_1 or … or E_K) ≤ Σ w_k·δ = δ`` (Bonferroni), whatever
the dependence between the members. Outside that union every certified threshold is valid, so
any choice among them made after seeing the gold, here the one with the best coverage, is valid
too. The member list and
the weights depend on the signals only (panel shape, gold-free weights), never on a label.
Simulated in ``tests/calibration/test_guarantee_simulation.py``.

The price of a member is the smaller level of every other one, and on most panels
certification is nearly all-or-nothing at the lead's first steps, so the lead's level decides;
the measurements behind the shares are in ``docs/guarantee.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from calibration.certify import Route, make_part
from calibration.clusters import judge_clusters, representatives
from calibration.posterior import PosteriorScorer
from calibration.scores import AnyScorer, VoteScorer, led_vote, reliability_weights
from calibration.signals import PairSignals
from calibration.thresholds import (
    fallback_weights,
    first_testable_count,
    fixed_sequence_search,
    threshold_grid,
)

__all__ = [
    "DOMINANT_WEIGHT_RATIO",
    "FALLBACK_FIRST",
    "LEAD_SHARE",
    "POSTERIOR_MIN_VOTERS",
    "SELECTED_SHARE",
    "WALK_STEPS",
    "all_gold_members",
    "certify_on_gold",
    "dominant_judge",
    "gold_free_scorers",
    "member_weights",
    "order_consistency",
    "panel_score",
    "plan_accuracy",
    "rank_judges",
    "reports_probabilities",
    "walk_plan",
    "with_judges_alone",
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
#: The lead member's share of δ (the panel vote share, or the judge that the gold-free weights
#: say decides); it takes the second members' share too when there are none.
LEAD_SHARE = 0.6


#: A weighted vote whose heaviest judge weighs this many times the next is led by that judge,
#: when that judge states probabilities (without them its vote takes two or three values and
#: certifies all or nothing; the vote share then ranks better).
DOMINANT_WEIGHT_RATIO = 2.0


def dominant_judge(scorer: AnyScorer | None) -> str | None:
    """The judge whose gold-free weight is at least :data:`DOMINANT_WEIGHT_RATIO` times every
    other one's in a reliability-weighted vote (``None`` for any other score)."""
    if not isinstance(scorer, VoteScorer) or scorer.weights is None or len(scorer.weights) < 2:
        return None
    ranked = sorted(scorer.weights.items(), key=lambda kv: -kv[1])
    (top, first), (_, second) = ranked[0], ranked[1]
    return top if first >= DOMINANT_WEIGHT_RATIO * second else None


def all_gold_members(
    signals: Sequence[PairSignals],
    panel: Sequence[str],
    orders: Mapping[str, int],
    leaders: int = 0,
) -> list[AnyScorer]:
    """The scores certified on all the gold, lead first, chosen from the panel's shape alone
    (no gold label is read):

    * the **lead**: the panel vote share (the lone judge's vote for one judge); instead, the
      judge alone when the gold-free weights of the cluster-weighted vote say it decides
      (:func:`dominant_judge`) and it states probabilities (so its scores can rank);
    * the **second members**: the panel's gold-free score (:func:`panel_score`) where it can
      certify what the lead does not: the Dawid-Skene posterior of a panel without
      probabilities, or the cluster-weighted vote when a judge stating probabilities leads it
      (not when the weights are near-even: it then orders pairs like the vote share; nor when
      a judge without probabilities dominates: it then takes that judge's two or three
      values); without probabilities, the judge :func:`rank_judges` puts first (no gold: its
      order consistency), whose few values certify everything when it is accurate enough
      alone; then ``leaders`` judge-led votes (:func:`gold_free_scorers`).

    Each judge alone is not a member of its own: it is a candidate of the selected route, and
    a member's share of δ is worth more on the lead (``docs/guarantee.md``). Duplicates (same
    stored body) are kept once."""
    vote = VoteScorer(tuple(panel), dict(orders))
    if len(panel) <= 1:
        return [vote]
    score = panel_score(signals, panel, orders)
    top = dominant_judge(score)
    leads = top is not None and reports_probabilities(signals, [top])
    out: list[AnyScorer] = [VoteScorer((top,), dict(orders)) if leads and top else vote]
    if score is not None and (leads or not isinstance(score, VoteScorer)):
        out.append(score)
    if not reports_probabilities(signals, panel):  # the judge ranked first without gold
        reps = representatives(signals, judge_clusters(signals, panel))
        out.append(VoteScorer((rank_judges(signals, reps)[0],), dict(orders)))
    out.extend(s for s in gold_free_scorers(signals, panel, orders, leaders) if s.kind == "led")
    seen: set[str] = set()
    unique = []
    for scorer in out:
        key = repr(sorted(scorer.to_json().items()))
        if key not in seen:
            seen.add(key)
            unique.append(scorer)
    return unique


def with_judges_alone(
    signals: Sequence[PairSignals],
    panel: Sequence[str],
    orders: Mapping[str, int],
    members: Sequence[AnyScorer],
) -> list[AnyScorer]:
    """``members`` and then each judge alone (one per cluster) not among them: the second
    members when there is no selected route (no label model), whose candidates they are
    otherwise, so the *best single judge* router's score is never left out."""
    names = {m.name for m in members}
    reps = representatives(signals, judge_clusters(signals, panel)) if len(panel) > 1 else []
    alone = [VoteScorer((j,), dict(orders)) for j in reps]
    return [*members, *(s for s in alone if s.name not in names)]


def member_weights(members: Sequence[AnyScorer], with_selected: bool = True) -> list[float]:
    """Each all-gold member's share of δ, then the selected route's (last, when
    ``with_selected``); from the member list only, never labels, and summing to 1.

    The lead (first) gets :data:`LEAD_SHARE`, the second members split the rest of the
    all-gold share evenly, the selected route gets :data:`SELECTED_SHARE`; a lone lead takes
    the whole all-gold share. Without the selected route the shares are scaled up to 1."""
    selected = SELECTED_SHARE if with_selected else 0.0
    if not members:
        return [1.0] if with_selected else []
    if len(members) == 1:
        return [1.0 - selected] + ([selected] if with_selected else [])
    lead = LEAD_SHARE if with_selected else LEAD_SHARE / (1.0 - SELECTED_SHARE)
    rest = (1.0 - selected - lead) / (len(members) - 1)
    return [lead] + [rest] * (len(members) - 1) + ([selected] if with_selected else [])


#: Steps of a member's walk after its first (evenly spaced in accepted count down to every
#: item). Fixed-sequence testing keeps its level whatever the grid's length, but a walk over
#: every distinct score stops at the first chance dip of the bound between two neighbouring
#: thresholds; ten steps measured best (``docs/guarantee.md``).
WALK_STEPS = 10


def plan_accuracy(target: float) -> float:
    """The agreement a run is planned at to place the grid's first step: two thirds of the way
    from the target to 1 (0.95 at 0.85), so that one early error does not end the walk."""
    return target + 2.0 * (1.0 - target) / 3.0


#: The first step's share of a member's level in its fallback walk (the rest is spread evenly
#: over the later steps); ``None``: a plain fixed sequence, every step at the whole level.
FALLBACK_FIRST: float | None = 0.95


def walk_plan(
    scores: Sequence[float],
    *,
    target: float,
    level: float,
    applied: Sequence[float] | None = None,
    predictive_level: float | None = None,
) -> tuple[list[float], list[float] | None]:
    """A member's thresholds (strictest first) and fallback weights, from its scores alone.

    The walk starts at the first count at which a run at :func:`plan_accuracy` passes at the
    first step's level (:data:`FALLBACK_FIRST` of ``level``) and takes :data:`WALK_STEPS`
    more steps evenly spaced in accepted count down to every item. Weights ``w`` (one per step,
    summing to 1, :func:`calibration.thresholds.fallback_weights`) make the walk the fallback
    procedure: step ``i`` is tested at ``w_i·level`` plus the whole level of step ``i - 1`` if
    that step passed, so a walk that passes every step runs at (nearly) the whole level and a
    chance dip at one step no longer ends it. Family-wise error ≤ ``level`` (Wiens 2003;
    Wiens & Dmitrienko 2005). Reads no label, so the plan is fixed before the test.
    """
    first = 1.0 if FALLBACK_FIRST is None else FALLBACK_FIRST
    start = first_testable_count(
        scores,
        target=target,
        delta=level * first,
        plan_accuracy=plan_accuracy(target),
        application_scores=applied,
        predictive_level=predictive_level,
    )
    grid = [] if start is None else threshold_grid(scores, min_items=start, steps=WALK_STEPS)
    if FALLBACK_FIRST is None or not grid:
        return grid, None
    return grid, fallback_weights(len(grid), FALLBACK_FIRST)


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
    grid, weights = walk_plan(
        scores, target=target, level=level, applied=applied, predictive_level=predictive_level
    )
    search = fixed_sequence_search(
        scores,
        correct,
        target=target,
        delta=level,
        grid=grid,
        application_scores=applied,
        weights=weights,
        predictive_level=predictive_level,
    )
    share = 0.0
    if search.certified:
        pool = routed if routed_pairs else part
        hits = pool.acceptable & (pool.scores >= search.threshold)
        share = float(np.mean(hits)) if len(pool.pairs) else 0.0
    return Route("default", scorer, search, len(gold_pairs), share, level, scores, correct)
