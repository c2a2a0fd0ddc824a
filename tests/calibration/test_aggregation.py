"""Majority vote with explicit tie policies."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import MajorityVote
from hypothesis import given, settings
from hypothesis import strategies as st

import calibration.aggregation as agg_module
from calibration.aggregation import NO_MAJORITY, majority_vote, majority_vote_counts

pytestmark = pytest.mark.filterwarnings("ignore:::crowdkit")

ITEMS = ["x", "x", "x", "y", "y", "z"]
VOTES = ["A", "A", "B", "A", "B", "tie"]


def test_clear_majority_and_abstain_on_tie() -> None:
    assert majority_vote(ITEMS, VOTES) == {"x": "A", "y": None, "z": "tie"}


def test_tie_label_policy() -> None:
    out = majority_vote(ITEMS, VOTES, tie_policy="tie_label")
    assert out == {"x": "A", "y": "tie", "z": "tie"}
    assert majority_vote(["y", "y"], ["A", "B"], tie_policy="tie_label", tie_label="?") == {
        "y": "?"
    }


def test_random_policy_is_seeded_and_picks_only_tied_labels() -> None:
    items = ["y"] * 4
    votes = ["A", "B", "A", "B"]
    picks = {majority_vote(items, votes, tie_policy="random", seed=s)["y"] for s in range(40)}
    assert picks == {"A", "B"}  # both tied labels occur, nothing else
    first = majority_vote(ITEMS * 3, VOTES * 3, tie_policy="random", seed=7)
    assert first == majority_vote(ITEMS * 3, VOTES * 3, tie_policy="random", seed=7)


def test_unknown_policy_raises() -> None:
    with pytest.raises(ValueError, match="tie_policy"):
        majority_vote(ITEMS, VOTES, tie_policy="coin")  # type: ignore[arg-type]


def test_counts_without_votes_have_no_majority() -> None:
    out = majority_vote_counts([[0, 0, 0], [1, 3, 0], [2, 0, 2]])
    assert out.tolist() == [NO_MAJORITY, 1, NO_MAJORITY]
    rnd = majority_vote_counts([[0, 0, 0], [2, 0, 2]], random_ties=True, seed=0)
    assert rnd[0] == NO_MAJORITY and rnd[1] in (0, 2)


@given(
    st.lists(st.lists(st.integers(0, 5), min_size=4, max_size=4), min_size=1, max_size=30),
    st.integers(0, 1000),
)
@settings(max_examples=150, deadline=None)
def test_winner_always_has_the_top_count(rows: list[list[int]], seed: int) -> None:
    counts = np.array(rows)
    for random_ties in (False, True):
        won = majority_vote_counts(counts, random_ties=random_ties, seed=seed)
        for row, w in zip(counts, won, strict=True):
            top = row.max()
            n_top = (row == top).sum()
            if top == 0 or (n_top > 1 and not random_ties):
                assert w == NO_MAJORITY
            else:
                assert row[w] == top


def test_agrees_with_crowdkit_where_there_is_no_tie(shared_data: Path) -> None:
    rows = [
        json.loads(line)
        for line in (shared_data / "llmfao" / "labels.jsonl").read_text().splitlines()
    ]
    items = [r["pair_id"] for r in rows]
    votes = [r["label"] for r in rows]
    ours = majority_vote(items, votes)
    frame = pd.DataFrame({"task": items, "worker": [r["annotator"] for r in rows], "label": votes})
    theirs = MajorityVote().fit(frame)
    decided = {t: lab for t, lab in ours.items() if lab is not None}
    assert len(decided) > 1000
    assert all(theirs.labels_[t] == lab for t, lab in decided.items())
    # where we abstain, crowd-kit's shares really are tied at the top
    probas = theirs.probas_
    for t in (t for t, lab in ours.items() if lab is None):
        top = probas.loc[t].max()
        assert (np.isclose(probas.loc[t], top)).sum() > 1


def test_module_doctests() -> None:
    assert doctest.testmod(agg_module).failed == 0
