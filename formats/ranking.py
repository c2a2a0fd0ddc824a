"""Rankings of k responses to one prompt, and the DPO rows they give (issue 22).

A k-wise record (one prompt, k responses) becomes pairs at ingest, each pair remembering its
record (``group_id``) and which responses A and B are (``response_a_ref`` / ``response_b_ref``).
The pairs' final labels are fitted per record with Bradley-Terry
(:mod:`calibration.bradley_terry`, done by :mod:`referee.export.ranking`); this module holds the
result and writes it.

**Ranking file** (``referee export --format ranking``, JSON Lines, one row per record):
``group_id``, ``dataset``, ``prompt`` (the flat text), ``messages`` (the conversation, or null),
``pairs`` (labeled pairs fitted), ``pair_ids`` and ``responses`` best first, each
``{rank, ref, text, score, lower, upper, wins, losses, ties, both_bad, comparisons}``:
``score`` is the Bradley-Terry log-strength, ``lower``/``upper`` its 95% interval; a tie counts
half a win to each side in the fit; a both-bad label is left out of the fit (it says neither
reply is acceptable, not which is better) and counted in ``both_bad``.

**DPO from rankings** (``referee export --format dpo --from-ranking best-worst|all-ordered``):
``best-worst`` gives one row per record, the first-ranked response as ``chosen`` and the last as
``rejected``; ``all-ordered`` gives every pair ``(i, j)`` with ``i`` ranked above ``j``. A pair
whose two scores are equal (say, all ties, or two never-compared responses) is no preference and
gives no row. Rows have the columns of :mod:`formats.dpo` in the same style plus ``group_id``,
``chosen_ref``, ``rejected_ref`` and ``margin`` (the score difference); ``pair_id`` is
``<group_id>:<chosen_ref>><rejected_ref>`` and ``source`` is ``ranking``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, get_args

import orjson

from formats.dpo import Style
from formats.typed_jsonl import write_typed_jsonl

RankingPairs = Literal["best-worst", "all-ordered"]
RANKING_PAIRS: Final[tuple[str, ...]] = get_args(RankingPairs)

__all__ = [
    "RANKING_PAIRS",
    "RankedResponse",
    "Ranking",
    "RankingPairs",
    "ranking_dpo_records",
    "write_ranking_dpo",
    "write_rankings",
]


@dataclass(frozen=True, slots=True)
class RankedResponse:
    """One response of a record, where the fit put it and the outcomes it had."""

    rank: int
    ref: str
    text: str
    score: float
    lower: float
    upper: float
    wins: int
    losses: int
    ties: int
    both_bad: int
    comparisons: int

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "rank": self.rank,
            "ref": self.ref,
            "text": self.text,
            "score": round(self.score, 6),
            "lower": round(self.lower, 6),
            "upper": round(self.upper, 6),
            "wins": self.wins,
            "losses": self.losses,
            "ties": self.ties,
            "both_bad": self.both_bad,
            "comparisons": self.comparisons,
        }


@dataclass(frozen=True, slots=True)
class Ranking:
    """The responses of one k-wise record, best first."""

    group_id: str
    dataset: str
    prompt: str
    messages: list[dict[str, str]] | None
    responses: tuple[RankedResponse, ...]
    pair_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """One row of the ranking file (see the module docstring)."""
        return {
            "group_id": self.group_id,
            "dataset": self.dataset,
            "prompt": self.prompt,
            "messages": self.messages,
            "pairs": len(self.pair_ids),
            "pair_ids": list(self.pair_ids),
            "responses": [r.to_json() for r in self.responses],
        }

    def prompt_for(self, style: Style) -> Any:
        """The prompt as a DPO row carries it in ``style``."""
        if style == "standard":
            return self.prompt
        return self.messages or [{"role": "user", "content": self.prompt}]


def ranking_dpo_records(
    ranking: Ranking, pairs: RankingPairs, style: Style
) -> Iterator[dict[str, Any]]:
    """The DPO rows of one ranking (see the module docstring)."""
    ranked = ranking.responses
    if len(ranked) < 2:
        return
    if pairs == "best-worst":
        ordered = [(ranked[0], ranked[-1])]
    else:
        ordered = [(hi, lo) for n, hi in enumerate(ranked) for lo in ranked[n + 1 :]]
    for chosen, rejected in ordered:
        if round(chosen.score, 6) <= round(rejected.score, 6):
            continue  # equal strengths (as the ranking file shows them): no preference
        yield {
            "prompt": ranking.prompt_for(style),
            "chosen": _reply(chosen.text, style),
            "rejected": _reply(rejected.text, style),
            "pair_id": f"{ranking.group_id}:{chosen.ref}>{rejected.ref}",
            "source": "ranking",
            "group_id": ranking.group_id,
            "chosen_ref": chosen.ref,
            "rejected_ref": rejected.ref,
            "margin": round(chosen.score - rejected.score, 6),
        }


def _reply(text: str, style: Style) -> Any:
    return text if style == "standard" else [{"role": "assistant", "content": text}]


def write_rankings(rankings: Iterable[Ranking], out: Path) -> int:
    """One :meth:`Ranking.to_json` per line; returns rankings written."""
    written = 0
    with out.open("wb") as handle:
        for ranking in rankings:
            handle.write(orjson.dumps(ranking.to_json(), option=orjson.OPT_APPEND_NEWLINE))
            written += 1
    return written


def write_ranking_dpo(
    rankings: Iterable[Ranking], out: Path, *, pairs: RankingPairs, style: Style
) -> int:
    """DPO rows from ``rankings`` as JSON Lines (:mod:`formats.typed_jsonl`); returns rows."""
    records = (rec for ranking in rankings for rec in ranking_dpo_records(ranking, pairs, style))
    return write_typed_jsonl(records, out)
