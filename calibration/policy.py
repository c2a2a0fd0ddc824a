"""The auto-accept policy: a score per pair and a threshold certified on gold.

:func:`fit_policy` runs a few named steps (:func:`certify_members`, :func:`choose_route`,
then the report): the scores chosen from the panel's shape alone (the lead, the panel vote
share or a judge the gold-free weights say decides, most of δ; the Dawid-Skene posterior or
the weighted vote where they can certify what the lead does not:
:func:`calibration.union.all_gold_members`) are certified on *all* the calibration gold
(:func:`calibration.union.certify_on_gold`); the selected route (:func:`select_route`) picks
a score among the vote share, each judge alone, the gold-free scores and (with the label model)
the model on a selection part of the gold (the model is fitted there) and certifies it on the
rest; each member at its share of δ
(:func:`calibration.union.member_weights`). The certified member that accepts the most is kept,
named in the report (``score``, ``route``, ``routes``) and reported beside what the two simple
routers would certify on the same gold (:mod:`calibration.simple_routers`). :class:`AcceptPolicy` is
the JSON-serialisable result the router applies; :class:`PolicyConfig` holds the parameters.

**The guarantee.** Let the calibration gold items be drawn i.i.d. from the distribution of the
pairs to be routed (with their human labels). Then with probability at least ``1 - δ`` over
that draw, the certified rule (the chosen score, its threshold, ``accept_labels`` and the order
gate of :func:`calibration.scores.order_gated`, never accepting a pair flagged for judge
injection) has agreement at least ``target_agreement`` with the human label on the pairs it
accepts: ``P(label = human label | accepted) ≥ target``, for a new pair from the same
distribution. A rule that certifies nothing accepts nothing. Why it holds: no member's score
or grid depends on the labels it is tested on, so each walk (fixed sequence or fallback)
errs with probability at most its share ``w_k·δ``, and by the union bound all hold together with
probability ``≥ 1 - δ``; any choice among certified members is then safe
(:mod:`calibration.union`, ``docs/guarantee.md``). ``use_model=False`` leaves the selected route
out (its share goes to the all-gold members). With ``predictive=True`` each step must also pass
the exact test of :func:`calibration.thresholds.predictive_p_value` for the pairs it will be
applied to, at the whole δ; an extra condition only makes steps fail, so the guarantee is
unchanged.

Decisions (documented here because they shape every number):

* Only ``accept_labels`` (default ``A`` and ``B``) are ever auto-accepted: a ``tie`` or
  ``both_bad`` verdict goes to people, who decide whether the pair is usable at all. Gold ties
  still count: an ``A`` accepted on a pair people call a tie counts as a disagreement.
* Pairs the panel did not judge at all get label ``None`` and score 0.
* With too little gold to certify anything the threshold is ``+inf`` (accept nothing) and the
  report says how many more gold labels the best candidate would need.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from calibration.calibrator import DEFAULT_PENALTIES, FeatureEncoder
from calibration.certify import (
    Candidate,
    Route,
    Scores,
    build_candidate,
    certify_selected,
    empty_search,
    explain_route,
    model_candidate,
    split_ids,
)
from calibration.judge_report import judge_report
from calibration.policy_report import PolicyReport
from calibration.reliability import reliability
from calibration.scores import (
    AnyScorer,
    VoteScorer,
    judge_orders,
    order_gated,
    scorer_from_json,
)
from calibration.selection import more_gold_needed
from calibration.signals import PairSignals
from calibration.simple_routers import simple_routers
from calibration.thresholds import min_items_to_certify
from calibration.union import (
    all_gold_members,
    certify_on_gold,
    member_weights,
    with_judges_alone,
)

__all__ = [
    "DEFAULT_ACCEPT_LABELS",
    "DEFAULT_SELECTION_SHARE",
    "AcceptPolicy",
    "PolicyConfig",
    "PolicyFit",
    "Scored",
    "fit_policy",
]

DEFAULT_ACCEPT_LABELS: tuple[str, ...] = ("A", "B")
#: Share of the calibration gold the optional label model is chosen and fitted on.
DEFAULT_SELECTION_SHARE = 0.4
#: Whether each step also runs the exact check on the routed pairs' realised agreement, at the
#: whole δ (each candidate's Clopper-Pearson bound is at its share of δ; the check is an extra
#: condition, so the guarantee needs only the bounds). Off since #23: with every candidate on
#: all the gold it cost the panel vote share about 40% of its certified items on the
#: three-similar-judges panel (``docs/guarantee.md``), and the realised agreement on held-out
#: pairs stayed at the target in ≥ 90% of the benchmark's splits without it.
DEFAULT_PREDICTIVE = False


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


@dataclass(frozen=True)
class PolicyConfig:
    """The parameters of :func:`fit_policy`.

    ``judges``: the panel (``None``: every judge with a verdict). ``seed``: the selection split
    and folds of the optional label model (``use_model``; ``selection_share`` of the gold
    chooses and fits it, ``folds`` and ``penalties`` its nested cross-validation).
    ``predictive``: the exact check of the routed pairs at each step. ``leaders``: how many
    judges lead a gold-free member of their own (:func:`calibration.union.gold_free_scorers`;
    0 by default, see ``docs/guarantee.md``). ``reports=False`` skips
    the per-judge reports and the simple routers (benchmarks).
    """

    target_agreement: float
    delta: float
    judges: Sequence[str] | None = None
    seed: int = 0
    accept_labels: Sequence[str] = DEFAULT_ACCEPT_LABELS
    predictive: bool = DEFAULT_PREDICTIVE
    use_model: bool = True
    leaders: int = 0
    selection_share: float = DEFAULT_SELECTION_SHARE
    folds: int = 5
    penalties: Sequence[float] = DEFAULT_PENALTIES
    reports: bool = True

    def __post_init__(self) -> None:
        for name, value in (
            ("target_agreement", self.target_agreement),
            ("delta", self.delta),
            ("selection_share", self.selection_share),
        ):
            if not 0.0 < value < 1.0:
                raise ValueError(f"{name} must be in (0, 1), got {value}")


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


@dataclass(frozen=True)
class _Data:
    """The panel, the gold pairs and the pairs to route."""

    panel: list[str]
    gold_pairs: list[PairSignals]
    routed: list[PairSignals]
    gold: Mapping[str, str]


@dataclass(frozen=True)
class _Selected:
    """The selected route, the candidate it tests and every candidate ranked on the selection
    part (for the report)."""

    route: Route
    chosen: Candidate
    ranked: list[Candidate]


def _split(data: _Data, cfg: PolicyConfig) -> tuple[list[PairSignals], list[PairSignals]]:
    """The seeded random (selection, certification) split of the gold pairs."""
    ids, _ = split_ids([p.pair_id for p in data.gold_pairs], cfg.selection_share, cfg.seed)
    selection = [p for p in data.gold_pairs if p.pair_id in ids]
    return selection, [p for p in data.gold_pairs if p.pair_id not in ids]


def _planned_scorers(
    signals: Sequence[PairSignals],
    data: _Data,
    selection: list[PairSignals],
    gold_free: Sequence[AnyScorer],
    cfg: PolicyConfig,
) -> list[tuple[AnyScorer, Scores | None]]:
    """The selected route's candidates: the panel vote share, every judge alone, the gold-free
    scores and the label model fitted on the selection part (with its out-of-fold scores)."""
    orders = judge_orders(signals, data.panel)
    scorers: list[AnyScorer] = []
    if len(data.panel) > 1:
        scorers.append(VoteScorer(tuple(data.panel), orders))
    scorers.extend(VoteScorer((j,), orders) for j in data.panel)
    scorers.extend(s for s in gold_free if s.kind not in ("judge", "panel"))
    planned: list[tuple[AnyScorer, Scores | None]] = [(s, None) for s in scorers]
    if cfg.use_model:
        fitted = model_candidate(
            FeatureEncoder.fit(signals, data.panel),
            selection,
            data.gold,
            folds=cfg.folds,
            seed=cfg.seed,
            penalties=cfg.penalties,
        )
        if fitted is not None:
            planned.append((fitted[0], (fitted[1], fitted[2])))
    return planned


def select_route(
    signals: Sequence[PairSignals],
    data: _Data,
    gold_free: Sequence[AnyScorer],
    cfg: PolicyConfig,
    level: float,
) -> _Selected:
    """The candidate with the largest expected certified share on the selection part
    (:mod:`calibration.selection` plans its start there), tested on the rest at ``level``."""
    selection, certification = _split(data, cfg)
    candidates = [
        build_candidate(
            scorer,
            (selection, certification, data.routed),
            data.gold,
            panel=data.panel,
            accept_labels=cfg.accept_labels,
            target=cfg.target_agreement,
            delta=level,
            predictive=cfg.predictive,
            selection_scores=scores,
        )
        for scorer, scores in _planned_scorers(signals, data, selection, gold_free, cfg)
    ]
    ranked = sorted(candidates, key=lambda c: -c.value)  # stable: panel, judges, then the rest
    route = certify_selected(
        ranked[0], data.gold, cfg.target_agreement, level, cfg.predictive, cfg.delta
    )
    return _Selected(route, ranked[0], ranked)


def certify_members(
    signals: Sequence[PairSignals], data: _Data, cfg: PolicyConfig
) -> tuple[list[Route], _Selected | None]:
    """Every member certified at its share of δ (:mod:`calibration.union`): the all-gold
    members (the simple routers' scores among them) on all the gold, then, with the label
    model, the selected route on the certification part."""
    if not data.panel:
        return [], None
    orders = judge_orders(signals, data.panel)
    members = all_gold_members(signals, data.panel, orders, cfg.leaders)
    if not cfg.use_model:  # no selected route: each judge alone is a candidate here instead
        members = with_judges_alone(signals, data.panel, orders, members)
    weights = member_weights(members, with_selected=cfg.use_model)
    routes = [
        certify_on_gold(
            scorer,
            (data.gold_pairs, data.routed),
            data.gold,
            panel=data.panel,
            accept_labels=cfg.accept_labels,
            target=cfg.target_agreement,
            level=w * cfg.delta,
            predictive_level=cfg.delta if cfg.predictive else None,
        )
        for scorer, w in zip(members, weights, strict=False)
    ]
    if not cfg.use_model:
        return routes, None
    gold_free = [s for s in members if s.kind not in ("judge", "panel")]
    selected = select_route(signals, data, gold_free, cfg, weights[-1] * cfg.delta)
    return [selected.route, *routes], selected


def choose_route(routes: Sequence[Route], delta: float) -> Route:
    """The certified route accepting the most (the first on ties), else the first route (an
    empty one without judges)."""
    certified = [r for r in routes if r.search.certified]
    if certified:
        return max(certified, key=lambda r: r.share)
    if routes:
        return routes[0]
    return Route("selected", VoteScorer((), {}), empty_search(), 0, 0.0, delta)


def _more_gold(routes: Sequence[Route], have: int, cfg: PolicyConfig) -> int | None:
    """Fewest more gold labels with which some candidate would likely certify."""
    needs = []
    for route in routes:
        need = more_gold_needed(
            route.scores,
            route.correct,
            have=have,
            items=route.items,
            certification_share=route.items / have if have else 1.0,
            target=cfg.target_agreement,
            delta=route.level,
            step=min_items_to_certify(cfg.target_agreement, cfg.delta),
        )
        if need:  # 0: enough gold by count already; the miss was the sample's, not the size's
            needs.append(need)
    return min(needs) if needs else None


def _why_not(route: Route, more: int | None, have: int) -> str | None:
    if route.search.certified:
        return None
    if not have:
        return "no gold items among the pairs"
    if more is not None:
        return "not enough gold items at the accuracy the judges reach"
    return "the judges are not accurate enough at any threshold for this target"


def explain(route: Route, routes: Sequence[Route], selected: _Selected | None) -> str:
    """Why the policy uses its score: the selection part's evidence, or the gold-free member
    certified on all the gold (:func:`calibration.certify.explain_route`)."""
    if selected is None:
        return explain_route(route, routes, None, [], 0) if routes else "no judges"
    n_sel = len(selected.chosen.selection.pairs)
    return explain_route(route, routes, selected.chosen, selected.ranked, n_sel)


def _report(
    route: Route,
    routes: Sequence[Route],
    selected: _Selected | None,
    data: _Data,
    cfg: PolicyConfig,
) -> PolicyReport:
    """The JSON report of the chosen route among ``routes``."""
    search, have = route.search, len(data.gold_pairs)
    more = 0 if search.certified else _more_gold(routes, have, cfg)
    n_sel = len(selected.chosen.selection.pairs) if selected else 0
    return {
        "target_agreement": cfg.target_agreement,
        "delta": cfg.delta,
        "judges_in_panel": data.panel,
        "gold_items": have,
        "selection_items": n_sel,
        "certification_items": route.items,
        "route": route.name,
        "level": route.level,
        "score": route.scorer.name,
        "score_kind": route.scorer.kind,
        "why_this_score": explain(route, routes, selected),
        "candidates": [c.summary() for c in selected.ranked] if selected else [],
        "routes": [r.summary() for r in routes],
        "threshold": search.threshold if search.certified else None,
        "certified": search.certified,
        "certified_coverage": search.accepted / route.items if route.items else 0.0,
        "n_accepted_on_gold": search.accepted,
        "agreement_on_accepted_gold": search.correct / search.accepted if search.accepted else None,
        "bound": search.bound if search.certified else None,
        "min_items_to_certify": min_items_to_certify(cfg.target_agreement, cfg.delta),
        "more_gold_needed": more,
        "why_not_certified": _why_not(route, more, have),
        "grid": [s.to_json() for s in search.steps],
        "ungold_pairs": len(data.routed),
        "expected_coverage_on_ungold": route.share if data.routed else None,
    }


def _add_reports(
    report: PolicyReport, route: Route, data: _Data, orders: Mapping[str, int], cfg: PolicyConfig
) -> None:
    """Per-judge reports, the calibration curve and the simple routers on the same gold."""
    panel, gold = data.panel, dict(data.gold)
    judged = [
        p for p in data.gold_pairs if any(p.judges[j].verdicts for j in panel if j in p.judges)
    ]
    report["panel"] = judge_report(judged, gold, judges=panel)
    report["judges"] = {j: judge_report(data.gold_pairs, gold, judges=[j]) for j in panel}
    report["calibrated_reliability"] = reliability(route.scores, route.correct)
    report["simple_routers"] = [
        r.to_json()
        for r in simple_routers(
            data.gold_pairs,
            gold,
            panel,
            orders,
            target=cfg.target_agreement,
            delta=cfg.delta,
            accept_labels=cfg.accept_labels,
        )
    ]


def fit_policy(
    signals: Sequence[PairSignals],
    gold: Mapping[str, str],
    config: PolicyConfig | None = None,
    **options: Any,
) -> PolicyFit:
    """Certify every candidate score on the gold at its share of δ and keep the best (module
    doc). ``options`` are :class:`PolicyConfig` fields (they override ``config``'s).

    ``signals`` may include pairs without gold: they are the pairs to route (their scores, not
    labels, inform the predictive check and the expected coverage). ``gold`` maps pair id to
    the human label.
    """
    cfg = PolicyConfig(**options) if config is None else replace(config, **options)
    data = _Data(
        _panel(signals, cfg.judges),
        [p for p in signals if p.pair_id in gold],
        [p for p in signals if p.pair_id not in gold],
        gold,
    )
    routes, selected = certify_members(signals, data, cfg)
    route = choose_route(routes, cfg.delta)
    policy = AcceptPolicy(
        judges=data.panel,
        threshold=route.search.threshold,
        target_agreement=cfg.target_agreement,
        delta=cfg.delta,
        scorer=route.scorer,
        accept_labels=list(cfg.accept_labels),
    )
    report = _report(route, routes, selected, data, cfg)
    if cfg.reports:
        _add_reports(report, route, data, judge_orders(signals, data.panel), cfg)
    return PolicyFit(policy=policy, report=report)
