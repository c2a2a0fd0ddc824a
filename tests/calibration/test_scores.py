"""Candidate scores: hand-checkable vote shares, the order gate, stored policies old and new."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from calibration.calibrator import FeatureEncoder, fit_label_model
from calibration.policy import AcceptPolicy, fit_policy
from calibration.scores import (
    ModelScorer,
    VoteScorer,
    judge_orders,
    order_gated,
    reliability_weights,
    scorer_from_json,
)
from calibration.signals import JudgeSignals, PairSignals
from tests.calibration.synthetic_judges import synthesize


def _pair(*judges: JudgeSignals, pid: str = "p") -> PairSignals:
    return PairSignals(pid, {j.judge: j for j in judges})


def test_single_judge_vote_is_agreement_of_both_orders() -> None:
    scorer = VoteScorer(("g",), {"g": 2})
    assert scorer.score_one(_pair(JudgeSignals("g", "B", "B"))) == ("B", 1.0)
    assert scorer.score_one(_pair(JudgeSignals("g", "A", "B"))) == ("A", 0.5)  # tie -> "A" first
    failed = JudgeSignals("g", "B", None, unparseable_orders=("BA",))
    assert scorer.score_one(_pair(failed)) == ("B", 0.5)  # a failed call counts against
    assert scorer.score_one(_pair(JudgeSignals("g", None, None))) == (None, 0.0)
    one_order = VoteScorer(("g",), {"g": 1})
    assert one_order.score_one(_pair(JudgeSignals("g", "A", None))) == ("A", 1.0)


def test_confidence_weights_the_vote_logprob_first() -> None:
    scorer = VoteScorer(("g",), {"g": 2})
    js = JudgeSignals("g", "A", "A", confidence_ab=0.9, confidence_ba=0.7, logprob_ba=0.6)
    label, score = scorer.score_one(_pair(js))
    assert label == "A" and score == pytest.approx((0.9 + 0.6) / 2)


def test_panel_vote_share_pools_every_call() -> None:
    scorer = VoteScorer(("g", "h", "k"), {"g": 2, "h": 2, "k": 1})
    pair = _pair(
        JudgeSignals("g", "A", "A"), JudgeSignals("h", "A", "B"), JudgeSignals("k", "B", None)
    )
    assert scorer.score_one(pair) == ("A", pytest.approx(3 / 5))
    assert scorer.kind == "panel" and VoteScorer(("g",), {}).kind == "judge"
    assert scorer.name == "panel vote share (3 judges)"
    assert VoteScorer(("g",), {"g": 2}).name == "judge g (both-order vote)"
    assert VoteScorer(("k",), {"k": 1}).name == "judge k (vote)"


def test_judge_orders_seen_in_the_data() -> None:
    signals = [
        _pair(JudgeSignals("two", "A", None), JudgeSignals("one", "A", None)),
        _pair(JudgeSignals("two", None, None, unparseable_orders=("BA",)), pid="q"),
    ]
    assert judge_orders(signals, ["two", "one"]) == {"two": 2, "one": 1}


def test_order_gate() -> None:
    assert order_gated(_pair(JudgeSignals("g", "A", "B")), ["g"])
    assert not order_gated(_pair(JudgeSignals("g", "A", "A"), JudgeSignals("h", "A", "B")), [])
    assert order_gated(_pair(JudgeSignals("g", "A", None, unparseable_orders=("BA",))), ["g"])
    assert not order_gated(_pair(JudgeSignals("g", "A", None)), ["g"])  # one order recorded


def test_scorers_round_trip_through_json() -> None:
    signals, gold = synthesize(200, [0.9, 0.7], seed=2, flip=0.2)
    encoder = FeatureEncoder.fit(signals, ["j0", "j1"])
    model = fit_label_model(encoder.transform(signals), [gold[p.pair_id] for p in signals])
    for scorer in (VoteScorer(("j0", "j1"), {"j0": 2, "j1": 2}), ModelScorer(encoder, model, 0.3)):
        again = scorer_from_json(json.loads(json.dumps(scorer.to_json())))
        a, b = scorer.score_many(signals), again.score_many(signals)
        assert a[0] == b[0]
        np.testing.assert_allclose(a[1], b[1])
    with pytest.raises(ValueError, match="unknown scorer"):
        scorer_from_json({"kind": "crystal-ball"})


def test_old_v1_policy_bodies_still_read_and_score_as_before() -> None:
    signals, gold = synthesize(200, [0.9, 0.7], seed=3, flip=0.2)
    encoder = FeatureEncoder.fit(signals, ["j0", "j1"])
    model = fit_label_model(encoder.transform(signals), [gold[p.pair_id] for p in signals])
    body = {
        "kind": "calibrated-logistic/v1",
        "judges": ["j0", "j1"],
        "threshold": 0.8,
        "target_agreement": 0.85,
        "delta": 0.1,
        "accept_labels": ["A", "B"],
        "encoder": encoder.to_json(),
        "model": model.to_json(),
    }
    policy = AcceptPolicy.from_json(body)
    proba = model.predict_proba(encoder.transform(signals))
    for i, pair in enumerate(signals[:40]):
        scored = policy.score(pair)
        assert scored.label == model.classes[int(proba[i].argmax())]
        assert scored.probability == pytest.approx(float(proba[i].max()))
    assert policy.to_json()["kind"] == "referee-policy/v2"
    assert AcceptPolicy.from_json({**body, "threshold": None}).threshold == math.inf


def test_policy_never_accepts_injection_or_a_wholly_inconsistent_panel() -> None:
    signals, gold = synthesize(300, [0.97, 0.9], seed=4)
    fit = fit_policy(signals, gold, target_agreement=0.85, delta=0.1)
    assert fit.report["certified"]
    clean = PairSignals(
        "c", {"j0": JudgeSignals("j0", "A", "A"), "j1": JudgeSignals("j1", "A", "A")}
    )
    assert fit.policy.accepts(clean)
    flagged = PairSignals("i", clean.judges, injection_suspected=True)
    assert not fit.policy.accepts(flagged) and not fit.policy.acceptable(flagged)
    flipped = PairSignals(
        "f", {"j0": JudgeSignals("j0", "A", "B"), "j1": JudgeSignals("j1", "A", "B")}
    )
    lenient = AcceptPolicy.from_json({**fit.policy.to_json(), "threshold": 0.0})
    assert lenient.accepts(clean) and not lenient.accepts(flipped) and not lenient.accepts(flagged)


def test_weighted_vote_share_by_hand_and_through_json() -> None:
    scorer = VoteScorer(("g", "h", "k"), {"g": 2, "h": 2, "k": 1}, {"g": 3.0, "h": 1.0, "k": 2.0})
    pair = _pair(
        JudgeSignals("g", "A", "A"), JudgeSignals("h", "B", "B"), JudgeSignals("k", "B", None)
    )
    # each judge one voter: A: 3·(2/2) = 3, B: 1·(2/2) + 2·(1/1) = 3, of 3 + 1 + 2 = 6; the tie
    # goes to "A", first of the verdicts
    assert scorer.score_one(pair) == ("A", pytest.approx(3 / 6))
    one_order_heavier = VoteScorer(("g", "h", "k"), scorer.orders, {"g": 3.0, "h": 1.0, "k": 2.5})
    assert one_order_heavier.score_one(pair) == ("B", pytest.approx(3.5 / 6.5))
    assert scorer.kind == "weighted" and scorer.name.startswith("reliability-weighted")
    plain = VoteScorer(("g", "h", "k"), {"g": 2, "h": 2, "k": 1})
    assert plain.score_one(pair) == ("B", pytest.approx(3 / 5))  # five calls, each a vote
    # equal weights: the mean of the judges' own vote shares, (1 + 0 + 0) / 3 for A
    even = VoteScorer(("g", "h", "k"), {"g": 2, "h": 2, "k": 1}, {"g": 1.0, "h": 1.0, "k": 1.0})
    assert even.score_one(pair) == ("B", pytest.approx(2 / 3))
    again = scorer_from_json(json.loads(json.dumps(scorer.to_json())))
    assert again == scorer and again.score_one(pair) == scorer.score_one(pair)
    assert "weights" not in plain.to_json()  # stored plain policies are unchanged


def test_reliability_weights_put_a_strong_judge_above_weak_ones() -> None:
    signals, _ = synthesize(2000, [0.95, 0.7, 0.65, 0.6], seed=5, flip=0.1)
    weights = reliability_weights(signals, ["j0", "j1", "j2", "j3"])
    assert weights is not None
    assert weights["j0"] > 2 * max(weights["j1"], weights["j2"], weights["j3"])
    assert weights["j1"] > weights["j3"] > 0  # ordered as the hidden accuracies
    # near the log-odds of the hidden accuracy (estimated without a gold label), capped at 0.99
    assert math.log(0.85 / 0.15) < weights["j0"] <= math.log(0.99 / 0.01) + 1e-9
    one_call = [_pair(JudgeSignals("j0", p.judges["j0"].ab, None), pid=p.pair_id) for p in signals]
    assert reliability_weights(one_call, ["j0"]) is None  # one annotator: nothing to weigh
