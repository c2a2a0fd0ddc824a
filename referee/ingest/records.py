"""Validate raw records into the interchange formats: pairs, human labels, judge verdicts.

Each ``validate_*`` takes a raw record and returns either a clean record or the problems found,
each naming the field. Column names of other people's files are renamed first with a
:class:`FieldMap` (``--map prompt=instruction,response_a=output_1``).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, get_args

from judge.conversation import (
    Conversation,
    ConversationError,
    flat_prompt,
    messages_to_json,
    parse_messages,
)
from judge.labels import LABELS, ORDERS
from referee.db.vocab import HumanLabelKind

PAIR_FIELDS = ("id", "prompt", "response_a", "response_b", "meta", "messages")
"""Fields of a pair record; ``messages`` (OpenAI style) may stand for a ``prompt`` message list."""
LABEL_FIELDS = (
    "pair_id",
    "annotator",
    "label",
    "rationale",
    "reason",
    "duration_s",
    "strength",
    "ratings",
    "source_label_id",
    "source_kind",
    "source_origin",
)
#: Kinds a label can have come from (``source_kind`` of an answer Referee exported).
SOURCE_KINDS: tuple[str, ...] = get_args(HumanLabelKind)
STRENGTHS = ("slight", "much")  # of an A or B answer on the 5-point scale (referee.review.schema)
RATING_RANGE = (1, 5)
_DIMENSION = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
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

MAX_NAME_CHARS = 200
"""Longest id, annotator, judge or dataset name (the database columns are ``varchar(200)``)."""
MAX_VERSION_CHARS = 64
"""Longest ``prompt_version`` (``varchar(64)``)."""
MAX_INT = 2**31 - 1
"""Largest token count (the columns are 32-bit integers on every database)."""
MAX_META_DEPTH = 100
"""Deepest nesting accepted inside ``meta``."""
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text on every database (NUL, lone surrogate), or None."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "contains a NUL character (\\u0000), which databases cannot store; remove it"
    return (
        f"contains an unpaired surrogate (\\u{ord(found.group()):04x}), which is not valid "
        "Unicode; fix the text's encoding"
    )


def check_name(value: str, what: str, limit: int = MAX_NAME_CHARS) -> str | None:
    """Why ``value`` cannot be stored as an id or name of at most ``limit`` characters, or None."""
    problem = text_problem(value)
    if problem is not None:
        return problem
    if len(value) > limit:
        return f"is {len(value):,} characters long; {what} can have at most {limit}"
    return None


def unknown_field_message(key: str, known: tuple[str, ...]) -> str:
    """``unknown field``, the closest known field when one is close, and the known fields."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return (
        f"unknown field{hint} (fields are {', '.join(known)}; "
        "remove the key, or rename a column with --map OUR_FIELD=THEIR_COLUMN)"
    )


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
    """A pair ready to store. ``messages``: the conversation ``prompt`` is the flat text of.

    ``group_id`` and the refs: the k-wise record the pair came from and which of its responses
    are A and B. ``preference``: the reply another tool's file preferred (``A``/``B``), kept as a
    human label when asked; it is not part of the pair's content.
    """

    id: str
    prompt: str
    response_a: str
    response_b: str
    meta: dict[str, Any]
    messages: Conversation | None = None
    group_id: str | None = None
    response_a_ref: str | None = None
    response_b_ref: str | None = None
    preference: str | None = None

    def _extra_content(self) -> list[Any]:
        """The turns and k-wise refs, hashed only when present (single-turn hashes unchanged)."""
        if self.messages is None and self.group_id is None:
            return []
        turns = messages_to_json(self.messages) if self.messages is not None else None
        return [turns, self.group_id, self.response_a_ref, self.response_b_ref]

    @cached_property
    def content_hash(self) -> str:
        """SHA-256 of the content that identifies the pair (texts, turns, refs and meta)."""
        body = json.dumps(
            [self.prompt, self.response_a, self.response_b, self.meta, *self._extra_content()],
            sort_keys=True,
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    @cached_property
    def text_hash(self) -> str:
        """SHA-256 of the prompt (its turns) and both responses only (meta left out)."""
        body = json.dumps(
            [self.prompt, self.response_a, self.response_b, *self._extra_content()],
            ensure_ascii=False,
        )
        return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class LabelRecord:
    pair_id: str
    annotator: str
    label: str
    rationale: str | None
    reason: str | None
    duration_s: float | None
    strength: str | None = None
    ratings: dict[str, int] | None = None
    # the stored answer an exported annotation came from (Label Studio / Argilla round trips)
    source_label_id: int | None = None
    source_kind: str | None = None
    source_origin: str | None = None  # the database the label id belongs to


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

    def text(
        self,
        name: str,
        *,
        required: bool = True,
        allow_empty: bool = False,
        max_chars: int | None = None,
        what: str = "",
    ) -> str | None:
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
        if max_chars is not None:
            problem = check_name(value, what or f"'{name}'", max_chars)
            if problem is not None:
                self.errors.append((name, problem))
                return None
        elif (problem := text_problem(value)) is not None:
            self.errors.append((name, problem))
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
        try:
            number = float(value)
        except OverflowError:  # an integer beyond the range of a float
            number = math.inf
        if (
            not math.isfinite(number)
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            bounds = f" in [{low}, {high}]" if high is not None else f" ≥ {low}"
            self.errors.append((name, f"must be a number{bounds}, got {_short(value)}"))
            return None
        return number

    def count(self, name: str) -> int | None:
        """A whole number in [0, :data:`MAX_INT`] (token counts)."""
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str) and self.from_csv:
            text = value.strip()
            try:
                value = int(text)
            except ValueError:
                try:
                    value = float(text)
                except ValueError:
                    self.errors.append((name, f"must be a whole number, got {json.dumps(text)}"))
                    return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors.append((name, f"must be a whole number, got {_json_type(value)}"))
            return None
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            self.errors.append((name, f"must be a whole number, got {_short(value)}"))
            return None
        if not 0 <= value <= MAX_INT:
            self.errors.append(
                (name, f"must be a whole number in [0, {MAX_INT:,}], got {_short(value)}")
            )
            return None
        return int(value)

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
        problem = storable_json_problem(value)
        if problem is not None:
            self.errors.append((name, problem))
            return {}
        return value


def storable_json_problem(value: Any, depth: int = 0) -> str | None:
    """Why ``value`` cannot be stored as JSON on every database, or None.

    Refused: NUL characters and unpaired surrogates, NaN and infinities, non-string keys,
    values that are not JSON (a Parquet timestamp, say) and nesting deeper than
    :data:`MAX_META_DEPTH`.
    """
    if depth > MAX_META_DEPTH:
        return f"is nested more than {MAX_META_DEPTH} levels deep"
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return None
        return f"holds {json.dumps(value)}, which is not valid JSON"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"has a key that is not a string ({_short(key)})"
            key_problem = text_problem(key)
            if key_problem is not None:
                return f"has a key that {key_problem}"
            problem = storable_json_problem(item, depth + 1)
            if problem is not None:
                return f"{problem} (at key {json.dumps(str(key), ensure_ascii=False)[:80]})"
        return None
    if isinstance(value, list):
        for item in value:
            problem = storable_json_problem(item, depth + 1)
            if problem is not None:
                return problem
        return None
    if value is None or isinstance(value, bool | int):
        return None
    return (
        f"holds a {type(value).__name__} value ({_short(value)}), which is not JSON; "
        "store it as a string or a number"
    )


def _short(value: Any) -> str:
    """A value for a message, cut to a readable length."""
    text = str(value)
    return text if len(text) <= 40 else f"{text[:20]}…{text[-10:]} ({len(text)} characters)"


def _json_type(value: Any) -> str:
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _unknown_keys(check: _Checker, known: tuple[str, ...]) -> None:
    """Refuse keys that are not fields of the format (typos would otherwise be lost)."""
    for key in check.raw:
        if key not in known:
            check.errors.append((str(key), unknown_field_message(str(key), known)))


def validate_pair(
    raw: dict[str, Any], *, max_field_bytes: int, from_csv: bool = False
) -> PairRecord | Errors:
    """A pair record, or its errors. Keys other than the five fields go into ``meta``."""
    check = _Checker(raw, max_field_bytes, from_csv)
    pair_id = check.text("id", max_chars=MAX_NAME_CHARS, what="a pair id")
    prompt, messages = check_prompt(check)
    response_a = check.text("response_a", allow_empty=True)
    response_b = check.text("response_b", allow_empty=True)
    meta = check.meta("meta")
    extra = {k: v for k, v in raw.items() if k not in PAIR_FIELDS}
    for key, value in extra.items():
        problem = text_problem(str(key)) or storable_json_problem(value)
        if problem is not None:
            check.errors.append((str(key), f"(an extra key, kept in meta) {problem}"))
    if extra:
        meta = {**extra, **meta}
    if check.errors:
        return check.errors
    assert pair_id is not None and prompt is not None
    assert response_a is not None and response_b is not None
    return PairRecord(pair_id, prompt, response_a, response_b, meta, messages)


def check_prompt(check: _Checker) -> tuple[str | None, Conversation | None]:
    """The prompt as text, and its turns when it is a message list (``prompt`` or ``messages``).

    A message list is checked turn by turn (``prompt[2].role``); the size limit applies to all
    turns together (their flat rendering, which is what is stored in ``prompt``). CSV cells are
    always strings.
    """
    name = "prompt"
    if check.raw.get("prompt") is None and check.raw.get("messages") is not None:
        name = "messages"
    elif check.raw.get("messages") is not None:
        check.errors.append(("messages", "give the prompt once: as prompt or as messages"))
        return None, None
    value = check.raw.get(name)
    if not isinstance(value, list):
        return check.text(name), None
    try:
        turns = parse_messages(value, name)
    except ConversationError as exc:
        check.errors.append((exc.field, exc.message))
        return None, None
    for index, turn in enumerate(turns):
        if (problem := text_problem(turn.content)) is not None:
            check.errors.append((f"{name}[{index}].content", problem))
    flat = flat_prompt(turns)
    size = len(flat.encode("utf-8"))
    if size > check.max_field_bytes:
        check.errors.append(
            (name, f"has {size:,} bytes over all its turns, over the limit of "
             f"{check.max_field_bytes:,} (raise REFEREE_MAX_FIELD_BYTES to accept it)")
        )  # fmt: skip
    if not any(turn.content.strip() for turn in turns if turn.role == "user"):
        check.errors.append((name, "every user turn is empty"))
    return flat, turns


def _check_ratings(check: _Checker) -> dict[str, int] | None:
    """``ratings``: an object of dimension name to a whole number 1-5 (JSON text in CSV)."""
    value = check.raw.get("ratings")
    if isinstance(value, str) and check.from_csv:
        if not value.strip():
            return None
        try:
            value = json.loads(value)
        except ValueError:
            check.errors.append(("ratings", 'must be a JSON object like {"helpfulness": 4}'))
            return None
    if value is None:
        return None
    if not isinstance(value, dict):
        check.errors.append(("ratings", f"must be an object, got {_json_type(value)}"))
        return None
    low, high = RATING_RANGE
    for name, rating in value.items():
        if not _DIMENSION.match(str(name)):
            check.errors.append(
                ("ratings", f"dimension {_short(name)}: use lower-case letters, digits and '_'")
            )
        elif isinstance(rating, bool) or not isinstance(rating, int) or not low <= rating <= high:
            check.errors.append(
                ("ratings", f"rating of {name!r} must be a whole number {low}-{high}, got "
                 f"{_short(rating)}")
            )  # fmt: skip
    return dict(sorted(value.items())) or None


def validate_label(
    raw: dict[str, Any], *, max_field_bytes: int, from_csv: bool = False
) -> LabelRecord | Errors:
    """A human label record, or its errors; keys that are not label fields are refused."""
    check = _Checker(raw, max_field_bytes, from_csv)
    _unknown_keys(check, LABEL_FIELDS)
    pair_id = check.text("pair_id", max_chars=MAX_NAME_CHARS, what="a pair id")
    annotator = check.text("annotator", max_chars=MAX_NAME_CHARS, what="an annotator name")
    label = check.choice("label", LABELS)
    rationale = check.text("rationale", required=False)
    reason = check.text("reason", required=False)
    duration = check.number("duration_s", low=0.0)
    strength = check.choice("strength", STRENGTHS, nullable=True)
    if strength is not None and label not in (None, "A", "B"):
        check.errors.append(("strength", f"a {label} answer has no strength; leave it out"))
    ratings = _check_ratings(check)
    source_id = check.count("source_label_id")
    source_kind = check.choice("source_kind", SOURCE_KINDS, nullable=True)
    source_origin = check.text("source_origin", required=False, max_chars=MAX_NAME_CHARS)
    if check.errors:
        return check.errors
    assert pair_id is not None and annotator is not None and label is not None
    return LabelRecord(
        pair_id, annotator, label, rationale, reason, duration, strength, ratings,
        source_id, source_kind, source_origin,
    )  # fmt: skip


def validate_judgment(
    raw: dict[str, Any], *, max_field_bytes: int, from_csv: bool = False
) -> JudgmentRecord | Errors:
    """A recorded judge verdict, or its errors. ``winner`` null means unparseable.

    Keys that are not judgment fields are refused.
    """
    check = _Checker(raw, max_field_bytes, from_csv)
    _unknown_keys(check, JUDGMENT_FIELDS)
    pair_id = check.text("pair_id", max_chars=MAX_NAME_CHARS, what="a pair id")
    judge = check.text("judge", max_chars=MAX_NAME_CHARS, what="a judge name")
    order = check.choice("order", ORDERS)
    winner = check.choice("winner", LABELS, nullable=True)
    confidence = check.number("confidence", low=0.0, high=1.0)
    logprob = check.number("logprob_confidence", low=0.0, high=1.0)
    raw_text = check.text("raw", required=False)
    version = (
        check.text(
            "prompt_version", required=False, max_chars=MAX_VERSION_CHARS, what="a prompt version"
        )
        or RECORDED_PROMPT_VERSION
    )
    tokens_in = check.count("tokens_in")
    tokens_out = check.count("tokens_out")
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
        tokens_in=tokens_in or 0,
        tokens_out=tokens_out or 0,
        cost=cost or 0.0,
        latency_ms=latency or 0.0,
    )
