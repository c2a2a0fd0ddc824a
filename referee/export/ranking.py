"""Final labels of k-wise pairs turned into one ranking per source record (issue 22).

The pairs of one record share its ``group_id``; their final labels (A, B, tie; both-bad is
counted but not fitted; pending and unresolved pairs are left out) are fitted with
:class:`calibration.bradley_terry.BradleyTerry` and written by :mod:`formats.ranking`. A pair
without a ``group_id`` (not from a k-wise record) is counted in ``skipped``, never ranked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from calibration.bradley_terry import BradleyTerry, Outcome
from formats.ranking import RankedResponse, Ranking
from formats.rows import LabeledPair

#: Bradley-Terry's virtual comparisons per response (see calibration.bradley_terry).
PRIOR = 0.5
_SHARE = {"A": 1.0, "B": 0.0, "tie": 0.5}

__all__ = ["PRIOR", "rank_groups", "ranking_of"]


@dataclass
class _Group:
    rows: list[LabeledPair]
    texts: dict[str, str]  # ref -> response text, in first-seen order


def rank_groups(
    rows: Iterable[LabeledPair],
    *,
    on_skip: Callable[[str, str], None] | None = None,
    prior: float = PRIOR,
) -> Iterator[Ranking]:
    """One :class:`Ranking` per ``group_id`` among ``rows``, in order of group id.

    Holds the rows in memory, grouped (a record's pairs need not be adjacent in pair-id order).
    ``on_skip(reason, pair_id)`` hears of each row without a group (reason ``not_k_wise``).
    """
    groups: dict[str, _Group] = {}
    for row in rows:
        if row.group_id is None:
            if on_skip is not None:
                on_skip("not_k_wise", row.pair_id)
            continue
        group = groups.setdefault(row.group_id, _Group([], {}))
        group.rows.append(row)
        group.texts.setdefault(_ref(row, "a"), row.response_a)
        group.texts.setdefault(_ref(row, "b"), row.response_b)
    for group_id in sorted(groups):
        yield ranking_of(group_id, groups[group_id].rows, groups[group_id].texts, prior=prior)


def _ref(row: LabeledPair, side: str) -> str:
    """Which response of the record a side is: its ref, else the text itself."""
    if side == "a":
        return row.response_a_ref if row.response_a_ref is not None else row.response_a
    return row.response_b_ref if row.response_b_ref is not None else row.response_b


def ranking_of(
    group_id: str, rows: list[LabeledPair], texts: dict[str, str], *, prior: float = PRIOR
) -> Ranking:
    """Fit one record's labeled pairs and order its responses, best first."""
    refs = list(texts)
    index = {ref: n for n, ref in enumerate(refs)}
    outcomes: list[Outcome] = []
    both_bad: Counter[str] = Counter()
    used: list[str] = []
    for row in rows:
        a, b = _ref(row, "a"), _ref(row, "b")
        if row.label in _SHARE:
            outcomes.append((index[a], index[b], _SHARE[row.label]))
        elif row.label == "both_bad":
            both_bad.update((a, b))
        else:
            continue  # pending or unresolved: no outcome yet
        used.append(row.pair_id)
    fit = BradleyTerry(prior=prior).fit(len(refs), outcomes)
    responses = tuple(
        RankedResponse(
            rank=rank,
            ref=refs[i],
            text=texts[refs[i]],
            score=float(fit.scores_[i]),
            lower=float(fit.lower_[i]),
            upper=float(fit.upper_[i]),
            wins=int(fit.wins_[i]),
            losses=int(fit.losses_[i]),
            ties=int(fit.ties_[i]),
            both_bad=both_bad[refs[i]],
            comparisons=int(fit.comparisons_[i]) + both_bad[refs[i]],
        )
        for rank, i in enumerate(fit.order_, start=1)
    )
    first = rows[0]
    return Ranking(group_id, first.dataset, first.prompt, first.messages, responses, tuple(used))
