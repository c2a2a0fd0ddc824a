"""Dawid-Skene: hand-checkable cases, gold clamping, and crowd-kit on the llmfao crowd votes."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import DawidSkene as CrowdKitDawidSkene

import calibration.dawid_skene as ds_module
from calibration.dawid_skene import DawidSkene

# crowd-kit 1.4 uses pandas keywords that pandas 3 deprecates; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore:::crowdkit")


def load_votes(path: Path) -> tuple[list[str], list[str], list[str]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return (
        [r["pair_id"] for r in rows],
        [r["annotator"] for r in rows],
        [r["label"] for r in rows],
    )


def test_reliable_workers_outvote_a_contrarian() -> None:
    # w3 always disagrees with w1 and w2; DS learns w3's confusion and trusts w1/w2.
    tasks = [t for t in ("t1", "t2", "t3", "t4") for _ in range(3)]
    workers = ["w1", "w2", "w3"] * 4
    labels = ["A", "A", "B", "B", "B", "A", "A", "A", "B", "B", "B", "A"]
    ds = DawidSkene().fit(tasks, workers, labels)
    assert ds.labels_ == {"t1": "A", "t2": "B", "t3": "A", "t4": "B"}
    assert ds.classes_ == ["A", "B"]
    w3 = ds.workers_.index("w3")
    # errors_[w, observed, true]: w3 says B when the truth is A
    assert ds.errors_[w3, 1, 0] > 0.99
    assert ds.priors_ == pytest.approx([0.5, 0.5])


def test_shapes_and_normalisation() -> None:
    tasks, workers, labels = ["a", "a", "b", "b", "c"], ["x", "y", "x", "y", "y"], list("ABBAt")
    ds = DawidSkene().fit(tasks, workers, labels)
    assert ds.probas_.shape == (3, 3)
    assert np.allclose(ds.probas_.sum(axis=1), 1.0)
    assert ds.errors_.shape == (2, 3, 3)
    assert np.allclose(ds.errors_.sum(axis=1), 1.0)  # each true-label column sums to 1
    assert ds.priors_.sum() == pytest.approx(1.0)
    assert 1 <= ds.n_iter_ == len(ds.loss_history_) <= ds.n_iter
    # x never answered "t": that row of its confusion matrix is empty
    assert ds.errors_[ds.workers_.index("x"), ds.classes_.index("t")].sum() == 0.0


def test_gold_items_are_clamped() -> None:
    tasks = ["t1", "t1", "t2", "t2", "t3", "t3"]
    workers = ["w1", "w2"] * 3
    labels = ["A", "A", "B", "B", "A", "A"]
    ds = DawidSkene().fit(tasks, workers, labels, gold={"t1": "B", "unknown": "A"})
    t1 = ds.tasks_.index("t1")
    assert ds.labels_["t1"] == "B"
    assert ds.probas_[t1].tolist() == [0.0, 1.0]
    assert "unknown" not in ds.labels_


def test_gold_label_never_voted_becomes_a_class() -> None:
    ds = DawidSkene().fit(["t1", "t2"], ["w", "w"], ["A", "A"], gold={"t2": "tie"})
    assert ds.classes_ == ["A", "tie"]
    assert ds.labels_["t2"] == "tie"


def test_bad_input_raises() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        DawidSkene().fit(["t"], ["w", "v"], ["A"])
    with pytest.raises(ValueError, match="no responses"):
        DawidSkene().fit([], [], [])


def _crowdkit(
    tasks: list[str], workers: list[str], labels: list[str], gold: dict[str, str] | None = None
) -> CrowdKitDawidSkene:
    frame = pd.DataFrame({"task": tasks, "worker": workers, "label": labels})
    true_labels = pd.Series(gold) if gold else None
    return CrowdKitDawidSkene(n_iter=100, tol=1e-5).fit(frame, true_labels)


def _compare(ours: DawidSkene, theirs: CrowdKitDawidSkene) -> float:
    """Share of items with the same label; also checks the posteriors agree closely."""
    same = np.mean([theirs.labels_[t] == lab for t, lab in ours.labels_.items()])
    their_probas = theirs.probas_.loc[ours.tasks_, ours.classes_].to_numpy()
    # crowd-kit floors its final posteriors at 1e-10 without renormalising: allow for that
    assert np.abs(their_probas - ours.probas_).max() < 1e-8
    assert len(theirs.loss_history_) == ours.n_iter_
    assert np.allclose(theirs.loss_history_, ours.loss_history_, atol=1e-10)
    return float(same)


def test_same_as_crowdkit_on_llmfao(shared_data: Path) -> None:
    tasks, workers, labels = load_votes(shared_data / "llmfao" / "labels.jsonl")
    ours = DawidSkene().fit(tasks, workers, labels)
    assert len(ours.labels_) == 2139 and len(ours.workers_) == 124
    assert _compare(ours, _crowdkit(tasks, workers, labels)) == 1.0


def test_same_as_crowdkit_on_llmfao_with_gold(shared_data: Path) -> None:
    tasks, workers, labels = load_votes(shared_data / "llmfao" / "labels.jsonl")
    rng = np.random.default_rng(0)
    items = sorted(set(tasks))
    gold = {t: str(rng.choice(["A", "B", "tie"])) for t in rng.choice(items, 200, replace=False)}
    ours = DawidSkene().fit(tasks, workers, labels, gold)
    assert all(ours.labels_[t] == g for t, g in gold.items())
    assert _compare(ours, _crowdkit(tasks, workers, labels, gold)) == 1.0


@pytest.mark.parametrize("seed", range(5))
def test_same_as_crowdkit_on_random_crowds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_items, n_workers = 60, 8
    truth = rng.integers(0, 3, n_items)
    skill = rng.uniform(0.3, 0.95, n_workers)
    tasks, workers, labels = [], [], []
    for t in range(n_items):
        for w in rng.choice(n_workers, size=rng.integers(1, 5), replace=False):
            right = rng.random() < skill[w]
            tasks.append(f"t{t}")
            workers.append(f"w{w}")
            labels.append("ABC"[truth[t] if right else rng.integers(0, 3)])
    ours = DawidSkene().fit(tasks, workers, labels)
    assert _compare(ours, _crowdkit(tasks, workers, labels)) == 1.0


def test_module_doctests() -> None:
    assert doctest.testmod(ds_module).failed == 0
