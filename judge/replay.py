"""The replay judge: answers from verdicts recorded in a ``judgments.jsonl`` interchange file.

A recorded winner is in the original frame; the replay provider turns it into the answer a
judge shown that order would have given ("first"/"second"/...), so the verdict goes through the
same mapping back to A/B as a live model's. Unknown pairs are an error, never a guess; a recorded
``null`` winner comes back unparseable with its raw text.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judge.errors import JudgeConfigError, ReplayMissError
from judge.labels import LABELS, ORDERS, Label, Order
from judge.mapping import to_shown
from judge.provider import ProviderAnswer
from judge.types import PairText

#: The prompt version of recorded verdicts that name none (their prompt is not ours to know).
RECORDED_PROMPT_VERSION = "recorded"


@dataclass(frozen=True)
class RecordedVerdict:
    """One line of a judgments file."""

    winner: Label | None
    confidence: float | None
    raw: str | None
    logprob_confidence: float | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    prompt_version: str = RECORDED_PROMPT_VERSION


RecordKey = tuple[str, Order]  # (pair_id, order)


@dataclass(frozen=True)
class ReplayFile:
    """Every recorded verdict of a judgments file, by judge name then (pair_id, order)."""

    path: str
    judges: dict[str, dict[RecordKey, RecordedVerdict]]


_CACHE: dict[tuple[str, int, int], ReplayFile] = {}
_CACHE_LOCK = threading.Lock()


def _field_error(path: Path, lineno: int, name: str, why: str) -> JudgeConfigError:
    return JudgeConfigError(f"{path}:{lineno}: field {name!r} {why}")


def _parse_line(path: Path, lineno: int, obj: Any) -> tuple[str, RecordKey, RecordedVerdict]:
    if not isinstance(obj, dict):
        raise JudgeConfigError(f"{path}:{lineno}: expected a JSON object")
    for name in ("pair_id", "judge"):
        if not isinstance(obj.get(name), str) or not obj[name]:
            raise _field_error(path, lineno, name, "must be a non-empty string")
    order = obj.get("order")
    if order not in ORDERS:
        raise _field_error(path, lineno, "order", f"must be AB or BA, got {order!r}")
    winner = obj.get("winner")
    if winner is not None and winner not in LABELS:
        raise _field_error(path, lineno, "winner", f"must be one of {LABELS} or null")
    numbers: dict[str, float | None] = {}
    for name, high in (
        ("confidence", 1.0),
        ("logprob_confidence", 1.0),
        ("tokens_in", math.inf),
        ("tokens_out", math.inf),
        ("cost", math.inf),
    ):
        value = obj.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= high
        ):
            bound = "in [0, 1]" if high == 1.0 else ">= 0"
            raise _field_error(path, lineno, name, f"must be a number {bound} or null")
        numbers[name] = None if value is None else float(value)
    raw = obj.get("raw")
    if raw is not None and not isinstance(raw, str):
        raise _field_error(path, lineno, "raw", "must be a string or null")
    version = obj.get("prompt_version") or RECORDED_PROMPT_VERSION
    if not isinstance(version, str):
        raise _field_error(path, lineno, "prompt_version", "must be a string or null")
    verdict = RecordedVerdict(
        winner=winner,
        confidence=numbers["confidence"],
        raw=raw,
        logprob_confidence=numbers["logprob_confidence"],
        tokens_in=int(numbers["tokens_in"] or 0),
        tokens_out=int(numbers["tokens_out"] or 0),
        cost=numbers["cost"] or 0.0,
        prompt_version=version,
    )
    return obj["judge"], (obj["pair_id"], order), verdict


def load_replay_file(path: str | Path) -> ReplayFile:
    """Read and validate a judgments file (cached while the file is unchanged).

    Raises :class:`JudgeConfigError` naming file, line and field on bad input.
    """
    file = Path(path)
    try:
        stat = file.stat()
    except OSError:
        raise JudgeConfigError(f"{file}: judgments file not found") from None
    key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    judges: dict[str, dict[RecordKey, RecordedVerdict]] = {}
    try:
        with file.open(encoding="utf-8") as handle:
            for lineno, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise JudgeConfigError(f"{file}:{lineno}: not valid JSON ({exc.msg})") from None
                judge, record_key, verdict = _parse_line(file, lineno, obj)
                judges.setdefault(judge, {}).setdefault(record_key, verdict)
    except (OSError, UnicodeDecodeError) as exc:
        raise JudgeConfigError(f"{file}: cannot read judgments file ({exc})") from exc
    if not judges:
        raise JudgeConfigError(f"{file}: no recorded verdicts in the file")
    loaded = ReplayFile(path=str(file), judges=judges)
    with _CACHE_LOCK:
        _CACHE[key] = loaded
    return loaded


def recorded_judges(path: str | Path) -> set[str]:
    """The judge names recorded in a judgments file."""
    return set(load_replay_file(path).judges)


#: Characters per token for the estimate of a recorded call's size (the usual rule of thumb
#: for English text with GPT tokenizers, OpenAI's "about 4 characters per token").
CHARS_PER_TOKEN = 4
#: Tokens a judge prompt adds around the pair (instructions, rubric, answer format).
PROMPT_OVERHEAD_TOKENS = 200


def estimate_tokens(text: str) -> int:
    """Tokens in ``text`` by the 4-characters-per-token rule (at least 1 for non-empty text)."""
    return -(-len(text) // CHARS_PER_TOKEN)


@dataclass(frozen=True)
class ReplayPrices:
    """Dollars per million input and output tokens for a replayed judge."""

    input_per_mtok: float
    output_per_mtok: float

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """Dollars for one call."""
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6


class ReplayProvider:
    """A provider answering from one recorded judge's verdicts; makes no network call.

    With ``prices``, each answer costs what the model would have charged: the recorded token
    counts when the file has them, else estimates (:func:`estimate_tokens` of the pair's text
    plus :data:`PROMPT_OVERHEAD_TOKENS` in, of the recorded answer out). Without prices the
    recorded cost (0 when none was recorded) is kept.
    """

    def __init__(self, path: str | Path, judge: str, prices: ReplayPrices | None = None) -> None:
        self.prices = prices
        replay = load_replay_file(path)
        if judge not in replay.judges:
            raise JudgeConfigError(
                f"{path}: no recorded judge {judge!r}; it has: {', '.join(sorted(replay.judges))}"
            )
        self.path = str(path)
        self.judge = judge
        self._records = replay.judges[judge]
        versions = {record.prompt_version for record in self._records.values()}
        if len(versions) > 1:
            raise JudgeConfigError(
                f"{path}: judge {judge!r} has verdicts under several prompt versions "
                f"({', '.join(sorted(versions))}); put each version in its own file"
            )
        self.prompt_version = versions.pop()

    async def answer(self, pair: PairText, order: Order) -> ProviderAnswer:
        """The recorded verdict for (pair, order), as the judge shown that order gave it."""
        record = self._records.get((pair.pair_id, order))
        if record is None:
            known = any((pair.pair_id, o) in self._records for o in ORDERS)
            what = f"order {order} of pair" if known else "pair"
            raise ReplayMissError(
                f"replay judge {self.judge!r} ({self.path}) has no recorded verdict for "
                f"{what} {pair.pair_id!r}; replay only pairs the file covers, or use a live model"
            )
        winner = None if record.winner is None else to_shown(record.winner, order)
        tokens_in, tokens_out, cost = record.tokens_in, record.tokens_out, record.cost
        if self.prices is not None:
            if tokens_in == 0 and tokens_out == 0:
                text = pair.prompt + pair.response_a + pair.response_b
                tokens_in = estimate_tokens(text) + PROMPT_OVERHEAD_TOKENS
                tokens_out = estimate_tokens(record.raw or "")
            cost = self.prices.cost(tokens_in, tokens_out)
        return ProviderAnswer(
            winner=winner,
            raw=record.raw,
            confidence=record.confidence,
            logprob_confidence=record.logprob_confidence,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=cost,
            attempts=0,
            error="recorded verdict could not be parsed (winner is null)"
            if winner is None
            else None,
        )


__all__ = [
    "RecordedVerdict",
    "ReplayFile",
    "ReplayPrices",
    "ReplayProvider",
    "estimate_tokens",
    "load_replay_file",
    "recorded_judges",
]
