"""Judges that vote alike count as one voter: clusters by verdict agreement, no gold read.

Gold-free weights (:func:`calibration.scores.reliability_weights`) and the Dawid-Skene posterior
assume the judges err independently given the true label (Dawid and Skene 1979; Nitzan and
Paroush 1982). Judges of one family, or reward models on one backbone, do not: five near-copies
of a weak judge then outvote a strong one, and Dawid-Skene reads their agreement as accuracy.
That assumption cannot be checked without gold, so it is not made for judges whose verdicts
are nearly the same: two judges whose verdicts agree on at least
:data:`CLUSTER_AGREEMENT` of the pairs both judged (at least :data:`MIN_SHARED_PAIRS` of them)
are linked, and each connected group (single linkage) is one *cluster*. A cluster votes once:
the weighted vote splits the cluster's weight evenly among its members, and Dawid-Skene sees
one representative per cluster (the member that agrees most with the rest of it).

A judge's verdict on a pair is the label most of its parsed calls give (its A-first call on a
tie between orders), so a judge asked in both orders and a reward model scoring once compare.

Example::

    >>> from calibration.signals import JudgeSignals, PairSignals
    >>> pairs = [PairSignals(f"p{i}", {"r1": JudgeSignals("r1", v, None),
    ...          "r2": JudgeSignals("r2", v, None), "j": JudgeSignals("j", "A", "A")})
    ...          for i, v in enumerate("ABABABABABABABABABABAB")]
    >>> judge_clusters(pairs, ["j", "r1", "r2"])
    [('j',), ('r1', 'r2')]
"""

from __future__ import annotations

from collections.abc import Sequence

from calibration.signals import PairSignals

__all__ = [
    "CLUSTER_AGREEMENT",
    "MIN_SHARED_PAIRS",
    "judge_clusters",
    "pairwise_agreement",
    "representatives",
]

#: Verdict agreement at or above which two judges are taken as one voter. Independent judges
#: right 80% of the time agree on 0.68 of pairs, right 90% on 0.82; judges that agree more are
#: either both near-perfect (then one of them loses little) or err together (then counting
#: them twice is what misleads the vote). Without gold the two cannot be told apart.
CLUSTER_AGREEMENT = 0.85
#: Fewest pairs judged by both before two judges may be linked (fewer: too little to tell).
MIN_SHARED_PAIRS = 20


def _verdict(pair: PairSignals, judge: str) -> str | None:
    js = pair.judges.get(judge)
    if js is None:
        return None
    calls = [v for v in (js.ab, js.ba) if v is not None]
    if not calls:
        return None
    return max(dict.fromkeys(calls), key=calls.count)  # the A-first call on a tie


def pairwise_agreement(
    signals: Sequence[PairSignals], judges: Sequence[str]
) -> dict[tuple[str, str], tuple[int, int]]:
    """``(agreeing, shared)`` pair counts for every two judges (in ``judges`` order)."""
    verdicts = {j: [_verdict(p, j) for p in signals] for j in judges}
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for i, a in enumerate(judges):
        for b in judges[i + 1 :]:
            both = [(x, y) for x, y in zip(verdicts[a], verdicts[b], strict=True) if x and y]
            out[(a, b)] = (sum(x == y for x, y in both), len(both))
    return out


def judge_clusters(
    signals: Sequence[PairSignals],
    judges: Sequence[str],
    threshold: float = CLUSTER_AGREEMENT,
) -> list[tuple[str, ...]]:
    """Connected groups of judges linked by agreement ≥ ``threshold`` (module doc), each in
    ``judges`` order, ordered by their first member."""
    parent = {j: j for j in judges}

    def root(j: str) -> str:
        while parent[j] != j:
            j = parent[j]
        return j

    for (a, b), (agree, shared) in pairwise_agreement(signals, judges).items():
        if shared >= MIN_SHARED_PAIRS and agree / shared >= threshold:
            parent[root(b)] = root(a)
    groups: dict[str, list[str]] = {}
    for j in judges:
        groups.setdefault(root(j), []).append(j)
    return sorted((tuple(g) for g in groups.values()), key=lambda g: list(judges).index(g[0]))


def representatives(
    signals: Sequence[PairSignals], clusters: Sequence[tuple[str, ...]]
) -> list[str]:
    """One judge per cluster: the member agreeing with the others of its cluster on the largest
    share of shared pairs (the first on ties; a lone judge represents itself)."""
    out: list[str] = []
    for cluster in clusters:
        if len(cluster) == 1:
            out.append(cluster[0])
            continue
        agreement = pairwise_agreement(signals, cluster)
        totals = dict.fromkeys(cluster, 0.0)
        for (a, b), (agree, shared) in agreement.items():
            share = agree / shared if shared else 0.0
            totals[a] += share
            totals[b] += share
        out.append(max(cluster, key=lambda j: totals[j]))
    return out
