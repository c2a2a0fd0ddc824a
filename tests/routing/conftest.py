"""Fixtures for routing tests: a real calibrated policy fitted on synthetic judges."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.policy import AcceptPolicy, fit_policy
from calibration.signals import JudgeSignals, PairSignals

LABELS = ("A", "B", "tie", "both_bad")


def judge(
    name: str,
    ab: str | None,
    ba: str | None,
    conf: float | None = None,
    *,
    missing: tuple[str, ...] = (),
) -> JudgeSignals:
    """A judge's signals; a ``None`` order was asked and unparseable unless named in ``missing``."""
    unparseable = tuple(
        order for order, v in (("AB", ab), ("BA", ba)) if v is None and order not in missing
    )
    return JudgeSignals(
        judge=name,
        ab=ab,
        ba=ba,
        confidence_ab=conf,
        confidence_ba=conf,
        unparseable_orders=unparseable,
    )


def pair(pid: str, *judges: JudgeSignals, injection: bool = False) -> PairSignals:
    return PairSignals(
        pair_id=pid, judges={j.judge: j for j in judges}, injection_suspected=injection
    )


def synthetic_panel(n: int, seed: int) -> tuple[list[PairSignals], dict[str, str]]:
    """Two judges; j1 right and order-consistent 90% of the time, j2 75%; some ties/both_bad."""
    rng = np.random.default_rng(seed)
    signals: list[PairSignals] = []
    gold: dict[str, str] = {}
    for i in range(n):
        truth = str(rng.choice(LABELS, p=[0.42, 0.42, 0.08, 0.08]))
        pid = f"g{i:04d}"
        gold[pid] = truth
        js = []
        for name, skill in (("j1", 0.9), ("j2", 0.75)):
            if rng.random() < skill:
                ab = ba = truth
            else:
                ab, ba = (str(x) for x in rng.choice(LABELS, size=2))
            js.append(judge(name, ab, ba, float(rng.uniform(0.5, 1.0))))
        signals.append(pair(pid, *js))
    return signals, gold


@pytest.fixture(scope="session")
def fitted_policy() -> AcceptPolicy:
    signals, gold = synthetic_panel(400, seed=1)
    return fit_policy(signals, gold, target_agreement=0.8, delta=0.1, seed=0).policy
