"""Cost arithmetic on a tiny example checked by hand."""

from __future__ import annotations

import pytest

from routing.cost import CostInputs, Interval, cost_breakdown, frontier, human_spend, mix_quality


def test_breakdown_by_hand() -> None:
    # 100 routed pairs: 70 auto-accepted, 5 spot-checked, 25 to people; 20 gold items.
    # judges $3.00; a human label $1.50; 2 reviewers per item.
    c = cost_breakdown(
        CostInputs(
            judge_spend=3.0,
            auto_accepted=70,
            spot_checked=5,
            human_review=25,
            gold_items=20,
            human_cost=1.5,
            reviewers_per_item=2,
        )
    )
    assert c.review_spend == 25 * 2 * 1.5 == 75.0
    assert c.spot_check_spend == 5 * 2 * 1.5 == 15.0
    assert c.gold_spend == 20 * 2 * 1.5 == 60.0
    assert c.human_spend == 150.0
    assert c.hybrid_total == 153.0
    assert c.final_labels == 100
    assert c.hybrid_per_label == pytest.approx(1.53)
    assert c.human_only_total == 300.0  # 100 pairs * 2 people * $1.50
    assert c.human_only_per_label == 3.0
    assert c.savings_ratio == pytest.approx(0.51)
    assert c.auto_share == pytest.approx(0.75)
    assert c.to_json()["human_spend"]["total"] == 150.0


def test_human_spend_and_validation() -> None:
    assert human_spend(10, 3, 0.6) == pytest.approx(18.0)
    with pytest.raises(ValueError):
        CostInputs(
            judge_spend=0,
            auto_accepted=0,
            spot_checked=0,
            human_review=0,
            gold_items=0,
            reviewers_per_item=0,
        )


def test_nothing_routed_gives_no_per_label_cost() -> None:
    c = cost_breakdown(CostInputs(0.5, 0, 0, 0, 0))
    assert c.hybrid_per_label is None and c.savings_ratio is None


def test_quality_mix_by_hand() -> None:
    q = mix_quality(Interval(0.8, 0.7, 0.9), Interval(0.95, 0.9, 0.99), auto_share=0.75)
    assert q.hybrid.estimate == pytest.approx(0.75 * 0.95 + 0.25 * 0.8)
    assert q.hybrid.lower == pytest.approx(0.75 * 0.9 + 0.25 * 0.7)
    assert q.hybrid.upper == pytest.approx(0.75 * 0.99 + 0.25 * 0.9)
    only_people = mix_quality(Interval(0.8, 0.7, 0.9), Interval(None, None, None), 0.0)
    assert only_people.hybrid.estimate == 0.8


def test_frontier_by_hand() -> None:
    # four gold items: scores .9 (right), .8 (wrong), .7 (right), .6 (tie label: not acceptable)
    pts = frontier(
        [0.9, 0.8, 0.7, 0.6],
        [True, True, True, False],
        [True, False, True, True],
        judge_cost_per_label=0.02,
        gold_cost_per_label=0.1,
        human_cost=1.0,
        reviewers_per_item=1,
        spot_check_rate=0.1,
        human_agreement=0.8,
        thresholds=[0.85, 0.75, 0.0],
    )
    t85, t75, t0 = pts
    assert (t85.accepted, t85.coverage, t85.agreement) == (1, 0.25, 1.0)
    # cost = 0.02 + 0.1 + ((1 - 0.25) + 0.1 * 0.25) * 1 * 1.0 = 0.895
    assert t85.cost_per_label == pytest.approx(0.895)
    assert t85.expected_quality == pytest.approx(0.25 * 1.0 + 0.75 * 0.8)
    assert (t75.accepted, t75.agreement) == (2, 0.5)
    assert t75.cost_per_label == pytest.approx(0.12 + 0.5 + 0.05)
    assert (t0.accepted, t0.coverage) == (3, 0.75)
    assert t0.agreement == pytest.approx(2 / 3)
    assert t0.agreement_lower is not None and t0.agreement_lower < 2 / 3
    # costs fall as coverage rises
    assert t85.cost_per_label > t75.cost_per_label > t0.cost_per_label


def test_default_grid_includes_accept_nothing_and_everything() -> None:
    pts = frontier(
        [0.9, 0.7],
        [True, True],
        [True, True],
        judge_cost_per_label=0.0,
        gold_cost_per_label=0.0,
        human_cost=1.0,
    )
    assert pts[0].accepted == 0 and pts[0].cost_per_label == pytest.approx(1.0)
    assert pts[-1].accepted == 2 and pts[-1].cost_per_label == pytest.approx(0.05)
