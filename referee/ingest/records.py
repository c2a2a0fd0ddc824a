"""Validate raw records into the interchange formats: pairs, human labels, judge verdicts.

Each ``validate_*`` takes a raw record and returns either a clean record or the problems found,
each naming the field. Column names of other people's files are renamed first with a
:class:`FieldMap` (``--map prompt=instruction,response_a=output_1``).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from judge.labels import LABELS, ORDERS

PAIR_FIELDS = ("id", "prompt", "response_a", "response_b", "meta")
LABEL_FIELDS = ("pair_id", "annotator", "label", "rationale", "reason", "duration_s")
JUDGMENT_FIELDS = (
    "pair_id",
    "judge",
    "order",
    "winner",
    "confidence",
    "raw",
    "prompt_version",
    "logprob_confidence",
    "tokens_in",
    "tokens_out",
    "cost",
    "latency_ms",
)
RECORDED_PROMPT_VERSION = "recorded"


class FieldMap:
    """Renames source columns to Referee's field names."""

    def __init__(self, mapping: dict[str, str] | None = None) -> None:
        self.ours_to_theirs = dict(mapping or {})

    @classmethod
    def parse(cls, specs: list[str], allowed: tuple[str, ...]) -> FieldMap:
        """``["prompt=instruction,response_a=output_1"]`` → a map; unknown targets raise."""
        mapping: dict[str, str] = {}
        for spec in specs:
            for part in spec.split(","):
                part = part.strip()
                if not part:
                    continue
                ours, sep, theirs = part.partition("=")
                ours, theirs = ours.strip(), theirs.strip()
                if not sep or not ours or not theirs:
                    raise ValueError(f"--map '{part}': write OUR_FIELD=THEIR_COLUMN")
                if ours not in allowed:
                    raise ValueError(
                        f"--map '{part}': unknown field '{ours}'; fields are {', '.join(allowed)}"
                    )
                mapping[ours] = theirs
        return cls(mapping)

    def apply(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The record with mapped columns renamed to our names (other keys kept)."""
        if not self.ours_to_theirs:
            return raw
        theirs = set(self.ours_to_theirs.values())
        out = {k: v for k, v in raw.items() if k not in theirs}
        for ours, their_name in self.ours_to_theirs.items():
            if their_name in raw:
                out[ours] = raw[their_name]
        return out


@dataclass(frozen=True)
class PairRecord:
    id: str
    prompt: str
    response_a: str
    response_b: str
    meta: dict[str, Any]

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the content that identifies the pair (texts and meta)."""
        body = json.dumps(
            [self.prompt, self.response_a, self.response_b, self.meta],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    @cached_property
    def text_hash(self) -> str:
        """SHA-256 of the prompt and both responses only (meta left out)."""
        body = json.dumps([self.prompt, self.response_a, self.response_b], ensure_ascii=False)
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LabelRecord:
    pair_id: str
    annotator: str
    label: str
    rationale: str | None
    reason: str | None
    duration_s: float | None


@dataclass(frozen=True)
class JudgmentRecord:
    pair_id: str
    judge: str
    order: str
    winner: str | None
    confidence: float | None
    raw: str | None
    prompt_version: str
    logprob_confidence: float | None
    tokens_in: int
    tokens_out: int
    cost: float
    latency_ms: float


Errors = list[tuple[str, str]]  # (field, message)


class _Checker:
    """Field checks that record errors instead of raising."""

    def __init__(self, raw: dict[str, Any], max_field_bytes: int, from_csv: bool) -> None:
        self.raw = raw
        self.max_field_bytes = max_field_bytes
        self.from_csv = from_csv
        self.errors: Errors = []

    def text(self, name: str, *, required: bool = True, allow_empty: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None or (self.from_csv and value == "" and not required):
            if required:
                self.errors.append((name, "is missing"))
            return None
        if not isinstance(value, str):
            self.errors.append((name, f"must be a string, got {_json_type(value)}"))
            return None
        if required and not allow_empty and not value.strip():
            self.errors.append((name, "is empty"))
            return None
        size = len(value.encode("utf-8"))
        if size > self.max_field_bytes:
            self.errors.append(
                (
                    name,
                    f"is {size:,} bytes, over the limit of {self.max_field_bytes:,} "
                    "(raise REFEREE_MAX_FIELD_BYTES to accept it)",
                )
            )
            return None
        return value

    def choice(self, name: str, allowed: tuple[str, ...], *, nullable: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None or (self.from_csv and value == "" and nullable):
            if not nullable:
                self.errors.append((name, "is missing"))
            return None
        if value not in allowed:
            self.errors.append(
                (name, f"unknown value {json.dumps(value)}; use one of {', '.join(allowed)}")
            )
            return None
        return str(value)

    def number(
        self, name: str, *, low: float | None = None, high: float | None = None
    ) -> float | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str) and self.from_csv:
            try:
                value = float(value)
            except ValueError:
                self.errors.append((name, f"must be a number, got {json.dumps(value)}"))
                return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.append((name, f"must be a number, got {_json_type(value)}"))
            return None
        number = float(value)
        if (
            not math.isfinite(number)
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            bounds = f" in [{low}, {high}]" if high is not None else f" ≥ {low}"
            self.errors.append((name, f"must be a number{bounds}, got {value}"))
            return None
        return number

    def meta(self, name: str) -> dict[str, Any]:
        value = self.raw.get(name)
        if value is None or value == "":
            return {}
        if isinstance(value, str) and self.from_csv:
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                self.errors.append((name, "must be a JSON object"))
                return {}
        if not isinstance(value, dict):
            self.errors.append((name, f"must be an object, got {_json_type(value)}"))
            return {}
        return value


def _json_type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def validate_pair(
    raw: dict[str, Any], *, max_field_bytes: int, from_csv: bool = False
) -> PairRecord | Errors:
    """A pair record, or its errors. Keys other than the five fields go into ``meta``."""
    check = _Checker(raw, max_field_bytes, from_csv)
    pair_id = check.text("id")
    prompt = check.text("prompt")
    response_a = check.text("response_a", allow_empty=True)
    response_b = check.text("response_b", allow_empty=True)
    meta = check.meta("meta")
    extra = {k: v for k, v in raw.items() if k not in PAIR_FIELDS}
    if extra:
        meta = {**extra, **meta}
    if check.errors:
        return check.errors
    assert pair_id is not None and prompt is not None
    assert response_a is not None and response_b is not None
    return PairRecord(pair_id, prompt, response_a, response_b, meta)


def validate_label(
    raw: dict[str, Any], *, max_field_bytes: int, from_csv: bool = False
) -> LabelRecord | Errors:
    """A human label record, or its errors."""
    check = _Checker(raw, max_field_bytes, from_csv)
    pair_id = check.text("pair_id")
    annotator = check.text("annotator")
    label = check.choice("label", LABELS)
    rationale = check.text("rationale", required=False)
    reason = check.text("reason", required=False)
    duration = check.number("duration_s", low=0.0)
    if check.errors:
        return check.errors
    assert pair_id is not None and annotator is not None and label is not None
    return LabelRecord(pair_id, annotator, label, rationale, reason, duration)


def validate_judgment(
    raw: dict[str, Any], *, max_field_bytes: int, from_csv: bool = False
) -> JudgmentRecord | Errors:
    """A recorded judge verdict, or its errors. ``winner`` null means unparseable."""
    check = _Checker(raw, max_field_bytes, from_csv)
    pair_id = check.text("pair_id")
    judge = check.text("judge")
    order = check.choice("order", ORDERS)
    winner = check.choice("winner", LABELS, nullable=True)
    confidence = check.number("confidence", low=0.0, high=1.0)
    logprob = check.number("logprob_confidence", low=0.0, high=1.0)
    raw_text = check.text("raw", required=False)
    version = check.text("prompt_version", required=False) or RECORDED_PROMPT_VERSION
    tokens_in = check.number("tokens_in", low=0.0)
    tokens_out = check.number("tokens_out", low=0.0)
    cost = check.number("cost", low=0.0)
    latency = check.number("latency_ms", low=0.0)
    if check.errors:
        return check.errors
    assert pair_id is not None and judge is not None and order is not None
    return JudgmentRecord(
        pair_id=pair_id,
        judge=judge,
        order=order,
        winner=winner,
        confidence=confidence,
        raw=raw_text,
        prompt_version=version,
        logprob_confidence=logprob,
        tokens_in=int(tokens_in or 0),
        tokens_out=int(tokens_out or 0),
        cost=cost or 0.0,
        latency_ms=latency or 0.0,
    )
