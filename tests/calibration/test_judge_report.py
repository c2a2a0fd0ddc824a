from __future__ import annotations

import pytest
from sklearn.metrics import cohen_kappa_score

from calibration.judge_report import cohen_kappa_from_pairs, judge_report
from calibration.signals import JudgeSignals, PairSignals


def _pair(
    pid: str,
    ab: str | None,
    ba: str | None,
    *,
    la: int,
    lb: int,
    src: str,
    conf: float | None = None,
) -> PairSignals:
    return PairSignals(
        pid,
        {"g": JudgeSignals("g", ab, ba, confidence_ab=conf)},
        meta={"src": src, "text": {"not": "hashable"}},
        length_a=la,
        length_b=lb,
    )


SIGNALS = [
    _pair("p1", "A", "A", la=10, lb=5, src="x", conf=0.9),  # consistent, right, longer
    _pair("p2", "A", "B", la=10, lb=5, src="x", conf=0.8),  # flip: first position both times
    _pair("p3", "B", "B", la=3, lb=9, src="y", conf=0.6),  # consistent, wrong vs tie gold
    _pair("p4", None, "A", la=4, lb=4, src="y"),  # one verdict, equal lengths
]
GOLD = {"p1": "A", "p2": "B", "p3": "tie", "p4": "A"}


def test_single_judge_report_by_hand() -> None:
    r = judge_report(SIGNALS, GOLD, judges=["g"])
    # units: p1 A,A (gold A) p2 A,B (gold B) p3 B,B (gold tie) p4 A (gold A)
    assert r["n"] == 7 and r["verdicts"] == 7
    assert r["agreement"] == pytest.approx(4 / 7)
    assert r["agreement_without_ties"] == pytest.approx(4 / 5)
    pred = ["A", "A", "A", "B", "B", "B", "A"]
    truth = ["A", "A", "B", "B", "tie", "tie", "A"]
    assert r["kappa"] == pytest.approx(cohen_kappa_score(pred, truth))
    assert r["confusion"]["tie"]["B"] == 2 and r["confusion"]["A"]["A"] == 3
    assert r["position_consistency"] == pytest.approx(2 / 3)
    # shown-first choices: p1 AB:A yes, BA:A no; p2 AB:A yes, BA:B yes; p3 AB:B no, BA:B yes;
    # p4 BA:A no  -> 4 of 7
    assert r["first_position_preference"] == pytest.approx(4 / 7)
    # longer chosen: p1 yes yes, p2 yes no, p3 yes yes (B longer); p4 equal lengths -> 5 of 6
    assert r["length_preference"]["chose_longer"] == pytest.approx(5 / 6)
    # gold chose longer: p1 yes, p2 no; p3 tie and p4 equal excluded -> 1 of 2
    assert r["length_preference"]["gold_chose_longer"] == pytest.approx(0.5)
    assert set(r["per_slice"]) == {"src"}
    assert r["per_slice"]["src"]["x"]["agreement"] == pytest.approx(3 / 4)
    assert r["per_slice"]["src"]["y"]["n"] == 3
    rel = r["confidence_reliability"]
    assert rel["n"] == 3
    # p1 right at 0.9, p2 (A-first said A, gold B) wrong at 0.8, p3 wrong at 0.6
    assert rel["brier"] == pytest.approx((0.1**2 + 0.8**2 + 0.6**2) / 3)


def test_panel_uses_plurality_per_pair_and_drops_tied_votes() -> None:
    pairs = [
        PairSignals("p1", {"g": JudgeSignals("g", "A", "A"), "h": JudgeSignals("h", "B", "A")}),
        PairSignals("p2", {"g": JudgeSignals("g", "A", "B"), "h": JudgeSignals("h", "B", "A")}),
    ]
    r = judge_report(pairs, {"p1": "A", "p2": "B"})
    assert r["n"] == 1 and r["agreement"] == 1.0  # p2 is a 2-2 vote: no unit
    assert r["position_consistency"] == pytest.approx(1 / 4)


def test_kappa_undefined_when_chance_agreement_is_one() -> None:
    assert cohen_kappa_from_pairs(["A", "A"], ["A", "A"]) is None
    assert cohen_kappa_from_pairs([], []) is None
    assert judge_report([], {})["agreement"] is None
