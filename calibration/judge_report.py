"""A judge (or a panel) against human gold: agreement, kappa, confusion, biases, reliability.

Units: for one judge, every parsed verdict is one unit (each presentation order counts, as in
the MT-Bench agreement tables of Zheng et al., NeurIPS 2023); for a panel of several judges, each
pair's plurality verdict over all the panel's verdicts is one unit (no unit when the plurality
is tied).

* ``agreement``: share of units equal to gold; ``agreement_without_ties``: the same over units
  where neither the verdict nor gold is ``tie`` (Zheng et al.'s "non-tied votes").
* ``kappa``: Cohen's kappa ``(p_o - p_e)/(1 - p_e)`` of units vs gold (Cohen 1960).
* ``position_consistency``: share of (pair, judge) with both orders parsed whose verdicts are
  equal; ``first_position_preference``: share of A/B verdicts naming the response shown first.
* ``length_preference``: share of A/B units choosing the longer response, beside gold's own
  rate over gold A/B labels (pairs with equal lengths left out).
* ``per_slice``: agreement and kappa per value of every ``meta`` field with at most
  ``max_slice_values`` distinct scalar values.
* ``confidence_reliability``: bins, ECE and Brier of self-reported confidence (when present).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from calibration.reliability import reliability
from calibration.signals import VERDICTS, JudgeSignals, PairSignals

__all__ = ["cohen_kappa_from_pairs", "judge_report"]

Unit = tuple[PairSignals, str, str]  # (pair, verdict, gold)


def cohen_kappa_from_pairs(predicted: Sequence[str], truth: Sequence[str]) -> float | None:
    """Unweighted Cohen's kappa of two label sequences; ``None`` when undefined (p_e = 1)."""
    n = len(predicted)
    if n == 0:
        return None
    p_o = sum(a == b for a, b in zip(predicted, truth, strict=True)) / n
    ca, cb = Counter(predicted), Counter(truth)
    p_e = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return None if p_e >= 1.0 else (p_o - p_e) / (1.0 - p_e)


def _agreement(units: Sequence[Unit]) -> dict[str, Any]:
    pred = [u[1] for u in units]
    truth = [u[2] for u in units]
    no_ties = [(a, b) for a, b in zip(pred, truth, strict=True) if "tie" not in (a, b)]
    return {
        "n": len(units),
        "agreement": sum(a == b for a, b in zip(pred, truth, strict=True)) / len(units)
        if units
        else None,
        "agreement_without_ties": sum(a == b for a, b in no_ties) / len(no_ties)
        if no_ties
        else None,
        "kappa": cohen_kappa_from_pairs(pred, truth),
    }


def _units(
    signals: Sequence[PairSignals], gold: Mapping[str, str], judges: Sequence[str]
) -> list[Unit]:
    units: list[Unit] = []
    for pair in signals:
        truth = gold.get(pair.pair_id)
        if truth is None:
            continue
        verdicts = [v for j in judges if j in pair.judges for v in pair.judges[j].verdicts]
        if len(judges) == 1:
            units.extend((pair, v, truth) for v in verdicts)
            continue
        top = Counter(verdicts).most_common(2)
        if top and (len(top) == 1 or top[0][1] > top[1][1]):
            units.append((pair, top[0][0], truth))
    return units


def _longer(pair: PairSignals, label: str) -> bool | None:
    if label not in ("A", "B") or pair.length_a == pair.length_b:
        return None
    return (label == "A") == (pair.length_a > pair.length_b)


def _rate(values: Sequence[bool | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def judge_report(
    signals: Sequence[PairSignals],
    gold: Mapping[str, str],
    *,
    judges: Sequence[str] | None = None,
    max_slice_values: int = 20,
) -> dict[str, Any]:
    """The report described in the module docstring, as a JSON-able dict."""
    names = list(judges) if judges else sorted({n for p in signals for n in p.judges})
    units = _units(signals, gold, names)
    report = _agreement(units)
    labels = sorted({*VERDICTS, *(u[2] for u in units)})
    report["confusion"] = {
        g: {p: sum(1 for u in units if u[2] == g and u[1] == p) for p in labels} for g in labels
    }
    calls = [
        pair.judges[j]
        for pair in signals
        if pair.pair_id in gold
        for j in names
        if j in pair.judges
    ]
    report.update(_position_and_parsing(calls))
    report["length_preference"] = {
        "chose_longer": _rate([_longer(u[0], u[1]) for u in units]),
        "gold_chose_longer": _rate(
            [_longer(p, gold[p.pair_id]) for p in signals if p.pair_id in gold]
        ),
    }
    report["per_slice"] = _per_slice(units, max_slice_values)
    conf = _confidence_outcomes(signals, gold, names)
    report["confidence_reliability"] = (
        reliability([c for c, _ in conf], [ok for _, ok in conf]) if conf else None
    )
    return report


def _position_and_parsing(calls: Sequence[JudgeSignals]) -> dict[str, Any]:
    """Position consistency, first-position preference and parse counts of the judge calls."""
    report: dict[str, Any] = {}
    both = [js for js in calls if js.ab is not None and js.ba is not None]
    report["position_consistency"] = sum(js.consistent for js in both) / len(both) if both else None
    first = [js.ab == "A" for js in calls if js.ab in ("A", "B")]
    first += [js.ba == "B" for js in calls if js.ba in ("A", "B")]
    report["first_position_preference"] = _rate(first)
    parsed = sum(len(js.verdicts) for js in calls)
    report["verdicts"] = parsed
    report["unparsed_share_of_pairs"] = (
        sum(1 for js in calls if not js.verdicts) / len(calls) if calls else None
    )
    return report


def _per_slice(units: Sequence[Unit], max_slice_values: int) -> dict[str, dict[str, Any]]:
    """Agreement per value of each meta key with scalar values and at most so many of them."""
    slices: dict[str, dict[str, Any]] = {}
    keys = sorted({k for u in units for k in u[0].meta})
    for key in keys:
        raw = [u[0].meta.get(key) for u in units]
        if not all(isinstance(v, str | int | bool) or v is None for v in raw):
            continue
        values = set(raw)
        if len(values) > max_slice_values:
            continue
        slices[key] = {
            str(v): _agreement([u for u in units if u[0].meta.get(key) == v])
            for v in sorted(values, key=str)
        }
    return slices


def _confidence_outcomes(
    signals: Sequence[PairSignals], gold: Mapping[str, str], names: Sequence[str]
) -> list[tuple[float, bool]]:
    """(stated confidence, verdict equals gold) for every parsed, confident verdict on gold."""
    conf: list[tuple[float, bool]] = []
    for pair in signals:
        truth = gold.get(pair.pair_id)
        for j in names:
            js = pair.judges.get(j)
            if truth is None or js is None:
                continue
            for verdict, c in ((js.ab, js.confidence_ab), (js.ba, js.confidence_ba)):
                if verdict is not None and c is not None:
                    conf.append((c, verdict == truth))
    return conf
