"""``referee route``: one routing decision per pair from the calibrated policy."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from calibration.cascade import CascadePolicy
from calibration.policy import AcceptPolicy
from referee.cli.common import UserError, emit_json, fail, open_database, stdout, user_errors
from referee.db.engine import transaction
from referee.db.models import Dataset
from referee.db.signals import load_pair_signals
from referee.routing_store import (
    LoadedPolicy,
    dataset_by_name,
    frozen_pair_ids,
    gold_pair_ids,
    load_policy,
    route_options,
    spot_check_confidences,
    spot_check_outcomes,
    store_decisions,
    store_policy_version,
)
from routing.decisions import DECISION_KINDS, REASONS
from routing.recalibrate import tighten_threshold
from routing.route_summary import summarize_run
from routing.router import route_all

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]


def _recalibrate(
    session: Session, dataset: Dataset, loaded: LoadedPolicy
) -> tuple[LoadedPolicy, dict[str, Any]]:
    """Tighten the policy when spot checks fall short; returns (policy to use, report)."""
    policy = loaded.single("--recalibrate")
    result = tighten_threshold(
        spot_check_outcomes(session, dataset.id),
        spot_check_confidences(session, dataset.id),
        current_threshold=policy.threshold,
        target=policy.target_agreement,
        delta=policy.delta,
    )
    report: dict[str, Any] = {"from_version": loaded.version, **result.to_json()}
    report["new_version"] = None
    if result.new_threshold is None:
        return loaded, report
    tightened = replace(policy, threshold=result.new_threshold)
    body = tightened.to_json()
    for key in ("primary_judge", "gate_panel_disagreement"):
        if key in loaded.body:
            body[key] = loaded.body[key]
    row_id, version = store_policy_version(
        session,
        dataset,
        body,
        {"recalibrated_from": loaded.version, "recalibration": result.to_json()},
    )
    report["new_version"] = version
    return LoadedPolicy(row_id, version, tightened, body), report


def route(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset whose pairs to route.")],
    policy: Annotated[
        str, typer.Option("--policy", help="Policy version to apply: latest or a number.")
    ] = "latest",
    spot_check_rate: Annotated[
        float,
        typer.Option("--spot-check-rate", help="Share of auto-accepted pairs sent to spot check."),
    ] = 0.05,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the spot-check draw.")] = 0,
    stratify: Annotated[
        bool,
        typer.Option(
            "--stratify/--no-stratify",
            help="Stratify spot checks by confidence (more checks where it is lower).",
        ),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write one JSON line per pair to this file.", dir_okay=False),
    ] = None,
    recalibrate: Annotated[
        bool,
        typer.Option(
            "--recalibrate",
            help="Tighten the threshold first if spot checks show accuracy below the target.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Route every pair: auto_accept, human_review (with reasons), spot_check or frozen_eval."""
    if math.isnan(spot_check_rate) or not 0.0 <= spot_check_rate <= 1.0:
        fail(f"--spot-check-rate {spot_check_rate}: use a share between 0 and 1 (e.g. 0.05)")
    if out is not None and not out.parent.is_dir():
        fail(f"--out {out}: folder {out.parent} does not exist")
    engine = open_database()
    with user_errors(), transaction(engine) as session:
        ds = dataset_by_name(session, dataset)
        loaded = load_policy(session, ds, policy)
        recal: dict[str, Any] | None = None
        if recalibrate:
            loaded, recal = _recalibrate(session, ds, loaded)
        signals = load_pair_signals(session, ds.id, judges=loaded.policy.judges or None)
        if not signals:
            raise UserError(f"dataset {dataset!r} has no pairs to route")
        gold = gold_pair_ids(session, ds.id)
        options = route_options(loaded.body)
        run = route_all(
            signals,
            loaded.policy,
            frozen=frozen_pair_ids(session, ds.id),
            spot_check_rate=spot_check_rate,
            seed=seed,
            stratify=stratify,
            options=options,
            known=gold,
        )
        threshold = loaded.policy.threshold if isinstance(loaded.policy, AcceptPolicy) else math.nan
        counts = {kind: run.counts().get(kind, 0) for kind in DECISION_KINDS}
        split = summarize_run(
            run.decisions,
            {s.pair_id: s for s in signals},
            loaded.policy.judges,
            primary_judge=options.primary_judge,
            gate_panel_disagreement=options.gate_panel_disagreement,
        )
        reasons = {reason: split.reasons[reason] for reason in REASONS}
        known = {kind: 0 for kind in DECISION_KINDS}
        for d in run.decisions:
            known[d.decision] += int(d.pair_id in gold)
        summary: dict[str, Any] = {
            "dataset": dataset,
            "policy_version": loaded.version,
            "threshold": threshold if math.isfinite(threshold) else None,
            "cascade": _stages(loaded.policy),
            "pairs": len(run.decisions),
            "decisions": counts,
            "reasons": reasons,
            "gates": split.gates,
            "flags": split.flags,
            "gold_pairs": {
                "total": sum(known.values()),
                "by_decision": known,
                "note": "answer known: never queued for paid review or drawn for spot check",
            },
            "spot_check": {
                "rate": spot_check_rate,
                "seed": seed,
                "stratified": stratify,
                "strata": [list(s) for s in run.spot_check.strata],
            },
            "recalibration": recal,
            "out": str(out) if out else None,
        }
        store_decisions(
            session,
            ds,
            loaded.row_id,
            run.decisions,
            actor="cli:route",
            detail={k: v for k, v in summary.items() if k != "out"},
        )
    if out is not None:
        try:
            with out.open("w", encoding="utf-8") as fh:
                for d in run.decisions:
                    fh.write(json.dumps(d.to_json()) + "\n")
        except OSError as exc:
            with user_errors():
                raise UserError(f"cannot write {out}: {exc.strerror}") from exc
    if as_json:
        emit_json(summary)
        return
    _print_summary(summary, recal)


def _stages(policy: AcceptPolicy | CascadePolicy) -> list[dict[str, Any]] | None:
    """Each cascade stage's judges and threshold (``None``: accepts nothing); ``None`` for a
    single policy."""
    if isinstance(policy, AcceptPolicy):
        return None
    return [
        {
            "judges": list(stage.judges),
            "threshold": stage.threshold if math.isfinite(stage.threshold) else None,
        }
        for stage in policy.stages
    ]


def _print_summary(summary: dict[str, Any], recal: dict[str, Any] | None) -> None:
    if recal is not None:
        if recal["new_version"] is not None:
            stdout.print(
                f"[bold]recalibrated:[/] policy v{recal['from_version']} -> "
                f"v{recal['new_version']} (threshold {recal['new_threshold']:.4f}): {recal['why']}"
            )
        else:
            stdout.print(f"[bold]recalibration:[/] no change ({recal['why']})")
    threshold = summary["threshold"]
    shown = f"{threshold:.4f}" if threshold is not None else "none certified (accept nothing)"
    if summary["cascade"]:
        shown = "cascade " + " -> ".join(
            f"{'+'.join(s['judges'])} "
            + (f"≥ {s['threshold']:.4f}" if s["threshold"] is not None else "accepts nothing")
            for s in summary["cascade"]
        )
    stdout.print(
        f"routed {summary['pairs']:,} pairs of '{summary['dataset']}' with policy "
        f"v{summary['policy_version']} (threshold {shown})"
    )
    table = Table("decision", "pairs", "share", title="decisions")
    total = max(summary["pairs"], 1)
    for kind, n in summary["decisions"].items():
        table.add_row(kind, f"{n:,}", f"{n / total:.1%}")
    stdout.print(table)
    reasons = Table(
        "reason",
        "sent to people",
        "flag only",
        title="reasons (a pair may have several; a flag describes a pair without gating it)",
    )
    for reason in summary["reasons"]:
        gate, flag = summary["gates"][reason], summary["flags"][reason]
        if gate or flag:
            reasons.add_row(reason, f"{gate:,}", f"{flag:,}")
    stdout.print(reasons)
    stdout.print(
        "[dim]tie: AI label tie, or the panel's verdicts tied in both orders (A first and B "
        "first)[/]"
    )
    gold = summary["gold_pairs"]
    if gold["total"]:
        review = gold["by_decision"].get("human_review", 0)
        stdout.print(
            f"{gold['total']:,} pairs have gold labels: never paid review or spot-check items "
            f"({review:,} of them routed to human_review are not queued)"
        )
    if summary["out"]:
        stdout.print(f"wrote {summary['out']}")


def register(app: typer.Typer) -> None:
    """Add ``route`` to ``app``."""
    app.command("route")(route)
