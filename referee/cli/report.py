"""``referee report cost``: spend, cost per final label against people alone, and quality."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import func, select

from judge.pricing import PRICES
from judge.spec import REPLAY_PREFIX, parse_judge_spec
from referee.cli.common import (
    UserError,
    emit_json,
    fail,
    open_database,
    stderr,
    stdout,
    user_errors,
)
from referee.db.engine import session_factory
from referee.db.models import Judgment, Pair, Policy
from referee.db.routing import (
    dataset_by_name,
    decision_counts,
    gold_scores,
    human_agreement,
    human_work,
    judge_spend,
    label_counts,
    load_policy,
    spot_check_accuracy,
)
from referee.reports.cost_html import render_cost_html
from routing.cost import (
    CostInputs,
    Interval,
    cost_breakdown,
    default_thresholds,
    frontier,
    mix_quality,
)

report_app = typer.Typer(help="Reports.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def build_cost_report(
    session: Any,
    dataset_name: str,
    *,
    human_cost: float,
    reviewers_per_item: int,
    spot_check_rate: float = 0.05,
) -> dict[str, Any]:
    """The whole cost report of one dataset as one JSON-able document."""
    ds = dataset_by_name(session, dataset_name)
    decisions = decision_counts(session, ds.id)
    if not decisions:
        raise UserError(
            f"dataset {dataset_name!r} has no routing decisions yet: run "
            f"`referee route --dataset {dataset_name}` first"
        )
    labels = label_counts(session, ds.id)
    work = human_work(session, ds.id)
    inputs = CostInputs(
        judge_spend=judge_spend(session, ds.id),
        auto_accepted=work.decisions.get("auto_accept", 0),
        spot_checked=work.decisions.get("spot_check", 0),
        human_review=work.decisions.get("human_review", 0),
        gold_items=work.gold_pairs,
        human_cost=human_cost,
        reviewers_per_item=reviewers_per_item,
        review_done=work.review_done,
        spot_check_done=work.spot_check_done,
        gold_check_done=work.gold_check_done,
        second_look_done=work.second_look_done,
        gold_labels=work.gold_labels,
        gold_final=work.gold_final,
    )
    costs = cost_breakdown(inputs)
    human, human_items = human_agreement(session, ds.id)
    spot = spot_check_accuracy(session, ds.id)
    quality = mix_quality(human, Interval(spot.accuracy, spot.lower, spot.upper), costs.auto_share)
    has_policy = session.scalar(select(func.count()).where(Policy.dataset_id == ds.id))
    frontier_doc: dict[str, Any] = {"points": [], "basis": None, "policy_version": None}
    if has_policy:
        loaded = load_policy(session, ds, "latest")
        single = loaded.single("the cost frontier over thresholds")
        gold = gold_scores(session, ds.id, single)
        n_pairs = session.scalar(
            select(func.count())
            .select_from(Pair)
            .where(Pair.dataset_id == ds.id, Pair.frozen_eval.is_(False))
        )
        per_label = max(costs.final_labels or int(n_pairs or 0), 1)
        points = frontier(
            gold.scores,
            gold.acceptable,
            gold.correct,
            judge_cost_per_label=inputs.judge_spend / per_label,
            gold_cost_per_label=costs.gold_spend / per_label,
            human_cost=human_cost,
            reviewers_per_item=reviewers_per_item,
            spot_check_rate=spot_check_rate,
            human_agreement=human.estimate,
            thresholds=_grid(gold.scores, gold.acceptable, single.threshold),
            paid_share=costs.paid_share if costs.paid_share is not None else 1.0,
        )
        threshold = single.threshold
        frontier_doc = {
            "policy_version": loaded.version,
            "policy_threshold": threshold if math.isfinite(threshold) else None,
            "target_agreement": loaded.policy.target_agreement,
            "gold_items": len(gold.scores),
            "basis": (
                "the latest policy's calibrated scores on the gold items it was fitted on "
                "(in-sample, so agreement is optimistic; the certified threshold comes from "
                "out-of-fold scores)"
            ),
            "points": [p.to_json() for p in points],
        }
    return {
        "dataset": dataset_name,
        "human_cost": human_cost,
        "reviewers_per_item": reviewers_per_item,
        "decisions": decisions,
        "paid_items": {
            "review": inputs.human_review,
            "spot_check": inputs.spot_checked,
            "gold_pairs_not_queued": work.gold_final,
        },
        "labels_collected": labels,
        "cost": costs.to_json(),
        "quality": {
            **quality.to_json(),
            "human_agreement_items": human_items,
            "spot_check": spot.to_json(),
        },
        "frontier": frontier_doc,
        "warnings": unpriced_spend_warnings(session, ds.id),
    }


PRICE_NAMES = ("input_cost_per_mtok", "output_cost_per_mtok")
PRICE_OPTIONS = "?input_cost_per_mtok=…&output_cost_per_mtok=…"
"""The judge-string options that price a model litellm does not know (dollars per 1M tokens)."""


def unpriced_judge_warnings(judges: Sequence[str]) -> list[str]:
    """One warning per judge whose calls would be costed at $0.00 for want of a price.

    A judge is unpriced when its spec gives no ``input_cost_per_mtok``/``output_cost_per_mtok``
    and litellm's price map does not know its model (replay judges cost nothing and are
    skipped; specs that do not parse are left to the caller's own error).
    """
    warnings = []
    for text in judges:
        if text.strip().startswith(REPLAY_PREFIX):
            continue
        try:
            spec = parse_judge_spec(text)
        except Exception:
            continue
        given = (spec.input_cost_per_mtok is not None, spec.output_cost_per_mtok is not None)
        if all(given) or (not any(given) and PRICES.rates(spec.model) is not None):
            continue
        absent = [
            (name, example)
            for name, example, ok in zip(PRICE_NAMES, ("0.15", "0.60"), given, strict=True)
            if not ok
        ]
        side = absent[0][0].split("_")[0]
        what = (
            f"no known price for model '{spec.model}', so its calls are costed at $0.00"
            if len(absent) == 2
            else f"no {absent[0][0]} given, so its {side} tokens are costed at $0.00"
        )
        options = "&".join(f"{name}={example}" for name, example in absent)
        warnings.append(
            f"judge '{spec.name}': {what}; give the price in "
            f"dollars per million tokens on the judge string, e.g. --judge "
            f"'{text}{'&' if '?' in text else '?'}{options}'"
        )
    return warnings


def unpriced_spend_warnings(session: Any, dataset_id: int) -> list[str]:
    """Warnings for judges whose stored verdicts used tokens but cost $0.00 (no known price)."""
    rows = session.execute(
        select(
            Judgment.judge,
            func.count(),
            func.sum(Judgment.tokens_in + Judgment.tokens_out),
            func.sum(Judgment.cost),
        )
        .join(Pair, Pair.id == Judgment.pair_id)
        .where(Pair.dataset_id == dataset_id)
        .group_by(Judgment.judge)
        .order_by(Judgment.judge)
    ).all()
    return [
        f"judge '{judge}': {int(calls):,} verdicts used {int(tokens):,} tokens but were costed "
        f"at $0.00 (no known price), so judge spend is understated; price the model on the "
        f"judge string ({PRICE_OPTIONS}, dollars per million tokens) before pre-labeling, or "
        "give imported verdicts a cost field"
        for judge, calls, tokens, spend in rows
        if int(tokens or 0) > 0 and not float(spend or 0.0)
    ]


def _grid(scores: list[float], acceptable: list[bool], policy_threshold: float) -> list[float]:
    """The default frontier grid plus the policy's own threshold (so the plot can mark it)."""
    grid = default_thresholds([s for s, ok in zip(scores, acceptable, strict=True) if ok])
    if math.isfinite(policy_threshold):
        grid.append(policy_threshold)
    return sorted(set(grid), reverse=True)


def _money(x: float | None) -> str:
    if x is None:
        return "-"
    return f"${x:,.4f}" if 0 < abs(x) < 1 else f"${x:,.2f}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def _interval(doc: dict[str, Any]) -> str:
    if doc.get("estimate") is None:
        return "-"
    if doc.get("lower") is None:
        return _share(doc["estimate"])
    return f"{_share(doc['estimate'])} [{_share(doc['lower'])}, {_share(doc['upper'])}]"


def _count(x: int | None) -> str:
    return "-" if x is None else f"{x:,}"


def _print(doc: dict[str, Any]) -> None:
    c = doc["cost"]
    stdout.print(
        f"[bold]cost report[/] for '{doc['dataset']}': human label {_money(doc['human_cost'])}, "
        f"{doc['reviewers_per_item']} reviewer(s) per item"
    )
    spend = Table(
        "source", "items", "labels planned", "labels done", "planned", "spent", title="spend"
    )
    names = {
        "judges": "judges",
        "gold_checks": "people: hidden gold checks",
        "second_looks": "people: adjudications and incidents",
    }
    for line in c["lines"]:
        spend.add_row(
            names.get(line["source"], f"people: {line['source']}"),
            _count(line["items"]),
            _count(line["planned_labels"]),
            _count(line["labels_done"]),
            _money(line["planned"]),
            _money(line["spent"]),
        )
    spend.add_row("[bold]total[/]", "", "", "", _money(c["hybrid_total"]), _money(c["spent_total"]))
    stdout.print(spend)
    paid = doc["paid_items"]
    if paid["gold_pairs_not_queued"]:
        stdout.print(
            f"[dim]{paid['gold_pairs_not_queued']:,} routed pairs have gold labels: their final "
            "label is the gold one, never a paid review or spot check; gold is bought once "
            "(one price per gold label, whatever --reviewers-per-item)[/]"
        )
    per = Table("pipeline", "final labels", "total", "per label", "quality", title="per label")
    q = doc["quality"]
    per.add_row(
        "hybrid",
        f"{c['final_labels']:,}",
        _money(c["hybrid_total"]),
        _money(c["hybrid_per_label"]),
        _interval(q["hybrid_expected_agreement"]),
    )
    per.add_row(
        "people only",
        f"{c['final_labels']:,}",
        _money(c["human_only_total"]),
        _money(c["human_only_per_label"]),
        _interval(q["human_agreement"]),
    )
    stdout.print(per)
    ratio = c["hybrid_over_human_only"]
    if ratio is not None:
        stdout.print(
            f"hybrid costs {ratio:.1%} of people-only; auto-labeled share {_share(c['auto_share'])}"
        )
    s = q["spot_check"]
    stdout.print(
        f"accepted AI labels, from {s['n']} answered spot check(s): "
        f"{_interval(q['accepted_ai_accuracy'])} ({s['method']})"
    )
    stdout.print(
        f"human agreement over {q['human_agreement_items']} multiply-labelled pair(s): "
        f"{_interval(q['human_agreement'])}"
    )
    if not q["human_agreement_items"]:
        stdout.print(
            "[dim]quality of human labels not measured: no pair has two labels of one kind. "
            "Review some items with --reviewers-per-item 2, or import a second annotator's "
            "labels, to measure it.[/]"
        )
    f = doc["frontier"]
    if f["points"]:
        table = Table(
            "threshold",
            "coverage",
            "agreement (95% CI)",
            "cost/label",
            "expected quality",
            title=f"cost vs quality on {f['gold_items']} gold items "
            f"(policy v{f['policy_version']})",
        )
        for p in f["points"]:
            agreement = (
                "-"
                if p["agreement"] is None
                else f"{p['agreement']:.1%} "
                f"[{p['agreement_lower']:.1%}, {p['agreement_upper']:.1%}]"
            )
            chosen = f.get("policy_threshold") is not None and (
                abs(p["threshold"] - f["policy_threshold"]) < 1e-12
            )
            table.add_row(
                (f"{p['threshold']:.4f}" if p["accepted"] else "accept none")
                + (" ◀ policy" if chosen else ""),
                _share(p["coverage"]),
                agreement,
                _money(p["cost_per_label"]),
                _share(p["expected_quality"]),
            )
        stdout.print(table)
        stdout.print(f"[dim]{f['basis']}[/]")


@report_app.command("cost")
def cost(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset to report on.")],
    human_cost: Annotated[
        float, typer.Option("--human-cost", help="Cost of one human label, in dollars.")
    ] = 1.00,
    reviewers_per_item: Annotated[
        int, typer.Option("--reviewers-per-item", help="People who label each item (k).")
    ] = 1,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML report with a plot.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Judge and human spend, hybrid vs people-only cost per label, quality, and the frontier."""
    if math.isnan(human_cost) or human_cost < 0:
        fail(f"--human-cost {human_cost}: use a non-negative amount in dollars (e.g. 1.00)")
    if reviewers_per_item < 1:
        fail(f"--reviewers-per-item {reviewers_per_item}: use 1 or more")
    if html is not None and not html.parent.is_dir():
        fail(f"--html {html}: folder {html.parent} does not exist")
    engine = open_database()
    with user_errors(), session_factory(engine)() as session:
        doc = build_cost_report(
            session, dataset, human_cost=human_cost, reviewers_per_item=reviewers_per_item
        )
    if html is not None:
        try:
            html.write_text(render_cost_html(doc), encoding="utf-8")
        except OSError as exc:
            fail(f"cannot write {html}: {exc.strerror}")
        doc["html"] = str(html)
    for warning in doc["warnings"]:
        stderr.print(f"[bold yellow]warning:[/] {warning}", markup=True, highlight=False)
    if as_json:
        emit_json(doc)
        return
    _print(doc)
    if html is not None:
        stdout.print(f"wrote {html}")


def register(app: typer.Typer) -> None:
    """Add the ``report`` group to ``app``."""
    app.add_typer(report_app, name="report")
