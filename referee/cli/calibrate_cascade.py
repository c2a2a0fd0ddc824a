"""``referee calibrate --cascade``: one certified policy per judge stage, stored as one version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from calibration.cascade import fit_cascade
from calibration.signals import PairSignals
from referee.cli.common import UserError, stdout
from referee.db.models import Dataset
from referee.db.routing import store_policy_version


def calibrate_cascade(
    session: Session,
    dataset: Dataset,
    signals: Sequence[PairSignals],
    gold: Mapping[str, str],
    *,
    stages: Sequence[str],
    target_agreement: float,
    delta: float,
    seed: int,
) -> dict[str, Any]:
    """Fit the cascade (one judge per stage, in the order given), store it as the dataset's
    next policy version and return the document ``calibrate --cascade`` prints."""
    try:
        fit = fit_cascade(
            signals,
            gold,
            stages=[[judge] for judge in stages],
            target_agreement=target_agreement,
            delta=delta,
            seed=seed,
        )
    except ValueError as exc:
        raise UserError(
            f"{exc}; judge the gold pairs with every stage first: `referee prelabel --dataset "
            f"{dataset.name} --gold-only " + " ".join(f"--judge {j}" for j in stages) + "`"
        ) from exc
    report = fit.to_json()
    _, version = store_policy_version(session, dataset, fit.policy.to_json(), report)
    return {"policy_version": version, "dataset": dataset.name, **report}


def print_cascade(doc: Mapping[str, Any]) -> None:
    """The human-readable report: each stage, then the union."""
    target, delta = doc["target_agreement"], doc["delta"]
    stdout.print(
        f"Cascade policy v{doc['policy_version']} for {doc['dataset']!r}: {len(doc['stages'])} "
        f"stages, each certified at δ = {doc['delta_per_stage']:.3g} on the gold items the "
        "earlier stages do not accept.",
        highlight=False,
    )
    for index, stage in enumerate(doc["stages"], start=1):
        judges = "+".join(stage["judges"])
        if stage["certified"]:
            stdout.print(
                f"  stage {index} ({judges}): accepts {stage['accepted_gold']} of the "
                f"{stage['gold_reaching']} gold items reaching it (agreement "
                f"{stage['agreement_on_accepted_gold']:.3f}) at score ≥ "
                f"{stage['threshold']:.4f} ({stage['score']}).",
                highlight=False,
                markup=False,
            )
        else:
            more = stage["more_gold_needed"]
            extra = f"; about {more} more gold labels would help" if more else ""
            stdout.print(
                f"  stage {index} ({judges}): certifies nothing on the {stage['gold_reaching']} "
                f"gold items reaching it ({stage['why']}{extra}); it passes every pair on.",
                highlight=False,
                markup=False,
            )
    agreement = doc["agreement_on_accepted_gold"]
    stdout.print(
        f"Together: {doc['certified_coverage']:.1%} of {doc['gold_items']} gold items "
        "auto-accepted"
        + (f" (agreement {agreement:.3f})" if agreement is not None else "")
        + f"; agreement ≥ {target} over every accepted label with probability ≥ "
        f"{1 - delta:.2f}. Run `referee prelabel --cascade` with the same judges in this order.",
        highlight=False,
        markup=False,
    )
