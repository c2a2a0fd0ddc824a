from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from calibration.calibrator import (
    FeatureEncoder,
    LabelModel,
    cross_fit_probabilities,
    fit_label_model,
)
from calibration.signals import JudgeSignals, PairSignals
from tests.calibration.synthetic_judges import synthesize


def test_softmax_model_reproduces_sklearn_probabilities() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    for classes in (["A", "B"], ["A", "B", "tie"]):
        y = [classes[i] for i in rng.integers(0, len(classes), size=200)]
        y = [c if x[i, 0] < 0.5 else classes[0] for i, c in enumerate(y)]
        ours = fit_label_model(x, y, c=0.7)
        ref = LogisticRegression(C=0.7, max_iter=2000).fit(x, y)
        assert ours.classes == list(ref.classes_)
        np.testing.assert_allclose(ours.predict_proba(x), ref.predict_proba(x), atol=1e-9)
        again = LabelModel.from_json(ours.to_json())
        np.testing.assert_allclose(again.predict_proba(x), ours.predict_proba(x))


def test_single_class_gold_gives_that_class() -> None:
    model = fit_label_model(np.zeros((3, 2)), ["A", "A", "A"])
    assert model.classes == ["A"]
    np.testing.assert_allclose(model.predict_proba(np.ones((2, 2))), [[1.0], [1.0]])


def test_good_judge_outweighs_bad_judge() -> None:
    signals, gold = synthesize(600, [0.92, 0.55], seed=3)
    encoder = FeatureEncoder.fit(signals, ["j0", "j1"])
    model = fit_label_model(encoder.transform(signals), [gold[p.pair_id] for p in signals])
    disagree = PairSignals(
        "x", {"j0": JudgeSignals("j0", "A", "A"), "j1": JudgeSignals("j1", "B", "B")}
    )
    proba = model.predict_proba(encoder.transform([disagree]))[0]
    assert model.classes[int(np.argmax(proba))] == "A"
    assert proba.max() > 0.8


def test_confidence_features_only_for_judges_that_report_them() -> None:
    plain = PairSignals("p", {"g": JudgeSignals("g", "A", "A")})
    rich = PairSignals("q", {"h": JudgeSignals("h", "B", "B", 0.9, 0.8, None, 0.7)})
    encoder = FeatureEncoder.fit([plain, rich], ["g", "h"])
    assert encoder.confidence_judges == ["h"] and encoder.logprob_judges == ["h"]
    without = FeatureEncoder.fit([plain], ["g", "h"])
    width = encoder.transform([plain]).shape[1]
    assert width == without.transform([plain]).shape[1] + 16
    row = encoder.transform([rich])[0]
    assert pytest.approx(0.4) in list(row)  # 0.9 - 0.5 in the B slot of the A-first call
    assert FeatureEncoder.from_json(encoder.to_json()) == encoder


def test_cross_fitting_does_not_see_the_item_itself() -> None:
    # Identical features, labels alternate: in-sample the model predicts 0.5 for everyone;
    # out of fold each item's probability leans away from its own label's share.
    x = np.zeros((10, 1))
    y = ["A"] * 3 + ["B"] * 7
    oof = cross_fit_probabilities(x, y, ["A", "B"], folds=10, seed=0)
    in_sample = fit_label_model(x, y).predict_proba(x)
    assert not np.allclose(oof, in_sample)
    # every A item's training folds hold 2 A of 9, every B item's hold 3 A of 9
    assert oof[0, 0] < oof[5, 0]
    np.testing.assert_allclose(oof.sum(axis=1), 1.0)
