from __future__ import annotations

import pytest

from calibration.signals import JudgeSignals, PairSignals, majority_label, signals_from_records


def test_records_grouped_by_pair_and_judge_with_last_record_winning() -> None:
    records = [
        {"pair_id": "p1", "judge": "g", "order": "AB", "winner": "A", "confidence": 0.9},
        {"pair_id": "p1", "judge": "g", "order": "BA", "winner": "B", "confidence": None},
        {"pair_id": "p1", "judge": "g", "order": "BA", "winner": "A", "confidence": 0.7},
        {"pair_id": "p2", "judge": "h", "order": "AB", "winner": None},
        {"pair_id": "p2", "judge": "h", "order": "BA", "winner": "nonsense"},
        {
            "pair_id": "p2",
            "judge": "g",
            "order": "AB",
            "winner": "tie",
            "injection_suspected": True,
        },
    ]
    pairs = [
        {"id": "p1", "response_a": "aaaa", "response_b": "b", "meta": {"src": "x"}},
        {"id": "p3", "response_a": "", "response_b": "", "meta": {}},
    ]
    out = {p.pair_id: p for p in signals_from_records(records, pairs)}
    assert sorted(out) == ["p1", "p2", "p3"]
    g = out["p1"].judges["g"]
    assert (g.ab, g.ba, g.confidence_ab, g.confidence_ba) == ("A", "A", 0.9, 0.7)
    assert g.consistent
    assert out["p1"].length_a == 4 and out["p1"].length_b == 1
    assert out["p1"].meta == {"src": "x"}
    h = out["p2"].judges["h"]
    assert h.ab is None and h.ba is None and not h.consistent
    assert out["p2"].injection_suspected and not out["p1"].injection_suspected
    assert out["p2"].judged  # judge g gave a tie
    assert not out["p3"].judged and out["p3"].judges == {}


def test_bad_order_is_rejected_with_the_pair_named() -> None:
    with pytest.raises(ValueError, match="p9"):
        signals_from_records([{"pair_id": "p9", "judge": "g", "order": "XY", "winner": "A"}])


def test_consistency_needs_both_orders() -> None:
    assert not JudgeSignals("g", "A", None).consistent
    assert not JudgeSignals("g", "A", "B").consistent
    assert JudgeSignals("g", "tie", "tie").consistent
    assert JudgeSignals("g", "A", None).verdicts == ("A",)
    assert not PairSignals("p", {"g": JudgeSignals("g", None, None)}).judged


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["A", "A", "B"], "A"),
        (["A", "B", "tie"], None),
        (["A", "B"], None),
        (["A", "A", "B", "tie"], None),
        (["tie"], "tie"),
        ([], None),
    ],
)
def test_majority_needs_more_than_half(labels: list[str], expected: str | None) -> None:
    assert majority_label(labels) == expected


def test_unparseable_orders_differ_from_orders_never_asked() -> None:
    from calibration.signals import signals_from_records

    records = [
        {"pair_id": "p", "judge": "j", "order": "AB", "winner": "A"},
        {"pair_id": "p", "judge": "j", "order": "BA", "winner": None},
        {"pair_id": "q", "judge": "j", "order": "AB", "winner": "B"},
    ]
    p, q = signals_from_records(records)
    assert p.judges["j"].unparseable_orders == ("BA",)
    assert not p.judges["j"].both_orders and not p.judges["j"].flipped
    assert q.judges["j"].unparseable_orders == ()
    assert q.judges["j"].ba is None
