"""Every routing reason, hard versus soft gates, frozen pairs and the JSON line format."""

from __future__ import annotations

from dataclasses import replace

import pytest

from calibration.policy import AcceptPolicy
from routing.decisions import REASONS, RoutingDecision
from routing.router import RouteOptions, find_reasons, route_all, route_pair
from tests.routing.conftest import judge, pair, synthetic_panel


@pytest.fixture
def lenient(fitted_policy: AcceptPolicy) -> AcceptPolicy:
    """The fitted policy with threshold 0: only the router's own gates can refuse a pair."""
    return replace(fitted_policy, threshold=0.0)


def test_clean_consistent_panel_is_auto_accepted(lenient: AcceptPolicy) -> None:
    d = route_pair(
        pair("p", judge("j1", "A", "A"), judge("j2", "A", "A")), lenient, frozen_eval=False
    )
    assert d.decision == "auto_accept"
    assert d.label == "A"
    assert d.source == "ai"
    assert d.reasons == ()
    assert d.confidence is not None and 0.5 < d.confidence <= 1.0


def test_not_judged(lenient: AcceptPolicy) -> None:
    d = route_pair(pair("p"), lenient, frozen_eval=False)
    assert (d.decision, d.label, d.reasons, d.confidence) == (
        "human_review",
        None,
        ("not_judged",),
        None,
    )


def test_unparseable_everywhere_is_a_hard_gate(lenient: AcceptPolicy) -> None:
    d = route_pair(
        pair("p", judge("j1", None, None), judge("j2", None, None)), lenient, frozen_eval=False
    )
    assert d.decision == "human_review"
    assert d.reasons == ("unparseable",)


def test_unparseable_of_one_judge_is_soft_when_another_is_consistent(
    lenient: AcceptPolicy,
) -> None:
    d = route_pair(
        pair("p", judge("j1", "B", "B"), judge("j2", "B", None)), lenient, frozen_eval=False
    )
    assert "unparseable" in d.reasons
    assert d.decision == "auto_accept"
    assert d.label == "B"


def test_single_judge_flip_is_a_hard_gate(lenient: AcceptPolicy) -> None:
    single = replace(lenient, judges=["j1"])
    d = route_pair(pair("p", judge("j1", "A", "B")), single, frozen_eval=False)
    assert d.decision == "human_review"
    assert "order_flip" in d.reasons


def test_single_judge_missing_order_is_a_hard_gate(lenient: AcceptPolicy) -> None:
    single = replace(lenient, judges=["j1"])
    d = route_pair(pair("p", judge("j1", "A", None)), single, frozen_eval=False)
    assert d.decision == "human_review"
    assert d.reasons == ("unparseable",)


def test_verdicts_recorded_in_one_order_only_are_not_gated(lenient: AcceptPolicy) -> None:
    single = replace(lenient, judges=["j1"])
    d = route_pair(pair("p", judge("j1", "A", None, missing=("BA",))), single, frozen_eval=False)
    assert d.decision == "auto_accept"
    assert d.label == "A"
    assert "unparseable" not in d.reasons and "order_flip" not in d.reasons


def test_flip_of_one_panel_judge_is_soft_unless_it_is_the_primary(lenient: AcceptPolicy) -> None:
    signals = pair("p", judge("j1", "A", "A"), judge("j2", "A", "B"))
    soft = route_pair(signals, lenient, frozen_eval=False)
    assert soft.reasons == ("order_flip",)
    assert soft.decision == "auto_accept"
    hard = route_pair(signals, lenient, frozen_eval=False, options=RouteOptions(primary_judge="j2"))
    assert hard.decision == "human_review"
    assert hard.reasons == ("order_flip",)


def test_every_judge_flipping_is_a_hard_gate(lenient: AcceptPolicy) -> None:
    d = route_pair(
        pair("p", judge("j1", "A", "B"), judge("j2", "B", "A")), lenient, frozen_eval=False
    )
    assert d.decision == "human_review"
    assert "order_flip" in d.reasons


def test_panel_disagreement_is_listed_and_gates_only_on_request(lenient: AcceptPolicy) -> None:
    signals = pair("p", judge("j1", "A", "A"), judge("j2", "B", "B"))
    assert "panel_disagreement" in find_reasons(signals, lenient)
    gated = route_pair(
        signals, lenient, frozen_eval=False, options=RouteOptions(gate_panel_disagreement=True)
    )
    assert gated.decision == "human_review"
    assert "panel_disagreement" in gated.reasons


@pytest.mark.parametrize("verdict", ["tie", "both_bad"])
def test_tie_and_both_bad_labels_go_to_people(lenient: AcceptPolicy, verdict: str) -> None:
    d = route_pair(
        pair("p", judge("j1", verdict, verdict), judge("j2", verdict, verdict)),
        lenient,
        frozen_eval=False,
    )
    assert d.decision == "human_review"
    assert verdict in d.reasons
    assert d.label is None


def test_tie_is_accepted_when_the_policy_accepts_ties(lenient: AcceptPolicy) -> None:
    ties_ok = replace(lenient, accept_labels=["A", "B", "tie"])
    d = route_pair(
        pair("p", judge("j1", "tie", "tie"), judge("j2", "tie", "tie")), ties_ok, frozen_eval=False
    )
    assert d.decision == "auto_accept"
    assert d.label == "tie"


def test_injection_is_a_hard_gate(lenient: AcceptPolicy) -> None:
    d = route_pair(
        pair("p", judge("j1", "A", "A"), judge("j2", "A", "A"), injection=True),
        lenient,
        frozen_eval=False,
    )
    assert d.decision == "human_review"
    assert d.reasons == ("judge_injection_suspected",)


def test_low_confidence_below_threshold(fitted_policy: AcceptPolicy) -> None:
    strict = replace(fitted_policy, threshold=1.01)
    d = route_pair(
        pair("p", judge("j1", "A", "A"), judge("j2", "A", "A")), strict, frozen_eval=False
    )
    assert d.decision == "human_review"
    assert d.reasons == ("low_confidence",)
    assert d.confidence is not None and d.confidence < 1.01


def test_uncertified_policy_accepts_nothing(fitted_policy: AcceptPolicy) -> None:
    never = replace(fitted_policy, threshold=float("inf"))
    signals, _ = synthetic_panel(50, seed=7)
    run = route_all(signals, never)
    assert {d.decision for d in run.decisions} == {"human_review"}


def test_decision_agrees_with_the_policy_rule_when_no_extra_gate_applies(
    fitted_policy: AcceptPolicy,
) -> None:
    signals, _ = synthetic_panel(300, seed=3)
    for s in signals:
        d = route_pair(s, fitted_policy, frozen_eval=False)
        if d.decision == "auto_accept":
            assert fitted_policy.accepts(s)  # the router never accepts what the policy refuses
        elif fitted_policy.accepts(s):
            assert any(j.consistent for j in s.judges.values()) is False


def test_every_reason_is_reachable(lenient: AcceptPolicy, fitted_policy: AcceptPolicy) -> None:
    cases = [
        pair("a"),
        pair("b", judge("j1", None, None)),
        pair("c", judge("j1", "A", "B"), judge("j2", "A", "A")),
        pair("d", judge("j1", "A", "A"), judge("j2", "B", "B")),
        pair("e", judge("j1", "tie", "tie"), judge("j2", "tie", "tie")),
        pair("f", judge("j1", "both_bad", "both_bad"), judge("j2", "both_bad", "both_bad")),
        pair("g", judge("j1", "A", "A"), injection=True),
    ]
    seen = {r for s in cases for r in find_reasons(s, lenient)}
    seen |= set(find_reasons(cases[2], replace(fitted_policy, threshold=1.01)))
    assert seen == set(REASONS)


def test_frozen_pairs_are_never_labeled(lenient: AcceptPolicy) -> None:
    d = route_pair(
        pair("p", judge("j1", "A", "A"), judge("j2", "A", "A")), lenient, frozen_eval=True
    )
    assert d.decision == "frozen_eval"
    assert d.label is None and d.reasons == ()
    run = route_all([pair("p", judge("j1", "A", "A"))], lenient, frozen=["p"], spot_check_rate=1.0)
    assert run.decisions[0].decision == "frozen_eval"


def test_to_json_has_exactly_the_interchange_keys() -> None:
    d = RoutingDecision("p", "human_review", None, "ai", ("order_flip", "low_confidence"), 0.4)
    assert d.to_json() == {
        "pair_id": "p",
        "decision": "human_review",
        "label": None,
        "source": "ai",
        "reasons": ["order_flip", "low_confidence"],
        "confidence": 0.4,
    }
    spot = RoutingDecision("q", "spot_check", "A", "ai", (), 0.9, 0.05)
    assert spot.to_json()["label"] is None  # null until people answer
    assert spot.to_json()["inclusion_probability"] == 0.05
    accepted = RoutingDecision("r", "auto_accept", "B", "ai", (), 0.95, 0.05)
    assert accepted.to_json()["label"] == "B"


def test_route_all_counts_and_spot_checks(fitted_policy: AcceptPolicy) -> None:
    signals, _ = synthetic_panel(300, seed=5)
    run = route_all(signals, fitted_policy, spot_check_rate=0.1, seed=4)
    counts = run.counts()
    assert sum(counts.values()) == 300
    accepted = counts.get("auto_accept", 0) + counts.get("spot_check", 0)
    assert accepted > 0
    assert counts.get("spot_check", 0) == -(-accepted // 10)  # ceil(0.1 * accepted)
    for d in run.decisions:
        if d.decision in ("auto_accept", "spot_check"):
            assert d.label in ("A", "B")
            assert d.inclusion_probability == pytest.approx(counts["spot_check"] / accepted)
        else:
            assert d.inclusion_probability is None
    reasons = run.reason_counts()
    assert sum(reasons.values()) == sum(len(d.reasons) for d in run.decisions)
    again = route_all(list(reversed(signals)), fitted_policy, spot_check_rate=0.1, seed=4)
    assert again.decisions == run.decisions
