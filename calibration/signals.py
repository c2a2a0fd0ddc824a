"""What the judges said about each pair, as plain data: the input of calibration and routing.

A :class:`PairSignals` gathers, for one pair, every judge's verdicts in both presentation orders
(always in the pair's **original** frame: ``"A"`` means ``response_a`` is better), the
self-reported and log-probability confidences, and what is known about the pair itself (meta
fields for per-slice reports, response lengths for the length-preference statistic).

:func:`signals_from_records` builds them from dictionaries in the interchange format of
``judgments.jsonl`` (and, optionally, ``pairs.jsonl``), so benchmarks and tests need no database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "VERDICTS",
    "JudgeSignals",
    "PairSignals",
    "majority_label",
    "signals_from_records",
]

#: Every verdict a judge may give, in the original frame.
VERDICTS: tuple[str, ...] = ("A", "B", "tie", "both_bad")


@dataclass(frozen=True)
class JudgeSignals:
    """One judge's verdicts on one pair, from the A-first (``ab``) and B-first (``ba``) calls.

    Both labels are in the original frame; ``None`` means the call is missing or its answer
    could not be parsed. ``unparseable_orders`` names the orders whose call was made but gave no
    usable verdict (a judge asked in one order only has ``ba=None`` and nothing unparseable).
    Confidences are probabilities in [0, 1] or ``None``.
    """

    judge: str
    ab: str | None
    ba: str | None
    confidence_ab: float | None = None
    confidence_ba: float | None = None
    logprob_ab: float | None = None
    logprob_ba: float | None = None
    unparseable_orders: tuple[str, ...] = ()

    @property
    def both_orders(self) -> bool:
        """True when both orders gave a parsed verdict (position bias can be seen)."""
        return self.ab is not None and self.ba is not None

    @property
    def flipped(self) -> bool:
        """True when both orders gave a verdict and the verdicts differ."""
        return self.both_orders and self.ab != self.ba

    @property
    def consistent(self) -> bool:
        """True when both orders gave a verdict and the verdicts are equal."""
        return self.ab is not None and self.ab == self.ba

    @property
    def verdicts(self) -> tuple[str, ...]:
        """The parsed verdicts (zero, one or two of them)."""
        return tuple(v for v in (self.ab, self.ba) if v is not None)


@dataclass(frozen=True)
class PairSignals:
    """Everything the panel said about one pair."""

    pair_id: str
    judges: Mapping[str, JudgeSignals]
    injection_suspected: bool = False
    meta: Mapping[str, Any] = field(default_factory=dict)
    length_a: int = 0
    length_b: int = 0

    @property
    def judged(self) -> bool:
        """True when at least one judge gave at least one parsed verdict."""
        return any(j.verdicts for j in self.judges.values())


def _probability(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if 0.0 <= number <= 1.0 else None


def _verdict(value: Any) -> str | None:
    return value if isinstance(value, str) and value in VERDICTS else None


def signals_from_records(
    judgment_records: Iterable[Mapping[str, Any]],
    pair_records: Iterable[Mapping[str, Any]] | None = None,
) -> list[PairSignals]:
    """Group interchange-format judgment dicts into one :class:`PairSignals` per pair.

    ``judgment_records`` carry ``pair_id``, ``judge``, ``order`` (``"AB"``/``"BA"``),
    ``winner`` (original frame or ``None``) and optionally ``confidence``,
    ``logprob_confidence`` and ``injection_suspected``. When a (pair, judge, order) occurs more
    than once, the last record wins (records are taken to be in chronological order).
    ``pair_records`` (``id``, ``response_a``, ``response_b``, ``meta``) add lengths and meta;
    pairs that appear only there get empty signals (they were not judged).
    Pairs come out sorted by id.
    """
    calls, injection = _calls_by_pair(judgment_records)
    pairs: dict[str, Mapping[str, Any]] = {}
    for pair in pair_records or ():
        pairs[str(pair["id"])] = pair
    out: list[PairSignals] = []
    for pair_id in sorted(set(calls) | set(pairs)):
        judges: dict[str, JudgeSignals] = {}
        for judge, by_order in sorted(calls.get(pair_id, {}).items()):
            judges[judge] = _judge_signals(judge, by_order)
        pair = pairs.get(pair_id, {})
        out.append(
            PairSignals(
                pair_id=pair_id,
                judges=judges,
                injection_suspected=injection.get(pair_id, False),
                meta=dict(pair.get("meta") or {}),
                length_a=len(str(pair.get("response_a", ""))),
                length_b=len(str(pair.get("response_b", ""))),
            )
        )
    return out


def _calls_by_pair(
    judgment_records: Iterable[Mapping[str, Any]],
) -> tuple[dict[str, dict[str, dict[str, Mapping[str, Any]]]], dict[str, bool]]:
    """The last record per (pair, judge, order), and whether a pair has any injection flag."""
    calls: dict[str, dict[str, dict[str, Mapping[str, Any]]]] = {}
    injection: dict[str, bool] = {}
    for record in judgment_records:
        pair_id = str(record["pair_id"])
        order = record["order"]
        if order not in ("AB", "BA"):
            raise ValueError(
                f"judgment for pair {pair_id!r}: order must be AB or BA, got {order!r}"
            )
        calls.setdefault(pair_id, {}).setdefault(str(record["judge"]), {})[order] = record
        injection[pair_id] = injection.get(pair_id, False) or bool(
            record.get("injection_suspected", False)
        )
    return calls, injection


def _judge_signals(judge: str, by_order: Mapping[str, Mapping[str, Any]]) -> JudgeSignals:
    """One judge's signals on one pair from its records keyed by presentation order."""
    ab, ba = by_order.get("AB", {}), by_order.get("BA", {})
    return JudgeSignals(
        judge=judge,
        ab=_verdict(ab.get("winner")),
        ba=_verdict(ba.get("winner")),
        confidence_ab=_probability(ab.get("confidence")),
        confidence_ba=_probability(ba.get("confidence")),
        logprob_ab=_probability(ab.get("logprob_confidence")),
        logprob_ba=_probability(ba.get("logprob_confidence")),
        unparseable_orders=tuple(
            order
            for order, record in sorted(by_order.items())
            if _verdict(record.get("winner")) is None
        ),
    )


def majority_label(labels: Sequence[str]) -> str | None:
    """The label given by more than half of ``labels``, else ``None`` (no strict majority)."""
    top = Counter(labels).most_common(1)
    if not top or 2 * top[0][1] <= len(labels):
        return None
    return top[0][0]
