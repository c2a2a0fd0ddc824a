from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from calibration.policy import AcceptPolicy, PolicyConfig, Scored, fit_policy
from calibration.posterior import PosteriorScorer
from calibration.scores import VoteScorer
from calibration.signals import JudgeSignals, PairSignals, signals_from_records
from calibration.union import (
    LEAD_SHARE,
    SELECTED_SHARE,
    all_gold_members,
    member_weights,
)
from tests.calibration.synthetic_judges import draw_pairs, synthesize


def _agreement(
    policy: AcceptPolicy, signals: list[PairSignals], gold: dict[str, str]
) -> tuple[float, float]:
    accepted = [p for p in signals if policy.accepts(p)]
    right = sum(policy.score(p).label == gold[p.pair_id] for p in accepted)
    return len(accepted) / len(signals), right / len(accepted) if accepted else math.nan


def test_strong_panel_is_certified_and_holds_on_fresh_data() -> None:
    signals, gold = synthesize(300, [0.9, 0.8, 0.6], seed=1, flip=0.1)
    # the selected route alone (the gold-free members are tested below): two judges without
    # probabilities have no gold-free score
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1, judges=["j0", "j1"])
    report = fit.report
    assert report["certified"] and math.isfinite(fit.policy.threshold)
    assert report["certified_coverage"] > 0.5
    assert report["bound"] >= 0.85
    if report["route"] == "selected":
        assert report["selection_items"] + report["certification_items"] == 300
    else:  # a score fixed before the gold was read, certified on all of it
        assert report["certification_items"] == 300
    assert report["n_accepted_on_gold"] == round(
        report["certified_coverage"] * report["certification_items"]
    )
    assert report["more_gold_needed"] == 0
    assert report["why_this_score"].startswith(report["score"])
    test_signals, test_gold = synthesize(2000, [0.9, 0.8, 0.6], seed=99, flip=0.1, prefix="t")
    coverage, agreement = _agreement(fit.policy, test_signals, test_gold)
    assert coverage > 0.5 and agreement >= 0.85


def test_panel_without_probabilities_gets_the_posterior_default_route() -> None:
    signals, gold = synthesize(300, [0.9, 0.8, 0.6], seed=1, flip=0.1)
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1)
    routes = fit.report["routes"]
    posterior = next(r for r in routes if r["score"].startswith("Dawid-Skene posterior"))
    assert posterior["route"] == "default"
    assert posterior["gold_items"] == 300  # all the gold: no gold label chose it
    assert sum(r["level"] for r in routes) == pytest.approx(0.1)  # the union spends δ once
    assert fit.report["certified"]
    test_signals, test_gold = synthesize(2000, [0.9, 0.8, 0.6], seed=99, flip=0.1, prefix="t")
    coverage, agreement = _agreement(fit.policy, test_signals, test_gold)
    assert coverage > 0.5 and agreement >= 0.85
    alone = fit_policy(signals[:100], gold, target_agreement=0.85, delta=0.1, judges=["j0"])
    # one judge: its vote on all the gold, and the selected route (label model) on a part
    assert [r["route"] for r in alone.report["routes"]] == ["selected", "default"]


def test_too_little_gold_accepts_nothing_and_says_how_much_more() -> None:
    signals, gold = synthesize(30, [0.92], seed=2)
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1)
    assert not fit.report["certified"] and math.isinf(fit.policy.threshold)
    assert fit.report["threshold"] is None and fit.report["certified_coverage"] == 0.0
    more = fit.report["more_gold_needed"]
    assert isinstance(more, int) and more > 0
    assert not any(fit.policy.accepts(p) for p in signals)


def test_weak_judge_is_never_certified_and_needs_no_amount_of_gold() -> None:
    signals, gold = synthesize(400, [0.7], seed=4)
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1)
    assert not fit.report["certified"]
    assert fit.report["more_gold_needed"] is None


def test_unjudged_pairs_score_none_and_ties_are_never_accepted() -> None:
    signals, gold = synthesize(200, [0.95, 0.9], seed=5)
    tie_pairs = [
        PairSignals(
            f"tie{i}",
            {"j0": JudgeSignals("j0", "tie", "tie"), "j1": JudgeSignals("j1", "tie", "tie")},
        )
        for i in range(60)
    ]
    gold.update({p.pair_id: "tie" for p in tie_pairs})
    fit = fit_policy([*signals, *tie_pairs], gold, target_agreement=0.85, delta=0.1)
    assert fit.report["certified"]
    tie = fit.policy.score(tie_pairs[0])
    assert tie.label == "tie" and tie.probability > 0.9
    assert not fit.policy.accepts(tie_pairs[0])
    empty = PairSignals("none", {"j0": JudgeSignals("j0", None, None)})
    assert fit.policy.score(empty) == Scored(None, 0.0)
    assert not fit.policy.accepts(empty)
    suspicious = PairSignals("inj", signals[0].judges, injection_suspected=True)
    assert fit.policy.score(suspicious).label is not None and not fit.policy.accepts(suspicious)


def test_policy_json_round_trip_scores_the_same() -> None:
    signals, gold = synthesize(300, [0.9, 0.75], seed=6, flip=0.2)
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1, seed=3)
    body = json.loads(json.dumps(fit.policy.to_json(), allow_nan=False))
    again = AcceptPolicy.from_json(body)
    for pair in signals[:50]:
        a, b = fit.policy.score(pair), again.score(pair)
        assert a.label == b.label and np.isclose(a.probability, b.probability)
    json.dumps(fit.report, allow_nan=False)  # the stored report is strict JSON


def test_panel_restricted_to_named_judges() -> None:
    signals, gold = synthesize(300, [0.95, 0.6], seed=7)
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1, judges=["j1"])
    assert fit.policy.judges == ["j1"]
    assert {c["score"] for c in fit.report["candidates"]} <= {
        "judge j1 (both-order vote)",
        *(c["score"] for c in fit.report["candidates"] if c["kind"] == "model"),
    }
    assert not fit.report["certified"]  # j1 alone is 60% right
    assert set(fit.report["judges"]) == {"j1"}


def test_test_sample_size_is_accounted_for() -> None:
    # With many pairs to apply the policy to, the certified share can only shrink or stay.
    signals, gold = synthesize(200, [0.9, 0.8], seed=8, flip=0.1)
    extra, _ = synthesize(2000, [0.9, 0.8], seed=9, flip=0.1, prefix="u")
    population = fit_policy(signals, gold, target_agreement=0.85, delta=0.1, predictive=False)
    with_rest = fit_policy(
        [*signals, *extra], gold, target_agreement=0.85, delta=0.1, predictive=True
    )
    assert with_rest.report["ungold_pairs"] == 2000
    assert with_rest.report["n_accepted_on_gold"] <= population.report["n_accepted_on_gold"]
    assert with_rest.report["expected_coverage_on_ungold"] is not None


def test_llmbar_split_certifies_and_holds_on_the_held_back_half(shared_data: Path) -> None:
    folder = shared_data / "llmbar"
    judgments = [json.loads(line) for line in (folder / "judgments.jsonl").open()]
    pairs = [json.loads(line) for line in (folder / "pairs.jsonl").open()]
    labels = {r["pair_id"]: r["label"] for r in map(json.loads, (folder / "labels.jsonl").open())}
    signals = signals_from_records(judgments, pairs)
    ids = sorted(labels)
    np.random.default_rng(0).shuffle(ids)
    cal = {p: labels[p] for p in ids[: len(ids) // 2]}
    fit = fit_policy(signals, cal, target_agreement=0.85, delta=0.1)
    assert fit.report["certified"] and fit.report["bound"] >= 0.85
    test = [p for p in signals if p.pair_id not in cal]
    coverage, agreement = _agreement(fit.policy, test, labels)
    assert coverage > 0.5 and agreement >= 0.85
    gpt4 = fit.report["judges"]["gpt-4/vanilla"]
    falcon = fit.report["judges"]["falcon/vanilla"]
    assert gpt4["agreement"] > falcon["agreement"]
    assert gpt4["position_consistency"] > falcon["position_consistency"]


def _judges_with_probabilities(
    n: int, seed: int, prefix: str = "c"
) -> tuple[list[PairSignals], dict[str, str]]:
    """Three calibrated judges stating probabilities (one order): right with their stated p."""

    def judges_for(rng: np.random.Generator, truth: str, other: str) -> dict[str, JudgeSignals]:
        judges = {}
        for j, skill in enumerate((3.0, 1.5, 1.0)):
            p = 0.5 + 0.5 * float(rng.beta(skill, 1.0))
            verdict = truth if rng.random() < p else other
            judges[f"j{j}"] = JudgeSignals(f"j{j}", verdict, None, confidence_ab=p)
        return judges

    return draw_pairs(n, judges_for, seed=seed, prefix=prefix)


def test_judges_with_probabilities_certify_most_pairs_and_hold() -> None:
    signals, gold = _judges_with_probabilities(240, seed=21)
    cal = dict(list(gold.items())[:120])
    fit = fit_policy(signals, cal, target_agreement=0.85, delta=0.1)
    routes = {r["route"]: r for r in fit.report["routes"]}
    assert set(routes) == {"selected", "default"}  # probabilities switch on the default route
    assert routes["default"]["gold_items"] == 120 and routes["selected"]["gold_items"] == 72
    assert fit.report["certified"] and fit.report["level"] < 0.1
    test = [p for p in signals if p.pair_id not in cal]
    coverage, agreement = _agreement(fit.policy, test, gold)
    assert coverage > 0.5 and agreement >= 0.85


def _one_strong_two_weak(n: int, seed: int) -> tuple[list[PairSignals], dict[str, str]]:
    """A strong judge stating informative probabilities and two weak ones whose stated
    probabilities say nothing (right 62% whatever they state), one order each."""

    def judges_for(rng: np.random.Generator, truth: str, other: str) -> dict[str, JudgeSignals]:
        p = 0.5 + 0.5 * float(rng.beta(3.0, 1.0))
        judges = {"strong": JudgeSignals("strong", truth if rng.random() < p else other, None, p)}
        for name in ("weak-1", "weak-2"):
            verdict = truth if rng.random() < 0.62 else other
            judges[name] = JudgeSignals(name, verdict, None, float(rng.uniform(0.6, 1.0)))
        return judges

    return draw_pairs(n, judges_for, seed=seed, prefix="w")


def test_a_strong_judge_among_weak_ones_leads_the_gold_free_route() -> None:
    # The weighted vote weighs each judge by its Dawid-Skene accuracy (no gold label read), so
    # the strong judge decides nearly alone; with the strong judge alone also a candidate, far
    # more is certified than with the plain panel vote, whose weak judges drag every score down.
    weighted, plain, routes = [], [], set()
    for seed in range(4):
        signals, gold = _one_strong_two_weak(240, seed)
        cal = dict(list(gold.items())[:120])
        test = [p for p in signals if p.pair_id not in cal]
        fit = fit_policy(signals, cal, target_agreement=0.85, delta=0.1, seed=seed)
        members = [r for r in fit.report["routes"] if r["route"] == "default"]
        assert members and all(r["gold_items"] == 120 for r in members)  # no gold chose them
        assert fit.policy.judges == ["strong", "weak-1", "weak-2"]
        weights = fit.policy.scorer.to_json().get("weights")
        if weights is not None:
            assert weights["strong"] > 2 * max(weights["weak-1"], weights["weak-2"])
        if fit.report["route"] == "default" and fit.report["score_kind"] == "weighted":
            why = fit.report["why_this_score"]
            weights_text = why[why.index("judge weights") :]
            assert weights_text.index("strong") < weights_text.index("weak-1")
        coverage, agreement = _agreement(fit.policy, test, gold)
        assert math.isnan(agreement) or agreement >= 0.85
        weighted.append(coverage)
        routers = {r["router"]: r for r in fit.report["simple_routers"]}
        plain.append(routers["panel vote share"]["certified_coverage"])
        routes.add(fit.report["route"])
    assert "default" in routes
    assert np.mean(weighted) > 0.4 and np.mean(weighted) > np.mean(plain) + 0.1


def test_member_weights_come_from_the_member_list_and_sum_to_one() -> None:
    vote = VoteScorer(("a", "b", "c"), {})
    weighted = VoteScorer(("a", "b", "c"), {}, {"a": 1.0, "b": 1.0, "c": 1.0})
    posterior = PosteriorScorer(("a",), ("A", "B"), (0.0, 0.0), {})
    assert member_weights([]) == [1.0]  # nothing on all the gold: all δ to the selection
    assert member_weights([vote]) == pytest.approx([1 - SELECTED_SHARE, SELECTED_SHARE])
    three = member_weights([vote, weighted, posterior])
    rest = (1 - SELECTED_SHARE - LEAD_SHARE) / 2
    assert three == pytest.approx([LEAD_SHARE, rest, rest, SELECTED_SHARE])
    assert sum(three) == pytest.approx(1.0)
    without = member_weights([vote, weighted, posterior], with_selected=False)
    assert len(without) == 3 and sum(without) == pytest.approx(1.0)
    signals, gold = _one_strong_two_weak(240, 0)
    fit = fit_policy(signals, dict(list(gold.items())[:100]), target_agreement=0.85, delta=0.1)
    levels = [(r["route"], r["level"]) for r in fit.report["routes"]]
    assert fit.report["selection_items"] == 40
    assert levels[0] == ("selected", pytest.approx(SELECTED_SHARE * 0.1))
    assert sum(level for _, level in levels) == pytest.approx(0.1)


def test_members_follow_the_panels_shape_and_every_router_score_is_a_candidate() -> None:
    # issue #23: the score likely to certify most leads (most of δ), chosen without gold; the
    # simple routers' scores (the vote share, every judge alone) stay candidates of the route
    # chosen on the selection part, so none is lost
    signals, gold = _one_strong_two_weak(240, 1)
    members = all_gold_members(signals, ["strong", "weak-1", "weak-2"], {})
    names = [m.name for m in members]
    # the gold-free weights say the strong judge decides: it leads, its weighted vote seconds
    assert names == [
        "judge strong (vote)",
        "reliability-weighted panel vote share (3 judges)",
    ]
    even, _ = synthesize(200, [0.9, 0.85, 0.8], seed=5)  # no probabilities: the vote share leads,
    kinds = [m.kind for m in all_gold_members(even, ["j0", "j1", "j2"], {})]
    # Dawid-Skene may rank what votes tie, and the judge ranked first without gold may be
    # accurate enough alone (its two or three values then certify everything)
    assert kinds == ["panel", "posterior", "judge"]
    copies = [  # a near-copy of a weak judge does not change who decides
        PairSignals(p.pair_id, {**p.judges, "copy": replace(p.judges["weak-1"], judge="copy")})
        for p in signals
    ]
    panel = ["strong", "weak-1", "weak-2", "copy"]
    assert all_gold_members(copies, panel, {})[0].name == "judge strong (vote)"
    fit = fit_policy(signals, dict(list(gold.items())[:120]), target_agreement=0.85, delta=0.1)
    routes = fit.report["routes"]
    assert {r["score"] for r in routes} >= set(names)
    candidates = {c["score"] for c in fit.report["candidates"]}
    judges = {f"judge {j} (vote)" for j in ("strong", "weak-1", "weak-2")}
    assert candidates >= judges | {"panel vote share (3 judges)"}
    chosen = max((r for r in routes if r["certified"]), key=lambda r: r["accepted_share_of_routed"])
    assert fit.report["score"] == chosen["score"]  # the candidate kept is named in the report
    assert {r["router"] for r in fit.report["simple_routers"]} == {
        "best single judge",
        "panel vote share",
    }


def test_config_object_and_keyword_options_agree() -> None:
    signals, gold = synthesize(200, [0.9, 0.8, 0.7], seed=3, flip=0.1)
    config = PolicyConfig(target_agreement=0.85, delta=0.1, reports=False, use_model=False)
    by_config = fit_policy(signals, gold, config)
    by_options = fit_policy(
        signals, gold, target_agreement=0.85, delta=0.1, reports=False, use_model=False
    )
    assert by_config.report == by_options.report
    looser = fit_policy(signals, gold, config, target_agreement=0.7)  # options override
    assert looser.report["target_agreement"] == 0.7
    with pytest.raises(ValueError, match="delta"):
        PolicyConfig(target_agreement=0.85, delta=1.5)


def test_report_says_what_each_simple_router_certifies_on_the_same_gold() -> None:
    signals, gold = synthesize(300, [0.95, 0.7, 0.65], seed=5, flip=0.05)
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1)
    routers = {r["router"]: r for r in fit.report["simple_routers"]}
    assert set(routers) == {"best single judge", "panel vote share"}
    judge = routers["best single judge"]
    assert judge["score"] == "judge j0 (both-order vote)"  # the 95% judge, chosen on gold
    assert judge["certified"] and judge["gold_items"] == 300
    assert judge["certified_coverage"] == judge["accepted"] / 300
    assert judge["correct"] / judge["accepted"] >= 0.85
