"""``referee calibrate --cascade``: one certified policy per judge stage, stored as one version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from calibration.cascade import fit_cascade
from calibration.signals import PairSignals
from referee.db.models import Dataset
from referee.db.routing import store_policy_version
from referee.errors import UserError

__all__ = ["calibrate_cascade"]


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
