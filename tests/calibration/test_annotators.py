"""Annotator quality: gold accuracy, kappa with the majority of others, pause rule, timing."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from calibration.annotators import (
    PauseRule,
    accuracy_upper_bound,
    annotator_quality,
    modified_z_scores,
)

LABELS = ["A", "B", "tie"]


def crowd(n_items: int = 30, seed: int = 0) -> tuple[list[str], list[str], list[str], dict]:
    """Three good annotators (g1..g3) and a random clicker (bad) on every item."""
    rng = np.random.default_rng(seed)
    truth = [LABELS[i] for i in rng.integers(0, 3, n_items)]
    items, people, labels = [], [], []
    for t, true in enumerate(truth):
        for person in ("g1", "g2", "g3", "bad"):
            careless = person == "bad" or rng.random() > 0.9
            label = LABELS[rng.integers(0, 3)] if careless else true
            items.append(f"p{t}")
            people.append(person)
            labels.append(label)
    gold = {f"p{t}": truth[t] for t in range(n_items)}
    return items, people, labels, gold


def test_bad_annotator_is_paused_good_ones_are_not() -> None:
    items, people, labels, gold = crowd()
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, gold)}
    assert rows["bad"].paused
    assert any("gold accuracy" in r for r in rows["bad"].reasons)
    for good in ("g1", "g2", "g3"):
        assert rows[good].status == "ok", rows[good]
        assert rows[good].gold_accuracy is not None and rows[good].gold_accuracy >= 0.7
    assert rows["g1"].items_labeled == rows["g1"].gold_items == 30


def test_too_few_gold_items_means_needs_gold() -> None:
    items, people, labels, gold = crowd()
    few = dict(list(gold.items())[:5])
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, few)}
    assert all(rows[g].status == "needs_gold" for g in ("g1", "g2", "g3"))
    assert all(q.gold_items == 5 for q in rows.values())
    # the random clicker is paused all the same (0 of 5 gold right: conclusive)
    assert rows["bad"].paused and "upper bound" in rows["bad"].reasons[0]
    strict = annotator_quality(items, people, labels, few, rule=PauseRule(min_gold=5))
    assert any(q.paused for q in strict)


def test_issue_14_two_reviewers_the_saboteur_is_paused_not_the_careful_one() -> None:
    # two reviewers answer the same 20 items; 10 of them are gold for "careful" (9 right),
    # "saboteur" got 5 gold checks and answered every one (and every item) wrongly
    truth = {f"p{i}": "AB"[i % 2] for i in range(20)}
    flip = {"A": "B", "B": "A"}
    items, people, labels = [], [], []
    for i, (p, t) in enumerate(truth.items()):
        items += [p, p]
        people += ["careful", "saboteur"]
        labels += [t if i != 0 else flip[t], flip[t]]
    gold_careful = {f"p{i}": truth[f"p{i}"] for i in range(10)}
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, gold_careful)}
    assert rows["careful"].status == "ok" and rows["careful"].gold_accuracy == pytest.approx(0.9)
    assert rows["saboteur"].paused and "upper bound" in rows["saboteur"].reasons[0]
    # with two answers per item there is no majority of others: kappa is not used at all
    assert rows["careful"].kappa_with_majority is None and rows["careful"].majority_items == 0
    # the saboteur with only 5 gold checks (0 right) is paused: 95% upper bound 0.451 < 0.7
    five = {f"p{i}": truth[f"p{i}"] for i in range(5)}
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, five)}
    assert rows["saboteur"].paused and rows["saboteur"].gold_items == 5
    assert "0.451" in rows["saboteur"].reasons[0]
    assert rows["careful"].status == "needs_gold"  # 4 of 5: cannot be ruled out yet


def test_accuracy_upper_bound_by_hand() -> None:
    assert accuracy_upper_bound(0, 5) == pytest.approx(1 - 0.05 ** (1 / 5))  # 0.4507
    assert accuracy_upper_bound(5, 5) == 1.0
    assert accuracy_upper_bound(0, 0) == 1.0


def test_gold_accuracy_and_kappa_by_hand() -> None:
    # items 1-4; c is always with the majority of a and b where they agree
    items = ["1", "1", "1", "2", "2", "2", "3", "3", "3", "4", "4", "4"]
    people = ["a", "b", "c"] * 4
    labels = ["A", "A", "A", "B", "B", "A", "A", "B", "B", "B", "B", "B"]
    gold = {"1": "A", "2": "B", "3": "B"}
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, gold)}
    c = rows["c"]
    assert c.gold_items == 3 and c.gold_accuracy == pytest.approx(2 / 3)
    # majority of a, b: item1 A, item2 B, item3 tie (skipped), item4 B; c said A, A, -, B
    assert c.majority_items == 3
    assert c.kappa_with_majority == pytest.approx(
        cohen_kappa_score(["A", "A", "B"], ["A", "B", "B"])
    )


def test_kappa_with_majority_matches_a_loop_over_items() -> None:
    items, people, labels, gold = crowd(60, seed=4)
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, gold)}
    by_item: dict[str, list[tuple[str, str]]] = {}
    for i, p, lab in zip(items, people, labels, strict=True):
        by_item.setdefault(i, []).append((p, lab))
    for person in ("g1", "bad"):
        mine, theirs = [], []
        for votes in by_item.values():
            own = [lab for p, lab in votes if p == person]
            others = Counter(lab for p, lab in votes if p != person)
            top = others.most_common()
            if not own or not top or (len(top) > 1 and top[0][1] == top[1][1]):
                continue
            mine.append(own[0])
            theirs.append(top[0][0])
        assert rows[person].majority_items == len(mine)
        assert rows[person].kappa_with_majority == pytest.approx(
            cohen_kappa_score(mine, theirs, labels=LABELS), abs=1e-12
        )


def test_low_kappa_pauses_only_without_enough_gold() -> None:
    items, people, labels, gold = crowd()
    rule = PauseRule(min_accuracy=0.0, min_kappa=0.5)
    no_gold = {q.annotator: q for q in annotator_quality(items, people, labels, {}, rule=rule)}
    assert no_gold["bad"].paused and all("kappa" in r for r in no_gold["bad"].reasons)
    # gold decides first: with 30 gold items (and no accuracy floor) kappa cannot pause
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, gold, rule=rule)}
    assert rows["bad"].status == "ok"


def test_kappa_counts_only_items_with_three_answers() -> None:
    items = ["1", "1", "2", "2", "2"]
    people = ["a", "b", "a", "b", "c"]
    labels = ["A", "B", "A", "A", "A"]
    rows = {q.annotator: q for q in annotator_quality(items, people, labels)}
    assert rows["a"].majority_items == 1  # item 1 has two answers: left out


def test_modified_z_scores_by_hand() -> None:
    z = modified_z_scores([1.0, 2.0, 3.0, 4.0, 100.0])  # median 3, MAD 1
    assert z.tolist() == pytest.approx([0.6745 * d for d in (-2, -1, 0, 1, 97)])
    same = modified_z_scores([5.0, 5.0, 5.0, 5.0, 1.0])  # MAD 0 -> mean absolute deviation
    assert same[-1] < -3.5 and same[0] == 0.0
    assert modified_z_scores([2.0, 2.0]).tolist() == [0.0, 0.0]


def test_time_outliers() -> None:
    items, people, labels, gold = crowd(40, seed=1)
    rng = np.random.default_rng(2)
    durations: list[float | None] = []
    for p in people:
        if p == "bad":
            durations.append(float(rng.uniform(0.5, 1.5)))  # clicks through
        elif p == "g3":
            durations.append(None)  # not recorded
        else:
            durations.append(float(rng.uniform(40, 80)))
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, gold, durations)}
    assert rows["bad"].fast_items == 40 and rows["bad"].slow_items == 0
    assert rows["g1"].fast_items == 0 and rows["g1"].median_duration_s is not None
    assert rows["g3"].timed_items == 0 and rows["g3"].median_duration_s is None
    # three annotators have durations: bad's median is far below g1's and g2's
    assert rows["bad"].time_outlier == "fast"
    assert rows["g1"].time_outlier is None


def test_annotator_time_outlier_among_many() -> None:
    items, people, labels, durations = [], [], [], []
    for person in range(8):
        for t in range(5):
            items.append(f"p{t}")
            people.append(f"w{person}")
            labels.append("A")
            durations.append(1.0 if person == 0 else 60.0 + person + t)
    rows = {q.annotator: q for q in annotator_quality(items, people, labels, {}, durations)}
    assert rows["w0"].time_outlier == "fast"
    assert all(rows[f"w{p}"].time_outlier is None for p in range(1, 8))


def test_input_validation() -> None:
    with pytest.raises(ValueError, match="same length"):
        annotator_quality(["a"], ["x", "y"], ["A"])
    with pytest.raises(ValueError, match="durations"):
        annotator_quality(["a"], ["x"], ["A"], durations=[1.0, 2.0])


def test_as_dict_is_json_ready() -> None:
    items, people, labels, gold = crowd(12)
    doc = annotator_quality(items, people, labels, gold)[0].as_dict()
    assert {"annotator", "gold_accuracy", "kappa_with_majority", "paused", "status"} <= set(doc)
