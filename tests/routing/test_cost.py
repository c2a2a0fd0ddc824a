"""Cost arithmetic on a tiny example checked by hand."""

from __future__ import annotations

import pytest

from routing.cost import CostInputs, Interval, cost_breakdown, frontier, human_spend, mix_quality


def test_breakdown_by_hand() -> None:
    # 100 final labels: 70 auto-accepted, 5 spot-checked, 25 to people (non-gold), and 20 gold
    # pairs beside them (10 among the final labels); 24 gold labels stored.
    # judges $3.00; a human label $1.50; 2 reviewers per item; 8 review labels, 3 spot-check
    # answers and 2 hidden gold-check answers given so far.
    c = cost_breakdown(
        CostInputs(
            judge_spend=3.0,
            auto_accepted=70,
            spot_checked=5,
            human_review=15,
            gold_items=20,
            human_cost=1.5,
            reviewers_per_item=2,
            review_done=8,
            spot_check_done=3,
            gold_check_done=2,
            gold_labels=24,
            gold_final=10,
        )
    )
    assert c.review_spend == 15 * 2 * 1.5 == 45.0  # planned
    assert c.review_spent == 8 * 1.5 == 12.0  # spent
    assert c.spot_check_spend == 5 * 2 * 1.5 == 15.0
    assert c.spot_check_spent == 3 * 1.5
    assert c.gold_spend == 24 * 1.5 == 36.0  # one price per gold label, k does not apply
    assert c.gold_check_spend == 2 * 1.5
    assert c.human_spend == 45.0 + 15.0 + 36.0 + 3.0
    assert c.hybrid_total == 3.0 + 99.0
    assert c.spent_total == 3.0 + 12.0 + 4.5 + 36.0 + 3.0
    assert c.final_labels == 100
    assert c.hybrid_per_label == pytest.approx(1.02)
    assert c.human_only_total == 300.0  # 100 pairs * 2 people * $1.50
    assert c.human_only_per_label == 3.0
    assert c.savings_ratio == pytest.approx(102 / 300)
    assert c.auto_share == pytest.approx(0.75)
    assert c.paid_share == pytest.approx(0.9)
    doc = c.to_json()
    assert doc["human_spend"]["total"] == 99.0
    assert doc["human_spent"]["total"] == pytest.approx(12.0 + 4.5 + 36.0 + 3.0)
    review = next(line for line in doc["lines"] if line["source"] == "review")
    assert review == {
        "source": "review",
        "items": 15,
        "planned_labels": 30,
        "labels_done": 8,
        "planned": 45.0,
        "spent": 12.0,
    }
    assert sum(line["planned"] for line in doc["lines"]) == pytest.approx(c.hybrid_total)
    assert sum(line["spent"] for line in doc["lines"]) == pytest.approx(c.spent_total)


def test_more_reviewers_per_item_do_not_multiply_gold() -> None:
    one, two = (
        cost_breakdown(CostInputs(0.0, 50, 0, 50, 100, reviewers_per_item=k)) for k in (1, 2)
    )
    assert one.gold_spend == two.gold_spend == 100.0
    assert two.review_spend == 2 * one.review_spend == 100.0


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


def test_accept_none_never_costs_more_than_people_only() -> None:
    # the LLMBar case: 2 reviewers at $1, half the final labels gold ($0.50 a label), judges
    # $0.30 a label. Accepting nothing needs no judge: gold $0.50 + half the pairs at $2.
    kwargs = {
        "judge_cost_per_label": 0.3,
        "gold_cost_per_label": 0.5,
        "human_cost": 1.0,
        "reviewers_per_item": 2,
        "spot_check_rate": 0.1,
        "thresholds": [0.95, 0.75],
    }
    pts = frontier([0.9, 0.6], [True, True], [True, True], paid_share=0.5, **kwargs)  # type: ignore[arg-type]
    none, half = pts
    assert none.accepted == 0 and none.cost_per_label == pytest.approx(0.5 + 0.5 * 2.0)
    assert none.cost_per_label <= 2.0  # people only: k * c
    # half accepted: judges + gold + paid share * (unaccepted + spot checks of accepted) * k c
    assert half.cost_per_label == pytest.approx(0.3 + 0.5 + 0.5 * (0.5 + 0.1 * 0.5) * 2.0)
    # gold bought beyond the final labels: accept none falls back to people only
    dear = frontier([0.9], [True], [True], paid_share=1.0, **{**kwargs, "thresholds": [0.95]})  # type: ignore[arg-type]
    assert dear[0].cost_per_label == pytest.approx(2.0)
