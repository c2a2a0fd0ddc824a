"""The Dawid-Skene posterior score: gold-free, weighs each dissent by the dissenter."""

from __future__ import annotations

import numpy as np

from calibration.posterior import PosteriorScorer
from calibration.scores import VoteScorer, judge_orders, scorer_from_json
from calibration.signals import JudgeSignals, PairSignals
from tests.calibration.synthetic_judges import synthesize


def test_a_reliable_dissenter_lowers_the_score_more_than_an_unreliable_one() -> None:
    signals, gold = synthesize(3000, [0.95, 0.65, 0.65, 0.65], seed=1)
    scorer = PosteriorScorer.fit(signals, ["j0", "j1", "j2", "j3"])
    assert scorer is not None
    strong_dissents = PairSignals(
        "x",
        {
            "j0": JudgeSignals("j0", "B", "B"),
            **{j: JudgeSignals(j, "A", "A") for j in ("j1", "j2", "j3")},
        },
    )
    weak_dissents = PairSignals(
        "y",
        {
            "j0": JudgeSignals("j0", "A", "A"),
            "j1": JudgeSignals("j1", "B", "B"),
            **{j: JudgeSignals(j, "A", "A") for j in ("j2", "j3")},
        },
    )
    label_x, _ = scorer.score_one(strong_dissents)
    label_y, score_y = scorer.score_one(weak_dissents)
    assert label_x == "B"  # the reliable judge outweighs three coin-flippers
    assert label_y == "A" and score_y > 0.95
    votes = VoteScorer(("j0", "j1", "j2", "j3"), judge_orders(signals, ["j0"]))
    # the vote share cannot tell the two apart: 6 of 8 calls either way
    assert votes.score_one(strong_dissents)[1] == votes.score_one(weak_dissents)[1]
    # and the posterior ranks pairs better than the vote share on this panel
    labels, scores = scorer.score_many(signals)
    right = np.array([lab == gold[p.pair_id] for p, lab in zip(signals, labels, strict=True)])
    top = np.argsort(-scores, kind="stable")[:1500]
    vote_labels, vote_scores = votes.score_many(signals)
    vote_right = np.array(
        [lab == gold[p.pair_id] for p, lab in zip(signals, vote_labels, strict=True)]
    )
    vote_top = np.argsort(-vote_scores, kind="stable")[:1500]
    assert right[top].mean() > vote_right[vote_top].mean()


def test_round_trip_and_unjudged_pairs() -> None:
    signals, _ = synthesize(400, [0.9, 0.7], seed=2)
    scorer = PosteriorScorer.fit(signals, ["j0", "j1"])
    assert scorer is not None
    again = scorer_from_json(scorer.to_json())
    assert isinstance(again, PosteriorScorer)
    assert again.score_many(signals)[0] == scorer.score_many(signals)[0]
    assert np.allclose(again.score_many(signals)[1], scorer.score_many(signals)[1])
    assert scorer.score_one(PairSignals("none", {})) == (None, 0.0)


def test_nothing_to_weigh_gives_no_scorer() -> None:
    one_call = [PairSignals(f"p{i}", {"j": JudgeSignals("j", "A", None)}) for i in range(5)]
    assert PosteriorScorer.fit(one_call, ["j"]) is None


def test_judge_accuracy_is_estimated_without_gold() -> None:
    signals, _ = synthesize(3000, [0.9, 0.75, 0.6], seed=3, flip=0.1)
    scorer = PosteriorScorer.fit(signals, ["j0", "j1", "j2"])
    assert scorer is not None
    accuracy = {j: scorer.judge_accuracy(j) for j in ("j0", "j1", "j2")}
    # each order's hidden accuracy: AB as drawn, BA after 10% flips (0.9 -> 0.82, ...); a
    # judge's two orders agree far more than independent annotators would, which the model
    # reads as reliability: it overrates the judges, the strong one most, but keeps their order
    hidden = {}
    for judge, drawn in (("j0", 0.9), ("j1", 0.75), ("j2", 0.6)):
        hidden[judge] = (drawn + drawn * 0.9 + (1 - drawn) * 0.1) / 2
        assert accuracy[judge] is not None and abs(accuracy[judge] - hidden[judge]) < 0.1
    assert accuracy["j0"] > accuracy["j1"] > accuracy["j2"]  # type: ignore[operator]
    assert scorer.judge_accuracy("nobody") is None
