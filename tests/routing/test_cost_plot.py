"""The cost report's plot is readable at a glance, and judge names stay whole in tables."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from referee.cli import calibrate as calibrate_cli
from referee.reports.cost_html import frontier_svg, render_cost_html


def _point(threshold: float, coverage: float, agreement: float | None, lower: float, upper: float,
           cost: float) -> dict[str, object]:  # fmt: skip
    return {
        "threshold": threshold,
        "coverage": coverage,
        "accepted": int(coverage * 100),
        "agreement": agreement,
        "agreement_lower": lower,
        "agreement_upper": upper,
        "cost_per_label": cost,
        "expected_quality": agreement,
    }


POINTS = [
    _point(1.01, 0.0, None, 0.0, 0.0, 1.0),
    _point(0.99, 0.01, 1.0, 0.025, 1.0, 0.98),  # one item: its interval spans nearly 0-100%
    _point(0.9, 0.6, 0.95, 0.91, 0.98, 0.5),
    _point(0.7, 0.9, 0.91, 0.88, 0.94, 0.2),
]


def _y_ticks(svg: str) -> list[float]:
    return [float(t) / 100 for t in re.findall(r'text-anchor="end">([\d.]+)%</text>', svg)]


def test_y_axis_is_zoomed_to_the_data_with_target_and_policy_marked() -> None:
    svg = frontier_svg(POINTS, policy_threshold=0.9, human_only=(1.0, 0.93), target=0.85)
    ticks = _y_ticks(svg)
    assert ticks and min(ticks) >= 0.8 and max(ticks) <= 1.0  # not 0-100%
    assert min(ticks) <= 0.85  # the target is on the axis
    assert 'class="target"' in svg and "target 85%" in svg
    assert 'class="policy"' in svg and "chosen policy (threshold 0.900" in svg
    # the one-item interval is cut at the axis edge, not stretching it
    assert "<polyline points=" in svg


def test_target_line_sits_at_the_target() -> None:
    svg = frontier_svg(POINTS, policy_threshold=0.9, target=0.85)
    line = re.search(r'class="target" x1="[\d.]+" y1="([\d.]+)"', svg)
    ticks = re.findall(r'<line x1="\d+" y1="([\d.]+)" x2="\d+" y2="[\d.]+" stroke="black"/><text '
                       r'x="\d+" y="[\d.]+" text-anchor="end">([\d.]+)%', svg)  # fmt: skip
    assert line is not None and len(ticks) >= 2
    (y0, v0), (y1, v1) = ticks[0], ticks[-1]
    y_target = float(y0) + (0.85 - float(v0) / 100) * (float(y1) - float(y0)) / (
        (float(v1) - float(v0)) / 100
    )
    assert float(line.group(1)) == pytest.approx(y_target, abs=0.2)


def test_html_report_has_planned_and_spent_columns() -> None:
    lines = [
        {"source": "judges", "items": None, "planned_labels": None, "labels_done": None,
         "planned": 1.0, "spent": 1.0},
        {"source": "review", "items": 50, "planned_labels": 100, "labels_done": 8,
         "planned": 100.0, "spent": 8.0},
    ]  # fmt: skip
    doc = {
        "dataset": "d",
        "human_cost": 1.0,
        "reviewers_per_item": 2,
        "cost": {
            "lines": lines,
            "hybrid_total": 101.0,
            "spent_total": 9.0,
            "final_labels": 100,
            "hybrid_per_label": 1.01,
            "human_only_total": 200.0,
            "human_only_per_label": 2.0,
        },
        "quality": {
            "spot_check": {"n": 0, "method": "none"},
            "accepted_ai_accuracy": {"estimate": None},
            "human_agreement": {"estimate": None},
            "hybrid_expected_agreement": {"estimate": None},
            "human_agreement_items": 0,
        },
        "frontier": {"points": POINTS, "policy_threshold": 0.9, "target_agreement": 0.85},
    }
    page = render_cost_html(doc)
    assert "<th>labels done</th>" in page and "<th>spent</th>" in page
    assert "<td>$8.0000</td>" in page or "<td>$8.00</td>" in page
    assert "target 85%" in page


@pytest.mark.parametrize("width", [80, 100])
def test_judge_names_are_not_cut_in_narrow_tables(
    width: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    console = Console(width=width, record=True)
    monkeypatch.setattr(calibrate_cli, "stdout", console)
    stats = {key: 0.5 for key in calibrate_cli.JUDGE_SUMMARY_KEYS}
    stats |= {"chose_longer": 0.55, "gold_chose_longer": 0.5}
    doc = {
        "gold_items": 200,
        "judges": {"gpt-4/vanilla": stats, "gpt-4/vanilla_norules": stats},
        "panel": stats,
        "target_agreement": 0.85,
        "delta": 0.1,
        "score": "probability",
        "route": "selected",
        "level": 0.05,
        "selection_items": 100,
        "certification_items": 100,
        "why_this_score": "best",
        "candidates": [],
        "certified": False,
        "more_gold_needed": None,
        "why_not_certified": "too few",
        "policy_version": 1,
    }
    calibrate_cli._print_report(doc)
    text = console.export_text()
    assert "gpt-4/vanilla_norules" in text
    assert re.search(r"gpt-4/vanilla\s", text)
