"""Route a whole dataset from the database in bounded batches (``referee route``).

The same decisions as :func:`routing.router.route_all` over every pair at once, without holding
the dataset: pairs and their judgments are read :data:`BATCH` at a time
(:func:`referee.db.signals.iter_pair_signal_batches`), routed with
:func:`routing.router.route_pair`, written at once (:mod:`referee.db.decisions`) and counted.
Only the spot-check candidates (pair id and confidence of each auto-accepted pair) are kept
until the end, when the seeded draw (:func:`routing.spot_check.sample_spot_checks`, which
sorts its candidates, so batch order does not matter) picks the spot checks and a bulk update
records them. The draw moves pairs from ``auto_accept`` to ``spot_check`` only, two kinds whose
reasons are all flags, so counting gates and flags per batch gives the run's figures.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from calibration.policy import AcceptPolicy
from calibration.signals import PairSignals
from referee.db.datasets import find_dataset
from referee.db.decisions import iter_current_decisions, set_spot_checks, write_decision_batch
from referee.db.engine import session_factory, transaction
from referee.db.models import AuditEntry, Dataset
from referee.db.routing import (
    LoadedPolicy,
    frozen_pair_ids,
    gold_pair_ids,
    load_policy,
    route_options,
    spot_check_confidences,
    spot_check_outcomes,
    store_policy_version,
)
from referee.db.signals import iter_pair_signal_batches
from referee.errors import UserError
from routing.decisions import DECISION_KINDS, REASONS
from routing.decisions import RoutingDecision as Decision
from routing.recalibrate import tighten_threshold
from routing.route_summary import summarize_run
from routing.router import AnyPolicy, RouteOptions, route_pair
from routing.spot_check import SpotCheckCandidate, SpotCheckSample, sample_spot_checks

__all__ = [
    "BATCH",
    "RouteTally",
    "policy_stages",
    "recalibrated",
    "record_route_run",
    "route_and_store",
    "route_command",
    "route_dataset",
    "run_summary",
]

#: Pairs read, routed and written per batch.
BATCH = 1000


@dataclass
class RouteTally:
    """Running counts of a routing run: decisions, gates and flags, gold pairs by decision,
    and the spot-check candidates (the only per-pair state kept across batches)."""

    decisions: Counter[str] = field(default_factory=Counter)
    gates: Counter[str] = field(default_factory=Counter)
    flags: Counter[str] = field(default_factory=Counter)
    known: Counter[str] = field(default_factory=Counter)
    candidates: list[SpotCheckCandidate] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        """Pairs routed so far."""
        return sum(self.decisions.values())

    def add(
        self,
        decisions: list[Decision],
        signals: list[PairSignals],
        loaded: LoadedPolicy,
        options: RouteOptions,
        gold: Collection[str],
    ) -> None:
        """Count one batch's decisions (before the spot-check draw)."""
        split = summarize_run(
            decisions,
            {s.pair_id: s for s in signals},
            loaded.policy.judges,
            primary_judge=options.primary_judge,
            gate_panel_disagreement=options.gate_panel_disagreement,
        )
        self.gates.update(split.gates)
        self.flags.update(split.flags)
        for d in decisions:
            self.decisions[d.decision] += 1
            self.known[d.decision] += int(d.pair_id in gold)
            if d.decision == "auto_accept" and d.pair_id not in gold:
                conf = d.confidence if d.confidence is not None else 0.0
                self.candidates.append(SpotCheckCandidate(d.pair_id, conf))

    def drawn(self, sample: SpotCheckSample) -> None:
        """Move the drawn spot checks from ``auto_accept`` to ``spot_check``."""
        self.decisions["auto_accept"] -= len(sample.selected)
        self.decisions["spot_check"] += len(sample.selected)
        self.candidates = []


def route_dataset(
    session: Session,
    dataset: Dataset,
    loaded: LoadedPolicy,
    *,
    spot_check_rate: float,
    seed: int,
    stratify: bool,
    batch_size: int = BATCH,
) -> tuple[RouteTally, SpotCheckSample]:
    """Route every pair of ``dataset`` under ``loaded`` and store the decisions.

    Raises :class:`UserError` when the dataset has no pairs. Returns the run's counts and the
    spot-check draw; the caller adds the audit entry (:func:`record_route_run`).
    """
    frozen = frozen_pair_ids(session, dataset.id)
    gold = gold_pair_ids(session, dataset.id)
    options = route_options(loaded.body)
    tally = RouteTally()
    judges = loaded.policy.judges or None
    for signals in iter_pair_signal_batches(session, dataset.id, judges, batch_size=batch_size):
        decisions = [
            route_pair(s, loaded.policy, frozen_eval=s.pair_id in frozen, options=options)
            for s in signals
        ]
        tally.add(decisions, signals, loaded, options, gold)
        write_decision_batch(session, loaded.row_id, decisions)
    if tally.pairs == 0:
        raise UserError(f"dataset {dataset.name!r} has no pairs to route")
    sample = sample_spot_checks(
        tally.candidates, rate=spot_check_rate, seed=seed, stratify=stratify
    )
    set_spot_checks(session, loaded.row_id, sample.inclusion_probability, sample.selected)
    tally.drawn(sample)
    return tally, sample


def run_summary(
    tally: RouteTally, sample: SpotCheckSample, loaded: LoadedPolicy, settings: dict[str, Any]
) -> dict[str, Any]:
    """The JSON summary of a run (``settings``: dataset, spot-check rate, seed, stratified)."""
    policy = loaded.policy
    threshold = policy.threshold if isinstance(policy, AcceptPolicy) else math.nan
    return {
        "dataset": settings["dataset"],
        "policy_version": loaded.version,
        "threshold": threshold if math.isfinite(threshold) else None,
        "cascade": policy_stages(policy),
        "pairs": tally.pairs,
        "decisions": {kind: tally.decisions.get(kind, 0) for kind in DECISION_KINDS},
        "reasons": {r: tally.gates.get(r, 0) + tally.flags.get(r, 0) for r in REASONS},
        "gates": {r: tally.gates.get(r, 0) for r in REASONS},
        "flags": {r: tally.flags.get(r, 0) for r in REASONS},
        "gold_pairs": {
            "total": sum(tally.known.values()),
            "by_decision": {kind: tally.known.get(kind, 0) for kind in DECISION_KINDS},
            "note": "answer known: never queued for paid review or drawn for spot check",
        },
        "spot_check": {
            "rate": settings["spot_check_rate"],
            "seed": settings["seed"],
            "stratified": settings["stratified"],
            "strata": [list(s) for s in sample.strata],
        },
    }


def policy_stages(policy: AnyPolicy) -> list[dict[str, Any]] | None:
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


def recalibrated(
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


def route_and_store(
    session: Session,
    dataset_name: str,
    *,
    policy: str = "latest",
    spot_check_rate: float = 0.05,
    seed: int = 0,
    stratify: bool = False,
    recalibrate: bool = False,
    out: str | None = None,
) -> dict[str, Any]:
    """``referee route``: optionally recalibrate, route every pair in batches, store the
    decisions and one audit entry. Returns the run's summary (``out`` is only reported)."""
    dataset = find_dataset(session, dataset_name)
    loaded = load_policy(session, dataset, policy)
    recal: dict[str, Any] | None = None
    if recalibrate:
        loaded, recal = recalibrated(session, dataset, loaded)
    settings = {"dataset": dataset_name, "spot_check_rate": spot_check_rate, "seed": seed,
                "stratified": stratify}  # fmt: skip
    tally, sample = route_dataset(
        session, dataset, loaded, spot_check_rate=spot_check_rate, seed=seed, stratify=stratify
    )
    summary = {**run_summary(tally, sample, loaded, settings), "recalibration": recal}
    record_route_run(session, dataset, summary)
    return {**summary, "out": out}


def record_route_run(session: Session, dataset: Dataset, detail: dict[str, Any]) -> None:
    """One audit entry for the run (``detail``: its summary)."""
    session.add(
        AuditEntry(
            actor="cli:route", action="route", entity="dataset", entity_id=str(dataset.id),
            detail=detail,
        )
    )  # fmt: skip


def route_command(
    engine: Engine,
    dataset_name: str,
    *,
    policy: str = "latest",
    spot_check_rate: float = 0.05,
    seed: int = 0,
    stratify: bool = False,
    recalibrate: bool = False,
    out: Path | None = None,
) -> dict[str, Any]:
    """``referee route``: :func:`route_and_store` in one transaction, then, with ``out``, one
    JSON line per current decision of the dataset written to ``out`` (read back in pages).
    Returns the run's summary; :class:`UserError` when ``out`` cannot be written."""
    with transaction(engine) as session:
        summary = route_and_store(
            session, dataset_name, policy=policy, spot_check_rate=spot_check_rate, seed=seed,
            stratify=stratify, recalibrate=recalibrate, out=str(out) if out else None,
        )  # fmt: skip
    if out is not None:
        _write_decisions(engine, dataset_name, out)
    return summary


def _write_decisions(engine: Engine, dataset_name: str, out: Path) -> None:
    """One JSON line per current decision of the dataset, by pair id."""
    try:
        with session_factory(engine)() as session, out.open("w", encoding="utf-8") as fh:
            dataset_id = find_dataset(session, dataset_name).id
            for decision in iter_current_decisions(session, dataset_id):
                fh.write(json.dumps(decision.to_json()) + "\n")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from exc
