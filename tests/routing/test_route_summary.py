"""Routing summaries: gating reasons apart from informational flags, and ties counted right."""

from __future__ import annotations

from calibration.policy import AcceptPolicy
from routing.decisions import RoutingDecision
from routing.route_summary import panel_tied_both_orders, split_reasons, summarize_run
from routing.router import route_all
from tests.routing.conftest import judge, pair, synthetic_panel


def test_a_flip_on_an_accepted_pair_is_a_flag() -> None:
    signals = pair("p", judge("j1", "A", "A"), judge("j2", "A", "B"))
    accepted = RoutingDecision("p", "auto_accept", "A", "ai", ("order_flip",), 0.9)
    assert split_reasons(accepted, signals, ["j1", "j2"]) == ((), ("order_flip",))
    # the same flip on a reviewed pair still does not gate: j1 stands by its verdict
    low = RoutingDecision("p", "human_review", None, "ai", ("order_flip", "low_confidence"), 0.4)
    assert split_reasons(low, signals, ["j1", "j2"]) == (("low_confidence",), ("order_flip",))


def test_a_flip_of_the_whole_panel_gates() -> None:
    signals = pair("p", judge("j1", "A", "B"))
    reviewed = RoutingDecision("p", "human_review", None, "ai", ("order_flip",), 0.5)
    assert split_reasons(reviewed, signals, ["j1"]) == (("order_flip",), ())


def test_a_panel_tied_in_both_orders_counts_as_tie() -> None:
    tied = pair("t", judge("j1", "A", "A"), judge("j2", "B", "B"))
    assert panel_tied_both_orders(tied, ["j1", "j2"])
    assert panel_tied_both_orders(pair("u", judge("j1", "tie", "tie")), ["j1"])
    assert not panel_tied_both_orders(pair("v", judge("j1", "A", "B")), ["j1"])  # a flip
    one_order = pair("w", judge("j1", "A", "A"), judge("j2", "B", "A"))
    assert not panel_tied_both_orders(one_order, ["j1", "j2"])
    decision = RoutingDecision(
        "t", "human_review", None, "ai", ("panel_disagreement", "low_confidence"), 0.5
    )
    gates, flags = split_reasons(decision, tied, ["j1", "j2"])
    assert gates == ("low_confidence",) and flags == ("panel_disagreement", "tie")
    summary = summarize_run([decision], {"t": tied}, ["j1", "j2"])
    assert summary.reasons["tie"] == 1 and summary.flags["tie"] == 1


def test_every_reviewed_pair_has_a_gate(fitted_policy: AcceptPolicy) -> None:
    signals, _ = synthetic_panel(300, seed=5)
    run = route_all(signals, fitted_policy, spot_check_rate=0.1)
    summary = summarize_run(run.decisions, {s.pair_id: s for s in signals}, fitted_policy.judges)
    assert summary.ungated_review == 0
    accepted = [d for d in run.decisions if d.decision in ("auto_accept", "spot_check")]
    assert any(d.reasons for d in accepted)  # soft reasons on accepted pairs exist here...
    total_flags = sum(summary.flags.values())
    assert total_flags >= sum(len(d.reasons) for d in accepted)  # ...and all are flags
