"""The auto-accept policy: a score per pair and a threshold certified on gold.

:func:`fit_policy` splits the calibration gold at random into a *selection* part and a
*certification* part. On the selection part it fits the logistic label model (penalty chosen
by nested cross-validation), compares the candidate scores of :mod:`calibration.scores` (every
judge's both-order vote, the panel's vote share, the model) and plans where the fixed sequence
should start (:mod:`calibration.selection`). On the certification part it runs the
fixed-sequence Clopper-Pearson test of :mod:`calibration.thresholds` once, for the chosen
score only. :class:`AcceptPolicy` is the JSON-serialisable result the router applies.

**The guarantee.** Let the calibration gold items be drawn i.i.d. from the distribution of the
pairs to be routed (with their human labels), and let the split be the seeded random split made
here. Then with probability at least ``1 - δ`` over that draw and split, the certified rule (the
chosen score, its threshold, ``accept_labels`` and the order gate of
:func:`calibration.scores.order_gated`, never accepting a pair flagged for judge injection) has
agreement at least ``target_agreement`` with the human label on the pairs it accepts: ``P(label
= human label | accepted) ≥ target``, for a new pair from the same distribution. A rule that
certifies nothing accepts nothing. Why it holds: the score, the model and the grid are functions
of the selection part only, so on the independent certification part the fixed-sequence test
controls the family-wise error at δ (Bauer 1991; Angelopoulos et al., "Learn then Test", 2021).
A second, *default* route tests a gold-free score on *all* the gold: when some judge reports
probabilities, the panel's confidence-weighted vote share, each judge's votes weighted by the
log-odds of its accuracy as Dawid-Skene estimates it from the verdicts
(:func:`calibration.scores.reliability_weights`; unweighted for one or two judges); else, for
three or more judges, the Dawid-Skene posterior of
:class:`calibration.posterior.PosteriorScorer`. Both are fitted on the verdicts of every pair,
never on gold labels. The two routes share δ (Bonferroni; half each unless
:func:`default_route_share`, a function of counts only, leans on the default route), so both
certificates hold together with probability ``≥ 1 - δ`` and keeping the one that accepts more is
safe. The default route's score and grid depend on the gold items' verdicts and scores but never
on their labels. With ``predictive=True`` each step must also pass the exact test of
:func:`calibration.thresholds.predictive_p_value` for the pairs it will be applied to; an extra
condition only makes steps fail, so the guarantee is unchanged, and the realised agreement of
the routed pairs, not only its expectation, is checked at each step, at the whole δ
(:data:`DEFAULT_PREDICTIVE`).

Decisions (documented here because they shape every number):

* Only ``accept_labels`` (default ``A`` and ``B``) are ever auto-accepted: a ``tie`` or
  ``both_bad`` verdict goes to people, who decide whether the pair is usable at all. Gold ties
  still count: an ``A`` accepted on a pair people call a tie counts as a disagreement.
* Pairs the panel did not judge at all get label ``None`` and score 0.
* With too little gold to certify anything the threshold is ``+inf`` (accept nothing) and the
  report says how many more gold labels the chosen score would need.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from calibration.calibrator import (
    DEFAULT_PENALTIES,
    FeatureEncoder,
)
from calibration.certify import (
    Route,
    Scores,
    build_candidate,
    certify_default,
    certify_selected,
    empty_search,
    explain_route,
    model_candidate,
    more_gold,
    split_ids,
)
from calibration.judge_report import judge_report
from calibration.policy_report import PolicyReport
from calibration.posterior import PosteriorScorer
from calibration.reliability import reliability
from calibration.scores import (
    AnyScorer,
    VoteScorer,
    judge_orders,
    order_gated,
    reliability_weights,
    scorer_from_json,
)
from calibration.signals import PairSignals
from calibration.thresholds import (
    min_items_to_certify,
)

__all__ = [
    "DEFAULT_ACCEPT_LABELS",
    "DEFAULT_SELECTION_SHARE",
    "AcceptPolicy",
    "PolicyFit",
    "Scored",
    "default_route_share",
    "fit_policy",
]

DEFAULT_ACCEPT_LABELS: tuple[str, ...] = ("A", "B")
#: Share of the calibration gold used to choose the score and plan the sequence.
DEFAULT_SELECTION_SHARE = 0.4
#: Share of δ spent certifying the gold-free default score on all the gold (Bonferroni). With
#: probabilities the confidence-weighted vote share ranks finely with no gold spent on it
#: (synthetic judges with probabilities: coverage 0.68 -> 0.94); weighting each judge by its
#: Dawid-Skene accuracy lets a strong judge among weak ones lead it (a synthetic panel of one
#: strong and two weak judges, 120 gold items: 0.19 -> 0.44, above the best-judge reference's
#: 0.39). Without them, for two or more
#: judges, the Dawid-Skene posterior does (a synthetic 4-judge panel with no probabilities and
#: 120 gold items: 0.23 -> 0.31, above the panel-vote reference's 0.30; on LLMBar, where the
#: label model wins, the halved δ costs the chosen score: 0.30 -> 0.12 at 100 gold items, still
#: above both references' 0). Fewer than three judges without probabilities get no default
#: route (:func:`_default_score`).
DEFAULT_DEFAULT_SHARE = 0.5
#: The default route's larger share of δ where the selected route has little to offer
#: (:func:`default_route_share`): a panel of one judge stating probabilities, whose two routes test
#: nearly the same score (synthetic judge with ties in the gold, 120 gold items, 30 splits:
#: coverage 0.029 -> 0.074 against the reference's 0.059 at the whole δ); or the weighted route
#: with fewer than :data:`SMALL_SELECTION_ITEMS` selection items, too few to choose a score
#: (synthetic strong judge among two weak ones, 100 gold items, 40 splits: 0.27 -> 0.34
#: against the best-judge reference's 0.34; three similar judges 0.64 -> 0.64; six judges with
#: reward models 0.78 -> 0.75, against the references' 0.59).
LEAN_DEFAULT_SHARE = 0.7
#: Fewest selection items at which the weighted route keeps the even split of δ.
SMALL_SELECTION_ITEMS = 45


def default_route_share(default_kind: str, panel_size: int, selection_items: int) -> float:
    """The default route's share of δ: 0 without a default score; :data:`LEAN_DEFAULT_SHARE`
    for one judge, or for the weighted route with fewer than :data:`SMALL_SELECTION_ITEMS`
    selection items; else :data:`DEFAULT_DEFAULT_SHARE`. A function of counts only (no gold
    label), so the Bonferroni split stays fixed in advance."""
    if default_kind == "none":
        return 0.0
    if panel_size == 1:
        return LEAN_DEFAULT_SHARE
    if default_kind == "weighted" and selection_items < SMALL_SELECTION_ITEMS:
        return LEAN_DEFAULT_SHARE
    return DEFAULT_DEFAULT_SHARE


@dataclass(frozen=True)
class Scored:
    """The policy's label for a pair and its score (the probability it is right, for the
    model; the vote share, for votes)."""

    label: str | None
    probability: float


@dataclass
class AcceptPolicy:
    """Accept ``label`` when it is in ``accept_labels``, score ≥ ``threshold``, the panel is
    not wholly order-inconsistent and no judge injection is suspected."""

    judges: list[str]
    threshold: float
    target_agreement: float
    delta: float
    scorer: AnyScorer
    accept_labels: list[str] = field(default_factory=lambda: list(DEFAULT_ACCEPT_LABELS))

    def score(self, signals: PairSignals) -> Scored:
        """The scorer's label and score (``None``/0 if the panel did not judge the pair)."""
        if not any(signals.judges[j].verdicts for j in self.judges if j in signals.judges):
            return Scored(None, 0.0)
        labels, scores = self.scorer.score_many([signals])
        return Scored(labels[0], float(scores[0]) if labels[0] is not None else 0.0)

    def acceptable(self, signals: PairSignals) -> bool:
        """True when the pair may be accepted at some threshold (label allowed, no gate)."""
        if signals.injection_suspected or order_gated(signals, self.judges):
            return False
        return self.score(signals).label in self.accept_labels

    def accepts(self, signals: PairSignals) -> bool:
        """True when the pair's label is auto-accepted (never if injection is suspected)."""
        if signals.injection_suspected or order_gated(signals, self.judges):
            return False
        scored = self.score(signals)
        return scored.label in self.accept_labels and scored.probability >= self.threshold

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (an infinite threshold is stored as ``null``)."""
        return {
            "kind": "referee-policy/v2",
            "judges": list(self.judges),
            "threshold": self.threshold if math.isfinite(self.threshold) else None,
            "target_agreement": self.target_agreement,
            "delta": self.delta,
            "accept_labels": list(self.accept_labels),
            "scorer": self.scorer.to_json(),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> AcceptPolicy:
        """Read a stored body: this version's, or a ``calibrated-logistic/v1`` one (its
        ``encoder`` and ``model`` become a :class:`~calibration.scores.ModelScorer`)."""
        threshold = d.get("threshold")
        if "scorer" in d:
            scorer = scorer_from_json(dict(d["scorer"]))
        else:
            scorer = scorer_from_json(
                {"kind": "model", "encoder": d["encoder"], "model": d["model"]}
            )
        return cls(
            judges=[str(j) for j in d["judges"]],
            threshold=math.inf if threshold is None else float(threshold),
            target_agreement=float(d["target_agreement"]),
            delta=float(d["delta"]),
            scorer=scorer,
            accept_labels=[str(v) for v in d.get("accept_labels", DEFAULT_ACCEPT_LABELS)],
        )


@dataclass
class PolicyFit:
    """The fitted policy and its JSON-able report."""

    policy: AcceptPolicy
    report: PolicyReport


def _panel(signals: Sequence[PairSignals], judges: Sequence[str] | None) -> list[str]:
    if judges:
        return list(dict.fromkeys(judges))
    names: set[str] = set()
    for pair in signals:
        names.update(n for n, js in pair.judges.items() if js.verdicts)
    return sorted(names)


def _reports_probabilities(signals: Sequence[PairSignals], panel: Sequence[str]) -> bool:
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


#: Whether calibration also runs the exact check on the routed pairs' realised agreement, at
#: the whole δ (each route's Clopper-Pearson bound is at its share of δ; the check is an extra
#: condition, so the guarantee above needs only the bounds). At each route's share it was the
#: binding condition and cut the certified share far below the references' (synthetic panels,
#: 120 gold items and 120 routed: three judges with probabilities 0.21 against the panel-vote
#: reference's 0.59); at the whole δ it costs almost nothing (0.54) and keeps the routed pairs'
#: realised agreement at the target in more splits (held 0.90 -> 0.95).
DEFAULT_PREDICTIVE = True

#: The gold-free scores the default route may certify on all the gold (``none``: no route).
DEFAULT_SCORES = ("vote", "weighted", "posterior", "none")
#: Fewest judges for the Dawid-Skene default route when no judge states probabilities.
POSTERIOR_MIN_JUDGES = 3


def _default_score(signals: Sequence[PairSignals], panel: Sequence[str]) -> str:
    """The default route's score, chosen from the signals alone (never from gold labels):
    when some judge states probabilities, the confidence-weighted vote share, weighted by each
    judge's Dawid-Skene accuracy (``weighted``) for :data:`POSTERIOR_MIN_JUDGES` or more judges
    and plain (``vote``) for fewer; without probabilities the Dawid-Skene posterior
    (:class:`calibration.posterior.PosteriorScorer`) for :data:`POSTERIOR_MIN_JUDGES` or more
    judges; none otherwise. Dawid-Skene needs three conditionally independent
    annotators to tell who is right (two judges that disagree are symmetric; a judge's two
    orders are far from independent), and with fewer the votes take two or three values and
    the route's half of δ costs the chosen score more than the route gains."""
    if _reports_probabilities(signals, panel):
        return "weighted" if len(panel) >= POSTERIOR_MIN_JUDGES else "vote"
    return "posterior" if len(panel) >= POSTERIOR_MIN_JUDGES else "none"


def fit_policy(
    signals: Sequence[PairSignals],
    gold: Mapping[str, str],
    *,
    target_agreement: float,
    delta: float,
    judges: Sequence[str] | None = None,
    seed: int = 0,
    accept_labels: Sequence[str] = DEFAULT_ACCEPT_LABELS,
    folds: int = 5,
    penalties: Sequence[float] = DEFAULT_PENALTIES,
    selection_share: float = DEFAULT_SELECTION_SHARE,
    default_share: float | None = None,
    predictive: bool = DEFAULT_PREDICTIVE,
    use_model: bool = True,
    reports: bool = True,
    default_score: str | None = None,
) -> PolicyFit:
    """Choose a score on part of the gold, certify its threshold on the rest (module doc).

    ``signals`` may include pairs without gold: they are the pairs to route (their scores, not
    labels, inform the plan and the predictive check). ``gold`` maps pair id to the human label.
    ``selection_share`` of the gold chooses; the rest certifies. ``default_share`` of δ goes
    to the gold-free default score tested on all the gold, the rest to the chosen score
    (Bonferroni: both certificates hold together with probability ≥ 1 - δ, so the policy may
    keep whichever accepts more; 0 spends all of δ on the chosen score). ``default_score``
    (``vote``, ``weighted``, ``posterior`` or ``none``; ``None``: chosen from the signals by
    :func:`_default_score`, never from gold labels) is that route's score; ``default_share``
    ``None`` means :func:`default_route_share` (counts only, never gold labels).
    ``use_model=False`` leaves the label model out of the candidates; ``reports=False`` skips
    the per-judge reports (benchmarks).
    """
    if not 0.0 < target_agreement < 1.0:
        raise ValueError(f"target_agreement must be in (0, 1), got {target_agreement}")
    if not 0.0 < delta < 1.0:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if not 0.0 < selection_share < 1.0:
        raise ValueError(f"selection_share must be in (0, 1), got {selection_share}")
    panel = _panel(signals, judges)
    default_kind = default_score or _default_score(signals, panel)
    if default_kind not in DEFAULT_SCORES:
        raise ValueError(f"default_score must be one of {DEFAULT_SCORES}, got {default_kind!r}")
    labels_ok = list(accept_labels)
    gold_pairs = [p for p in signals if p.pair_id in gold]
    routed = [p for p in signals if p.pair_id not in gold]
    sel_ids, _ = split_ids([p.pair_id for p in gold_pairs], selection_share, seed)
    selection = [p for p in gold_pairs if p.pair_id in sel_ids]
    certification = [p for p in gold_pairs if p.pair_id not in sel_ids]
    if default_share is None:
        default_share = default_route_share(default_kind, len(panel), len(selection))
    if not 0.0 <= default_share < 1.0:
        raise ValueError(f"default_share must be in [0, 1), got {default_share}")

    orders = judge_orders(signals, panel)
    scorers: list[tuple[AnyScorer, Scores | None]] = []
    if len(panel) > 1:
        scorers.append((VoteScorer(tuple(panel), orders), None))
    scorers.extend((VoteScorer((j,), orders), None) for j in panel)
    if use_model and panel:
        fitted = model_candidate(
            FeatureEncoder.fit(signals, panel),
            selection,
            gold,
            folds=folds,
            seed=seed,
            penalties=penalties,
        )
        if fitted is not None:
            scorers.append((fitted[0], (fitted[1], fitted[2])))

    delta_default = delta * default_share
    default_scorer: AnyScorer | None = None
    if default_kind == "posterior":
        default_scorer = PosteriorScorer.fit(signals, panel)
        if default_scorer is not None:
            scorers.append((default_scorer, None))
    elif default_kind == "weighted":
        weights = reliability_weights(signals, panel)
        if weights is not None:
            default_scorer = VoteScorer(tuple(panel), orders, weights)
            scorers.append((default_scorer, None))
    candidates = [
        build_candidate(
            scorer,
            (selection, certification, routed),
            gold,
            panel=panel,
            accept_labels=labels_ok,
            target=target_agreement,
            delta=delta - delta_default,
            predictive=predictive,
            selection_scores=planned,
        )
        for scorer, planned in scorers
    ]

    ranked = sorted(
        candidates, key=lambda c: -c.value
    )  # stable: on ties the earlier candidate (panel, then judges, then model) wins
    chosen = ranked[0] if ranked else None
    n_min = min_items_to_certify(target_agreement, delta)
    routes = []
    if chosen is not None and delta_default < delta:
        routes.append(
            certify_selected(
                chosen, gold, target_agreement, delta - delta_default, predictive, delta
            )
        )
    default = next(
        (c for c in candidates if default_scorer is not None and c.scorer is default_scorer),
        candidates[0] if candidates else None,
    )
    if default is not None and default.scorer.kind != "model" and delta_default > 0:
        routes.append(
            certify_default(default, gold, target_agreement, delta_default, predictive, delta)
        )
    if not routes:  # no judge in the panel
        routes.append(Route("selected", VoteScorer((), {}), empty_search(), 0, 0.0, delta))
    certified = [r for r in routes if r.search.certified]
    route = max(certified, key=lambda r: r.share) if certified else routes[0]
    search, final = route.search, route.scorer
    policy = AcceptPolicy(
        judges=panel,
        threshold=search.threshold,
        target_agreement=target_agreement,
        delta=delta,
        scorer=final,
        accept_labels=labels_ok,
    )
    more: int | None = 0
    why_not: str | None = None
    if not search.certified:
        more = more_gold(
            chosen,
            candidates,
            gold,
            len(gold_pairs),
            routes,
            selection_share,
            n_min,
            target_agreement,
        )
        if not gold_pairs:
            why_not = "no gold items among the pairs"
        elif more is not None:
            why_not = "not enough gold items at the accuracy the judges reach"
        elif chosen is not None and chosen.plan is not None:
            why_not = "the certification part's accepted gold items were not accurate enough"
        else:
            why_not = "the judges are not accurate enough at any threshold for this target"
    report: PolicyReport = {
        "target_agreement": target_agreement,
        "delta": delta,
        "judges_in_panel": panel,
        "gold_items": len(gold_pairs),
        "selection_items": len(selection),
        "certification_items": route.items,
        "route": route.name,
        "level": route.level,
        "score": final.name,
        "score_kind": final.kind,
        "why_this_score": explain_route(route, routes, chosen, ranked, len(selection)),
        "candidates": [c.summary() for c in ranked],
        "routes": [r.summary() for r in routes],
        "threshold": search.threshold if search.certified else None,
        "certified": search.certified,
        "certified_coverage": search.accepted / route.items if route.items else 0.0,
        "n_accepted_on_gold": search.accepted,
        "agreement_on_accepted_gold": search.correct / search.accepted if search.accepted else None,
        "bound": search.bound if search.certified else None,
        "min_items_to_certify": n_min,
        "more_gold_needed": more,
        "why_not_certified": why_not,
        "grid": [s.to_json() for s in search.steps],
        "ungold_pairs": len(routed),
        "expected_coverage_on_ungold": route.share if routed else None,
    }
    if reports:
        judged = [
            p for p in gold_pairs if any(p.judges[j].verdicts for j in panel if j in p.judges)
        ]
        report["panel"] = judge_report(judged, dict(gold), judges=panel)
        report["judges"] = {j: judge_report(gold_pairs, dict(gold), judges=[j]) for j in panel}
        report["calibrated_reliability"] = reliability(route.scores, route.correct)
    return PolicyFit(policy=policy, report=report)
