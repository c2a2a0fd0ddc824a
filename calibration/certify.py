"""The machinery of :func:`calibration.policy.fit_policy`: candidates, plans and routes.

A *candidate* is a scorer with its labels and scores on the three parts of the data
(selection gold, certification gold, pairs to route) and its plan
(:mod:`calibration.selection`). A *route* is one certification attempt: the chosen candidate
on the certification part here, or a gold-free score on all the gold
(:func:`calibration.union.certify_on_gold`), each at its share of δ. Everything here is pure
(numpy and the calibration package).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from calibration.calibrator import (
    FeatureEncoder,
    choose_penalty,
    fit_label_model,
    nested_cross_fit_probabilities,
)
from calibration.scores import AnyScorer, ModelScorer, VoteScorer, order_gated
from calibration.selection import ThresholdPlan, best_plan, plan_thresholds
from calibration.signals import PairSignals
from calibration.thresholds import (
    ThresholdSearch,
    fixed_sequence_search,
)

__all__ = [
    "Candidate",
    "Part",
    "Route",
    "Scores",
    "accepted_share",
    "build_candidate",
    "certify_selected",
    "describe_weights",
    "empty_search",
    "explain_route",
    "explain_selection",
    "make_part",
    "model_candidate",
    "split_ids",
]


@dataclass
class Part:
    """One part's pairs, with each pair's label/score under a candidate and acceptability."""

    pairs: list[PairSignals]
    labels: list[str | None]
    scores: np.ndarray[Any, np.dtype[np.float64]]
    acceptable: np.ndarray[Any, np.dtype[np.bool_]]

    def correct(self, gold: Mapping[str, str]) -> np.ndarray[Any, np.dtype[np.bool_]]:
        """Whether each pair's label equals its gold label (False without gold)."""
        return np.asarray(
            [lab == gold.get(p.pair_id) for p, lab in zip(self.pairs, self.labels, strict=True)],
            dtype=bool,
        )


@dataclass
class Candidate:
    """A scorer, its parts, its plans (strictest first), the planned start and its expected
    certified share (``value``)."""

    scorer: AnyScorer
    selection: Part
    certification: Part
    routed: Part
    plans: list[ThresholdPlan]
    plan: ThresholdPlan | None
    value: float
    final_selection: Part | None = None  # the model's own (not out-of-fold) selection scores

    def grid(self) -> list[float]:
        """Thresholds of the fixed sequence, strictest first, from the planned start on.

        For votes they are the planned scores. The model was planned on out-of-fold scores,
        whose scale differs from the fitted model's, so each planned share is turned into the
        fitted model's score accepting that share of the selection and routed pairs.
        """
        if self.plan is None:
            return []
        plans = [p for p in self.plans if p.threshold <= self.plan.threshold]
        if self.final_selection is None:
            return [p.threshold for p in plans]
        part = self.final_selection
        pool = np.sort(
            np.concatenate(
                [part.scores[part.acceptable], self.routed.scores[self.routed.acceptable]]
            )
        )[::-1]
        total = len(part.pairs) + len(self.routed.pairs)
        grid: list[float] = []
        for p in plans:
            count = min(max(round(p.share * total), 1), len(pool))
            if count == 0:
                continue
            t = float(pool[count - 1])
            if not grid or t < grid[-1]:
                grid.append(t)
        return grid

    def summary(self) -> dict[str, Any]:
        """What the report shows of the candidate."""
        plan = self.plan
        return {
            "score": self.scorer.name,
            "kind": self.scorer.kind,
            "expected_coverage": self.value,
            "start_threshold": plan.threshold if plan else None,
            "pass_probability": plan.pass_probability if plan else 0.0,
            "selection_accepted": plan.selection_accepted if plan else 0,
            "selection_correct": plan.selection_correct if plan else 0,
        }


@dataclass
class Route:
    """One certification attempt: which score, on which gold, at which level."""

    name: str  # "selected" (chosen on the selection part) or "default" (no gold used)
    scorer: AnyScorer
    search: ThresholdSearch
    items: int  # gold items the test used
    share: float  # accepted share of the routed pairs (of the tested gold when none)
    level: float
    scores: list[float] = field(default_factory=list)  # tested items (acceptable ones)
    correct: list[bool] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the report shows of the route."""
        s = self.search
        return {
            "route": self.name,
            "score": self.scorer.name,
            "kind": self.scorer.kind,
            "level": self.level,
            "gold_items": self.items,
            "certified": s.certified,
            "threshold": s.threshold if s.certified else None,
            "certified_coverage": s.accepted / self.items if self.items else 0.0,
            "accepted_share_of_routed": self.share,
        }


def empty_search() -> ThresholdSearch:
    """The outcome of testing nothing: no threshold certified."""
    return ThresholdSearch(math.inf, 0, 0, 0.0, 0)


def accepted_share(candidate: Candidate, threshold: float, gold_parts: Sequence[Part]) -> float:
    """Share of the routed pairs (of ``gold_parts`` when there are none) accepted at
    ``threshold``."""
    parts = [candidate.routed] if candidate.routed.pairs else list(gold_parts)
    total = sum(len(p.pairs) for p in parts)
    hits = sum(int((p.acceptable & (p.scores >= threshold)).sum()) for p in parts)
    return hits / total if total else 0.0


def certify_selected(
    chosen: Candidate,
    gold: Mapping[str, str],
    target: float,
    level: float,
    predictive: bool,
    predictive_level: float | None = None,
) -> Route:
    """Fixed sequence of the chosen score on the certification part, from the planned start."""
    cert = chosen.certification
    search = fixed_sequence_search(
        cert.scores[cert.acceptable].tolist(),
        cert.correct(gold)[cert.acceptable].tolist(),
        target=target,
        delta=level,
        grid=chosen.grid(),
        application_scores=(
            chosen.routed.scores[chosen.routed.acceptable].tolist() if predictive else None
        ),
        predictive_level=predictive_level,
    )
    share = accepted_share(chosen, search.threshold, [cert]) if search.certified else 0.0
    return Route(
        "selected",
        chosen.scorer,
        search,
        len(cert.pairs),
        share,
        level,
        cert.scores[cert.acceptable].tolist(),
        cert.correct(gold)[cert.acceptable].tolist(),
    )


#: Fewest selection items between two planned thresholds (so each bin's agreement is seen).
PLAN_MIN_BIN = 1

#: Labels and scores of a list of pairs, in order.
Scores = tuple[list[str | None], np.ndarray[Any, np.dtype[np.float64]]]


def build_candidate(
    scorer: AnyScorer,
    parts: tuple[list[PairSignals], list[PairSignals], list[PairSignals]],
    gold: Mapping[str, str],
    *,
    panel: Sequence[str],
    accept_labels: Sequence[str],
    target: float,
    delta: float,
    predictive: bool,
    selection_scores: Scores | None = None,
) -> Candidate:
    """Score the (selection, certification, routed) pairs and plan the sequence.

    ``selection_scores``: the scores to plan with on the selection part when they are not the
    scorer's own (the model's nested out-of-fold scores).
    """
    selection, certification, routed = parts
    own = make_part(selection, *scorer.score_many(selection), panel, accept_labels)
    sel = (
        own
        if selection_scores is None
        else make_part(selection, *selection_scores, panel, accept_labels)
    )
    cert = make_part(certification, *scorer.score_many(certification), panel, accept_labels)
    rout = make_part(routed, *scorer.score_many(routed), panel, accept_labels)
    plans = plan_thresholds(
        sel.scores[sel.acceptable].tolist(),
        sel.correct(gold)[sel.acceptable].tolist(),
        rout.scores[rout.acceptable].tolist(),
        selection_total=len(selection),
        routed_total=len(routed),
        certification_total=len(certification),
        target=target,
        delta=delta,
        predictive=predictive,
        min_bin=PLAN_MIN_BIN,
    )
    best = best_plan(plans)
    return Candidate(
        scorer,
        sel,
        cert,
        rout,
        plans,
        best[0] if best else None,
        best[1] if best else 0.0,
        None if selection_scores is None else own,
    )


def make_part(
    pairs: list[PairSignals],
    labels: list[str | None],
    scores: np.ndarray[Any, np.dtype[np.float64]],
    panel: Sequence[str],
    accept_labels: Sequence[str],
) -> Part:
    """A :class:`Part`; acceptable = label in ``accept_labels``, no injection, no order gate
    (exactly :meth:`calibration.policy.AcceptPolicy.accepts` without the threshold)."""
    ok = [
        lab in accept_labels and not p.injection_suspected and not order_gated(p, panel)
        for p, lab in zip(pairs, labels, strict=True)
    ]
    return Part(pairs, labels, scores, np.asarray(ok, dtype=bool))


def split_ids(ids: Sequence[str], share: float, seed: int) -> tuple[set[str], set[str]]:
    """Random split of ``ids`` (sorted first, so the split depends on the seed only)."""
    ordered = sorted(ids)
    perm = np.random.default_rng(seed).permutation(len(ordered))
    n_sel = round(share * len(ordered))
    selection = {ordered[i] for i in perm[:n_sel]}
    return selection, set(ordered) - selection


def model_candidate(
    encoder: FeatureEncoder,
    selection: list[PairSignals],
    gold: Mapping[str, str],
    *,
    folds: int,
    seed: int,
    penalties: Sequence[float],
) -> tuple[ModelScorer, list[str | None], np.ndarray[Any, np.dtype[np.float64]]] | None:
    """The label model fitted on the selection part, and its nested out-of-fold scores there."""
    judged = [
        i
        for i, p in enumerate(selection)
        if any(js.verdicts for j, js in p.judges.items() if j in encoder.judges)
    ]
    y = [gold[selection[i].pair_id] for i in judged]
    classes = sorted(set(y))
    if len(classes) < 2 or len(judged) < 2 * folds:
        return None
    x = encoder.transform([selection[i] for i in judged])
    # ~100 small fits: one BLAS thread each (threaded BLAS on tiny matrices is ~10x slower
    # on a busy machine)
    with threadpool_limits(limits=1):
        c = choose_penalty(x, y, penalties=penalties, seed=seed)
        scorer = ModelScorer(encoder, fit_label_model(x, y, c=c), c)
        oof = nested_cross_fit_probabilities(
            x, y, classes, folds=folds, seed=seed, penalties=penalties
        )
    labels: list[str | None] = [None] * len(selection)
    scores = np.zeros(len(selection))
    best = oof.argmax(axis=1)
    for row, i in enumerate(judged):
        labels[i] = classes[int(best[row])]
        scores[i] = float(oof[row, best[row]])
    return scorer, labels, scores


def explain_selection(chosen: Candidate, ranked: Sequence[Candidate], n_sel: int) -> str:
    """Why ``chosen`` won on the selection part: its evidence and the runners-up."""
    plan = chosen.plan
    if plan is None:
        return (
            f"no candidate score is likely to certify anything on the selection part ({n_sel} "
            "gold items)"
        )
    text = (
        f"{chosen.scorer.name} has the largest expected certified coverage, {chosen.value:.1%}: "
        f"on the selection part ({n_sel} gold items) its labels at score ≥ "
        f"{plan.threshold:.4g} agree with gold on {plan.selection_correct}/"
        f"{plan.selection_accepted}, so the sequence starts there (first step passes with "
        f"probability {plan.pass_probability:.2f})"
    )
    others = [c for c in ranked if c is not chosen][:2]
    if others:
        text += "; next best: " + ", ".join(f"{c.scorer.name} {c.value:.1%}" for c in others)
    return text


def describe_weights(scorer: AnyScorer) -> str:
    """``"; judge weights ..."`` for a reliability-weighted vote (heaviest first), else ``""``."""
    if not isinstance(scorer, VoteScorer) or scorer.weights is None:
        return ""
    ranked = sorted(scorer.weights.items(), key=lambda kv: -kv[1])
    return (
        "; judge weights, the log-odds of each judge's accuracy as Dawid-Skene estimates it "
        "from the verdicts alone: " + ", ".join(f"{j} {w:.2f}" for j, w in ranked)
    )


def explain_route(
    route: Route,
    routes: Sequence[Route],
    chosen: Candidate | None,
    ranked: Sequence[Candidate],
    n_sel: int,
) -> str:
    """Why the policy uses its score: the selection part's evidence, or the default route."""
    if route.name == "default":
        certified = sum(r.search.certified for r in routes)
        text = (
            f"{route.scorer.name}, no gold label chose it, certified on all {route.items} gold "
            f"items at level {route.level:.3g} (its share of δ), accepts the most of the "
            f"{certified} certified of {len(routes)} candidates"
        )
        if chosen:
            text += (
                f" (score chosen on the selection part: {explain_selection(chosen, ranked, n_sel)})"
            )
        return text + describe_weights(route.scorer)
    selected = explain_selection(chosen, ranked, n_sel) if chosen else "no judges"
    others = [r for r in routes if r is not route and r.search.certified]
    text = selected
    if others:
        text += f" (it accepts more than {others[0].scorer.name}, certified on all the gold)"
    return text
