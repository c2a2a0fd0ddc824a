"""Calibrate a dataset's judges against gold and store a new policy version (``referee calibrate``).

:func:`calibrate_dataset` checks the request, reads the gold labels and the panel's signals,
fits one certified policy (:func:`calibration.policy.fit_policy`) or a cascade
(:func:`calibration.cascade.fit_cascade`, ``--cascade``), stores it as the dataset's next policy
version and returns the document the command prints.

Signals are read :data:`SIGNAL_BATCH` pairs at a time
(:func:`referee.db.signals.iter_pair_signal_batches`): the pairs' response texts, which the
injection scan reads, and the raw judgment rows are held one batch at a time; what stays is
each pair's compact :class:`calibration.signals.PairSignals` (the fit scores the pairs without
gold too: they set the expected coverage and the predictive check).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from calibration.policy import fit_policy
from calibration.policy_report import PolicyReport
from calibration.signals import PairSignals
from referee.db.engine import transaction
from referee.db.models import Dataset, Judgment, Pair
from referee.db.routing import dataset_by_name, store_policy_version
from referee.db.signals import iter_pair_signal_batches, load_gold
from referee.errors import UserError

__all__ = ["JUDGE_SUMMARY_KEYS", "SIGNAL_BATCH", "CalibrateRequest", "calibrate_dataset"]

#: Pairs whose texts and judgments are read per query.
SIGNAL_BATCH = 1_000

JUDGE_SUMMARY_KEYS = (  # what --json shows per judge
    "n",
    "agreement",
    "agreement_without_ties",
    "kappa",
    "position_consistency",
    "first_position_preference",
)


@dataclass(frozen=True)
class CalibrateRequest:
    """What ``referee calibrate`` was asked (see its options)."""

    dataset: str
    judges: tuple[str, ...] = ()
    target_agreement: float = 0.85
    delta: float = 0.1
    gold_kind: str = "gold"
    seed: int = 0
    cascade: bool = False


def calibrate_dataset(engine: Engine, request: CalibrateRequest) -> dict[str, Any]:
    """Fit and store the policy of ``request``; the document ``calibrate --json`` prints.

    Raises :class:`UserError` (nothing stored) for out-of-range options, a dataset without
    judgments or gold, an unknown judge, or ``--cascade`` with fewer than two judges.
    """
    _check_ranges(request)
    with transaction(engine) as session:
        ds = dataset_by_name(session, request.dataset)
        panel = _panel(session, ds, request)
        gold = load_gold(session, ds.id, request.gold_kind)
        if not gold:
            raise UserError(
                f"dataset {request.dataset!r} has no {request.gold_kind!r} labels: import gold "
                f"labels with `referee labels import FILE --kind {request.gold_kind}`"
            )
        signals = load_signals(session, ds.id, panel)
        if request.cascade:
            return _fit_cascade(session, ds, signals, gold, panel, request)
        fit = fit_policy(
            signals,
            gold,
            target_agreement=request.target_agreement,
            delta=request.delta,
            judges=panel,
            seed=request.seed,
        )
        _, version = store_policy_version(session, ds, fit.policy.to_json(), fit.report)
        return _document(fit.report, version, request.dataset, request.gold_kind)


def load_signals(session: Session, dataset_id: int, panel: Sequence[str]) -> list[PairSignals]:
    """Every pair's signals from ``panel``, read in batches, in pair-id order."""
    return [
        signal
        for batch in iter_pair_signal_batches(session, dataset_id, panel, batch_size=SIGNAL_BATCH)
        for signal in batch
    ]


def _check_ranges(request: CalibrateRequest) -> None:
    if not 0.0 < request.target_agreement < 1.0:
        raise UserError(
            f"--target-agreement must be between 0 and 1, got {request.target_agreement}"
        )
    if not 0.0 < request.delta < 1.0:
        raise UserError(f"--delta must be between 0 and 1, got {request.delta}")


def _judges_with_judgments(session: Session, dataset_id: int) -> list[str]:
    query = (
        select(Judgment.judge)
        .join(Pair, Pair.id == Judgment.pair_id)
        .where(Pair.dataset_id == dataset_id)
        .distinct()
    )
    return sorted(session.scalars(query))


def _panel(session: Session, ds: Dataset, request: CalibrateRequest) -> list[str]:
    """The judges to calibrate: those asked for (checked), else every judge with judgments."""
    available = _judges_with_judgments(session, ds.id)
    if not available:
        raise UserError(
            f"dataset {request.dataset!r} has no judgments: import them with `referee "
            "judgments import FILE` or run a pre-labeling job first"
        )
    unknown = sorted(set(request.judges) - set(available))
    if unknown:
        raise UserError(
            f"no judgments from {', '.join(unknown)} in dataset {request.dataset!r} "
            f"(judges present: {', '.join(available)})"
        )
    if request.cascade and len(set(request.judges)) < 2:
        raise UserError(
            "--cascade needs two or more --judge options, cheapest first: each is a "
            "stage (e.g. --judge cheap-model --judge strong-model)"
        )
    return list(dict.fromkeys(request.judges)) if request.judges else available


def _fit_cascade(
    session: Session,
    dataset: Dataset,
    signals: Sequence[PairSignals],
    gold: Mapping[str, str],
    stages: Sequence[str],
    request: CalibrateRequest,
) -> dict[str, Any]:
    """Fit the cascade (one judge per stage, in the order given), store it as the dataset's
    next policy version and return the document ``calibrate --cascade`` prints."""
    from calibration.cascade import fit_cascade

    try:
        fit = fit_cascade(
            signals,
            gold,
            stages=[[judge] for judge in stages],
            target_agreement=request.target_agreement,
            delta=request.delta,
            seed=request.seed,
        )
    except ValueError as exc:
        raise UserError(
            f"{exc}; judge the gold pairs with every stage first: `referee prelabel --dataset "
            f"{dataset.name} --gold-only " + " ".join(f"--judge {j}" for j in stages) + "`"
        ) from exc
    report = fit.to_json()
    _, version = store_policy_version(session, dataset, fit.policy.to_json(), report)
    return {"policy_version": version, "dataset": dataset.name, **report}


def _summary(report: Mapping[str, Any]) -> dict[str, Any]:
    out = {key: report.get(key) for key in JUDGE_SUMMARY_KEYS}
    out["chose_longer"] = report["length_preference"]["chose_longer"]
    out["gold_chose_longer"] = report["length_preference"]["gold_chose_longer"]
    return out


def _document(report: PolicyReport, version: int, dataset: str, gold_kind: str) -> dict[str, Any]:
    """What ``calibrate`` prints (``--json``) for a single policy."""
    reliability = report.get("calibrated_reliability", {})
    doc: dict[str, Any] = {
        "policy_version": version,
        "dataset": dataset,
        "gold_kind": gold_kind,
    }
    for key in _REPORT_KEYS:
        doc[key] = report[key]  # type: ignore[literal-required]
    doc["judges"] = {name: _summary(r) for name, r in report.get("judges", {}).items()}
    doc["panel"] = _summary(report["panel"]) if "panel" in report else None
    doc["calibrated_reliability"] = {k: reliability.get(k) for k in ("n", "ece", "brier")}
    doc["simple_routers"] = report.get("simple_routers", [])
    return doc


#: The policy report's keys ``calibrate --json`` shows as they are, in this order.
_REPORT_KEYS = (
    "target_agreement",
    "delta",
    "gold_items",
    "certified",
    "certified_coverage",
    "threshold",
    "bound",
    "n_accepted_on_gold",
    "agreement_on_accepted_gold",
    "more_gold_needed",
    "why_not_certified",
    "ungold_pairs",
    "expected_coverage_on_ungold",
    "grid",
    "score",
    "score_kind",
    "route",
    "level",
    "routes",
    "why_this_score",
    "candidates",
    "selection_items",
    "certification_items",
)
