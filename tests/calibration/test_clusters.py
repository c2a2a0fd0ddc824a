"""Judge clusters by verdict agreement, and the weights and scores that count a cluster once."""

from __future__ import annotations

import numpy as np

from calibration.clusters import (
    CLUSTER_AGREEMENT,
    judge_clusters,
    pairwise_agreement,
    representatives,
)
from calibration.scores import reliability_weights
from calibration.signals import JudgeSignals, PairSignals
from calibration.union import panel_score


def _copies_and_one_strong(
    n: int, seed: int, copies: int = 5
) -> tuple[list[PairSignals], dict[str, str]]:
    """One strong judge (right 90%, one order) and ``copies`` reward models that all repeat
    one weak backbone verdict (right 65%), each changing it on 3% of pairs."""
    rng = np.random.default_rng(seed)
    signals, gold = [], {}
    for i in range(n):
        truth = "A" if rng.random() < 0.5 else "B"
        other = "B" if truth == "A" else "A"
        backbone = truth if rng.random() < 0.65 else other
        judges = {"strong": JudgeSignals("strong", truth if rng.random() < 0.9 else other, None)}
        for k in range(copies):
            v = backbone if rng.random() >= 0.03 else ("B" if backbone == "A" else "A")
            judges[f"rm-{k}"] = JudgeSignals(f"rm-{k}", v, None, confidence_ab=0.8)
        pid = f"c{i:04d}"
        signals.append(PairSignals(pid, judges))
        gold[pid] = truth
    return signals, gold


def test_agreement_counts_by_hand() -> None:
    pairs = [
        PairSignals("p1", {"a": JudgeSignals("a", "A", "A"), "b": JudgeSignals("b", "A", None)}),
        PairSignals("p2", {"a": JudgeSignals("a", "B", "A"), "b": JudgeSignals("b", "B", None)}),
        PairSignals("p3", {"a": JudgeSignals("a", "B", "B"), "b": JudgeSignals("b", None, None)}),
    ]
    # p2: a is split between orders, its A-first call (B) stands; p3: b did not answer
    assert pairwise_agreement(pairs, ["a", "b"]) == {("a", "b"): (2, 2)}


def test_near_copies_form_one_cluster_and_the_strong_judge_stays_alone() -> None:
    signals, _ = _copies_and_one_strong(300, seed=1)
    panel = ["strong", *(f"rm-{k}" for k in range(5))]
    clusters = judge_clusters(signals, panel)
    assert clusters == [("strong",), tuple(f"rm-{k}" for k in range(5))]
    assert representatives(signals, clusters)[0] == "strong"
    # below the threshold nothing links: the threshold is what decides
    assert len(judge_clusters(signals, panel, threshold=0.999)) == 6
    agree, shared = pairwise_agreement(signals, ["rm-0", "rm-1"])[("rm-0", "rm-1")]
    assert agree / shared >= CLUSTER_AGREEMENT


def test_too_few_shared_pairs_never_link() -> None:
    signals, _ = _copies_and_one_strong(10, seed=2)  # agree, but on 10 pairs only
    assert len(judge_clusters(signals, ["rm-0", "rm-1"])) == 2


def test_a_cluster_votes_once_so_copies_cannot_outvote_the_strong_judge() -> None:
    signals, gold = _copies_and_one_strong(400, seed=3)
    panel = ["strong", *(f"rm-{k}" for k in range(5))]
    weights = reliability_weights(signals, panel)
    assert weights is not None
    copies = sum(weights[f"rm-{k}"] for k in range(5))
    assert weights["strong"] > copies  # the five together weigh less than the strong judge
    assert len({round(weights[f"rm-{k}"], 12) for k in range(5)}) == 1  # split evenly
    scorer = panel_score(signals, panel, {j: 1 for j in panel})
    assert scorer is not None and scorer.kind == "weighted"
    labels, _ = scorer.score_many(signals)
    accuracy = np.mean([lab == gold[p.pair_id] for p, lab in zip(signals, labels, strict=True)])
    assert accuracy > 0.85  # the strong judge's 90%, not the backbone's 65%
