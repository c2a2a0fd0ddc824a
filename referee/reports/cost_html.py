"""The cost report as one self-contained HTML page with an inline SVG frontier plot.

Input: the JSON document ``referee report cost --json`` prints. Output: a string. No plotting
library: the SVG is written by hand (axes, ticks, the frontier line, error bars for the
agreement interval, the policy's threshold and the people-only point).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["frontier_svg", "render_cost_html"]

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 30, 50


def _fmt_money(x: float | None) -> str:
    return "-" if x is None else f"${x:,.4f}"


def _fmt_share(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / (n - 1) for i in range(n)]


Y_STEPS = (0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25)


def _y_range(values: Sequence[float]) -> tuple[float, float, float]:
    """A y range zoomed to ``values`` (agreement shares) and its tick step: padded by a tenth
    of their spread (at least 2 points), widened to whole ticks of a round step (0.5%, 1%,
    2%, 2.5%, 5%, ...) giving at most 6 intervals, within [0, 1]."""
    if not values:
        return 0.0, 1.0, 0.2
    lo, hi = min(values), max(values)
    pad = max(0.02, (hi - lo) * 0.1)
    lo, hi = max(0.0, lo - pad), min(1.0, hi + pad)
    for step in Y_STEPS:
        y_lo = math.floor(lo / step + 1e-9) * step
        y_hi = math.ceil(hi / step - 1e-9) * step
        if (y_hi - y_lo) / step <= 6 + 1e-9:
            return max(0.0, y_lo), min(1.0, y_hi), step
    return 0.0, 1.0, 0.2


def frontier_svg(
    points: Sequence[dict[str, Any]],
    *,
    policy_threshold: float | None = None,
    human_only: tuple[float, float | None] | None = None,
    target: float | None = None,
) -> str:
    """An SVG plot: cost per final label (x) against agreement of accepted labels (y).

    ``points`` are frontier points as JSON (``cost_per_label``, ``agreement``,
    ``agreement_lower``/``upper``, ``expected_quality``, ``threshold``); ``human_only`` is the
    people-only (cost per label, agreement) point; ``target`` the policy's target agreement,
    drawn as a horizontal line. The y axis is zoomed to the point estimates and the target
    (not 0-100%, where every point sat in the top tenth); confidence bars longer than the axis
    are cut at its edge and end in an open arrow. The chosen policy's point is ringed and named.
    """
    usable = [p for p in points if p.get("agreement") is not None]
    scale = _scale(points, usable, human_only, target)
    out = [
        *_axes(scale, target),
        *_intervals(scale, usable),
        *_lines(scale, usable, points),
        *_points(scale, usable, policy_threshold, human_only),
        _legend(),
        "</svg>",
    ]
    return "\n".join(out)


@dataclass(frozen=True)
class _Scale:
    """Data ranges of the plot and their mapping to SVG coordinates."""

    x_lo: float
    x_hi: float
    y_lo: float
    y_hi: float
    y_step: float

    def sx(self, x: float) -> float:
        return LEFT + (x - self.x_lo) / (self.x_hi - self.x_lo) * (WIDTH - LEFT - RIGHT)

    def sy(self, y: float) -> float:
        return HEIGHT - BOTTOM - (y - self.y_lo) / (self.y_hi - self.y_lo) * (HEIGHT - TOP - BOTTOM)


def _scale(
    points: Sequence[dict[str, Any]],
    usable: Sequence[dict[str, Any]],
    human_only: tuple[float, float | None] | None,
    target: float | None,
) -> _Scale:
    """x: every cost (5% padding, never below 0); y: the point estimates and the target."""
    xs = [float(p["cost_per_label"]) for p in points]
    if human_only is not None:
        xs.append(human_only[0])
    ys: list[float] = [float(p["agreement"]) for p in usable]
    ys += [float(p["expected_quality"]) for p in points if p.get("expected_quality") is not None]
    if human_only is not None and human_only[1] is not None:
        ys.append(human_only[1])
    if target is not None:
        ys.append(target)
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x_hi - x_lo < 1e-9:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    pad_x = (x_hi - x_lo) * 0.05
    return _Scale(max(0.0, x_lo - pad_x), x_hi + pad_x, *_y_range(ys))


def _axes(scale: _Scale, target: float | None) -> list[str]:
    """The frame, both axes with their ticks and titles, and the target line."""
    sx, sy, y_step = scale.sx, scale.sy, scale.y_step
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="cost versus quality frontier" '
        'font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
    ]
    for t in _ticks(scale.x_lo, scale.x_hi):
        out.append(
            f'<line x1="{sx(t):.1f}" y1="{HEIGHT - BOTTOM}" x2="{sx(t):.1f}" '
            f'y2="{HEIGHT - BOTTOM + 5}" stroke="black"/>'
            f'<text x="{sx(t):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
            f"${t:.3f}</text>"
        )
    y_format = ".0%" if y_step >= 0.01 and round(y_step * 1000) % 10 == 0 else ".1%"
    for t in _ticks(scale.y_lo, scale.y_hi, round((scale.y_hi - scale.y_lo) / y_step) + 1):
        out.append(
            f'<line x1="{LEFT - 5}" y1="{sy(t):.1f}" x2="{LEFT}" y2="{sy(t):.1f}" '
            f'stroke="black"/><text x="{LEFT - 8}" y="{sy(t) + 4:.1f}" text-anchor="end">'
            f"{t:{y_format}}</text>"
        )
    if target is not None:
        out.append(
            f'<line class="target" x1="{LEFT}" y1="{sy(target):.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{sy(target):.1f}" stroke="#c92a2a" stroke-width="1.5" stroke-dasharray="8,4"/>'
            f'<text x="{WIDTH - RIGHT - 4}" y="{sy(target) - 5:.1f}" text-anchor="end" '
            f'fill="#c92a2a">target {target:.0%}</text>'
        )
    out.append(
        f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        "cost per final label</text>"
        f'<text x="16" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {(TOP + HEIGHT - BOTTOM) / 2})">agreement with gold</text>'
    )
    return out


def _intervals(scale: _Scale, usable: Sequence[dict[str, Any]]) -> list[str]:
    """Each point's 95% interval as a bar, cut at the axis with an open arrow."""
    out = []
    for p in usable:
        x = scale.sx(float(p["cost_per_label"]))
        low, high = float(p["agreement_lower"]), float(p["agreement_upper"])
        out.append(
            f'<line x1="{x:.1f}" y1="{scale.sy(max(low, scale.y_lo)):.1f}" x2="{x:.1f}" '
            f'y2="{scale.sy(min(high, scale.y_hi)):.1f}" stroke="#9ab" stroke-width="2"/>'
        )
        for cut, edge, step in (
            (low < scale.y_lo, scale.y_lo, 1),
            (high > scale.y_hi, scale.y_hi, -1),
        ):
            if cut:  # the interval goes on past the axis: an open arrow at the edge
                y = scale.sy(edge)
                out.append(
                    f'<polyline points="{x - 4:.1f},{y - 5 * step:.1f} {x:.1f},{y:.1f} '
                    f'{x + 4:.1f},{y - 5 * step:.1f}" fill="none" stroke="#9ab"/>'
                )
    return out


def _lines(
    scale: _Scale, usable: Sequence[dict[str, Any]], points: Sequence[dict[str, Any]]
) -> list[str]:
    """Agreement of accepted labels (solid) and expected quality of all labels (dashed)."""
    sx, sy = scale.sx, scale.sy
    out = []
    line = " ".join(
        f"{sx(float(p['cost_per_label'])):.1f},{sy(float(p['agreement'])):.1f}" for p in usable
    )
    if line:
        out.append(f'<polyline points="{line}" fill="none" stroke="#1f5fa8" stroke-width="2"/>')
    quality = [p for p in points if p.get("expected_quality") is not None]
    q_line = " ".join(
        f"{sx(float(p['cost_per_label'])):.1f},{sy(float(p['expected_quality'])):.1f}"
        for p in quality
    )
    if q_line:
        out.append(
            f'<polyline points="{q_line}" fill="none" stroke="#2a8a4a" stroke-width="2" '
            'stroke-dasharray="5,4"/>'
        )
    return out


def _points(
    scale: _Scale,
    usable: Sequence[dict[str, Any]],
    policy_threshold: float | None,
    human_only: tuple[float, float | None] | None,
) -> list[str]:
    """One dot per threshold (the chosen policy's ringed and named), and the people-only one."""
    out = []
    for p in usable:
        is_policy = policy_threshold is not None and abs(p["threshold"] - policy_threshold) < 1e-9
        cx, cy = scale.sx(float(p["cost_per_label"])), scale.sy(float(p["agreement"]))
        out.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{6 if is_policy else 3}" '
            f'fill="{"#d9480f" if is_policy else "#1f5fa8"}">'
            f"<title>threshold {p['threshold']:.4f}: coverage {p['coverage']:.1%}, "
            f"agreement {p['agreement']:.1%}, ${p['cost_per_label']:.4f}/label</title></circle>"
        )
        if is_policy:
            out.append(
                f'<circle class="policy" cx="{cx:.1f}" cy="{cy:.1f}" r="10" fill="none" '
                f'stroke="#d9480f" stroke-width="2"/>'
                f'<text x="{cx + 13:.1f}" y="{cy + 4:.1f}" fill="#d9480f">chosen policy '
                f"(threshold {p['threshold']:.3f}, coverage {p['coverage']:.0%})</text>"
            )
    if human_only is not None and human_only[1] is not None:
        hx, hy = scale.sx(human_only[0]), scale.sy(human_only[1])
        out.append(
            f'<rect x="{hx - 5:.1f}" y="{hy - 5:.1f}" width="10" height="10" fill="#7b2d8e">'
            "<title>people only</title></rect>"
            f'<text x="{hx - 8:.1f}" y="{hy - 8:.1f}" text-anchor="end">people only</text>'
        )
    return out


def _legend() -> str:
    legend_y = TOP - 12
    return (
        f'<line x1="{LEFT + 10}" y1="{legend_y}" x2="{LEFT + 30}" y2="{legend_y}" '
        'stroke="#1f5fa8" stroke-width="2"/>'
        f'<text x="{LEFT + 35}" y="{legend_y + 4}">accepted AI labels (bars: 95% CI)</text>'
        f'<line x1="{LEFT + 250}" y1="{legend_y}" x2="{LEFT + 270}" y2="{legend_y}" '
        'stroke="#2a8a4a" stroke-width="2" stroke-dasharray="5,4"/>'
        f'<text x="{LEFT + 275}" y="{legend_y + 4}">expected, all final labels</text>'
        f'<circle cx="{LEFT + 450}" cy="{legend_y}" r="6" fill="#d9480f"/>'
        f'<text x="{LEFT + 460}" y="{legend_y + 4}">chosen policy</text>'
    )


_COUNTS = ("items", "planned_labels", "labels_done")


def _row(cells: Sequence[str], tag: str = "td") -> str:
    return "<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>"


def _interval(doc: dict[str, Any]) -> str:
    if doc.get("estimate") is None:
        return "-"
    if doc.get("lower") is None:
        return _fmt_share(doc["estimate"])
    return f"{_fmt_share(doc['estimate'])} [{_fmt_share(doc['lower'])}, {_fmt_share(doc['upper'])}]"


def render_cost_html(doc: dict[str, Any]) -> str:
    """The whole report (tables and the frontier plot) as a standalone HTML page."""
    c, q, f = doc["cost"], doc["quality"], doc["frontier"]
    spend_rows, per_rows, frontier_rows = _spend_rows(c), _per_label_rows(c, q), _frontier_rows(f)
    svg = _plot(c, q, f)
    title = f"Referee cost report: {doc['dataset']}"
    basis = html.escape(f.get("basis") or "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 60em; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.7em; text-align: right; }}
th {{ background: #f3f3f3; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Human label cost {_fmt_money(doc["human_cost"])}, {doc["reviewers_per_item"]} reviewer(s)
per item. Accepted AI labels from {q["spot_check"]["n"]} answered spot check(s):
{html.escape(_interval(q["accepted_ai_accuracy"]))} ({html.escape(q["spot_check"]["method"])}).
Human agreement over {q["human_agreement_items"]} multiply-labelled pair(s):
{html.escape(_interval(q["human_agreement"]))}.</p>
<h2>Spend</h2><table>{"".join(spend_rows)}</table>
<h2>Cost per final label</h2><table>{"".join(per_rows)}</table>
<h2>Cost versus quality across thresholds</h2>
{svg}
<p><small>{basis}</small></p>
<table>{"".join(frontier_rows)}</table>
</body></html>
"""


def _spend_rows(c: dict[str, Any]) -> list[str]:
    spend_rows = [
        _row(["source", "items", "labels planned", "labels done", "planned", "spent"], "th")
    ]
    for line in c.get("lines", []):
        spend_rows.append(
            _row(
                [
                    line["source"] if line["source"] == "judges" else f"people: {line['source']}",
                    *("-" if line[k] is None else f"{line[k]:,}" for k in _COUNTS),
                    _fmt_money(line["planned"]),
                    _fmt_money(line["spent"]),
                ]
            )
        )
    spend_rows.append(
        _row(["total", "", "", "", _fmt_money(c["hybrid_total"]), _fmt_money(c.get("spent_total"))])
    )
    return spend_rows


def _per_label_rows(c: dict[str, Any], q: dict[str, Any]) -> list[str]:
    return [
        _row(["pipeline", "final labels", "total", "per label", "quality"], "th"),
        _row(
            [
                "hybrid",
                f"{c['final_labels']:,}",
                _fmt_money(c["hybrid_total"]),
                _fmt_money(c["hybrid_per_label"]),
                _interval(q["hybrid_expected_agreement"]),
            ]
        ),
        _row(
            [
                "people only",
                f"{c['final_labels']:,}",
                _fmt_money(c["human_only_total"]),
                _fmt_money(c["human_only_per_label"]),
                _interval(q["human_agreement"]),
            ]
        ),
    ]


def _frontier_rows(f: dict[str, Any]) -> list[str]:
    frontier_rows = [
        _row(["threshold", "coverage", "agreement", "95% CI", "cost/label", "expected"], "th")
    ]
    for p in f["points"]:
        ci = (
            "-"
            if p["agreement"] is None
            else f"[{_fmt_share(p['agreement_lower'])}, {_fmt_share(p['agreement_upper'])}]"
        )
        frontier_rows.append(
            _row(
                [
                    f"{p['threshold']:.4f}" if p["accepted"] else "accept none",
                    _fmt_share(p["coverage"]),
                    _fmt_share(p["agreement"]),
                    ci,
                    _fmt_money(p["cost_per_label"]),
                    _fmt_share(p["expected_quality"]),
                ]
            )
        )
    return frontier_rows


def _plot(c: dict[str, Any], q: dict[str, Any], f: dict[str, Any]) -> str:
    if not f["points"]:
        return "<p>No policy or gold items: no frontier.</p>"
    human_point = None
    if c["human_only_per_label"] is not None:
        human_point = (float(c["human_only_per_label"]), q["human_agreement"]["estimate"])
    return frontier_svg(
        f["points"],
        policy_threshold=f.get("policy_threshold"),
        human_only=human_point,
        target=f.get("target_agreement"),
    )
