"""k-wise records (``{"id", "prompt", "responses": [...]}``) validated and expanded into pairs.

Each response is a string or ``{"text", "model"?, "id"?}``; its *ref* is its ``id`` or, without
one, its 0-based index in the list. The record becomes the pairs a :class:`~formats.kwise.Design`
names, each with ``group_id`` = the record id, its two refs, an id from the record id and the
refs (:func:`formats.kwise.pair_id`) and A/B decided by a hash (:func:`formats.kwise.first_is_a`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from formats.kwise import MAX_RESPONSES, Design, design_pairs, first_is_a, pair_id
from referee.ingest.records import (
    MAX_NAME_CHARS,
    Errors,
    PairRecord,
    _Checker,
    check_name,
    check_prompt,
    storable_json_problem,
)

KWISE_FIELDS = ("id", "prompt", "messages", "responses", "meta")
_RESPONSE_KEYS = ("text", "model", "id")


@dataclass(frozen=True)
class Response:
    """One of a record's k responses."""

    ref: str
    text: str
    model: str | None


def is_kwise(raw: dict[str, Any]) -> bool:
    """Whether ``raw`` is a k-wise record (it has ``responses``)."""
    return "responses" in raw


def validate_kwise(
    raw: dict[str, Any], design: Design, *, max_field_bytes: int, from_csv: bool = False
) -> tuple[PairRecord, ...] | Errors:
    """The pairs ``design`` makes of a k-wise record, or the record's errors."""
    check = _Checker(raw, max_field_bytes, from_csv)
    record_id = check.text("id", max_chars=MAX_NAME_CHARS, what="a record id")
    prompt, messages = check_prompt(check)
    responses = _responses(check)
    meta = check.meta("meta")
    for key in ("response_a", "response_b"):
        if key in raw:
            check.errors.append((key, "a record with responses has no response_a/response_b"))
    extra = {k: v for k, v in raw.items() if k not in KWISE_FIELDS}
    for key, value in extra.items():
        if (problem := storable_json_problem(value)) is not None:
            check.errors.append((str(key), f"(an extra key, kept in meta) {problem}"))
    if check.errors:
        return check.errors
    assert record_id is not None and prompt is not None
    meta = {**extra, **meta}
    pairs = []
    for i, j in design_pairs(len(responses), design):
        x, y = responses[i], responses[j]
        a, b = (x, y) if first_is_a(record_id, x.ref, y.ref) else (y, x)
        models = {f"response_{s}_model": r.model for s, r in (("a", a), ("b", b)) if r.model}
        pairs.append(
            PairRecord(
                pair_id(record_id, x.ref, y.ref),
                prompt,
                a.text,
                b.text,
                {**meta, **models},
                messages,
                group_id=record_id,
                response_a_ref=a.ref,
                response_b_ref=b.ref,
            )
        )
    return tuple(pairs)


def _responses(check: _Checker) -> list[Response]:
    value = check.raw.get("responses")
    if check.from_csv:
        check.errors.append(("responses", "k-wise records need JSON Lines or Parquet, not CSV"))
        return []
    if not isinstance(value, list) or not 2 <= len(value) <= MAX_RESPONSES:
        check.errors.append(
            ("responses", f"must be a list of 2 to {MAX_RESPONSES} responses (strings or "
             "{text, model, id} objects)")
        )  # fmt: skip
        return []
    out = [_response(check, item, index) for index, item in enumerate(value)]
    seen: dict[str, int] = {}
    for index, response in enumerate(out):
        if response is None:
            continue
        if response.ref in seen:
            check.errors.append(
                (f"responses[{index}].id", f"repeats the id of responses[{seen[response.ref]}]")
            )
        seen.setdefault(response.ref, index)
    return [r for r in out if r is not None]


def _response(check: _Checker, item: object, index: int) -> Response | None:
    field = f"responses[{index}]"
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, dict):
        check.errors.append((field, "must be a string or an object {text, model, id}"))
        return None
    for key in item:
        if key not in _RESPONSE_KEYS:
            check.errors.append((f"{field}.{key}", "unknown key; a response has text, model, id"))
    text, model, ref = item.get("text"), item.get("model"), item.get("id", index)
    errors_before = len(check.errors)
    if not isinstance(text, str):
        check.errors.append((f"{field}.text", "must be a string"))
    elif (size := len(text.encode("utf-8"))) > check.max_field_bytes:
        limit = f"{check.max_field_bytes:,}"
        message = f"is {size:,} bytes, over the limit of {limit} (raise REFEREE_MAX_FIELD_BYTES)"
        check.errors.append((f"{field}.text", message))
    elif (problem := check_name(text, "a response", len(text) + 1)) is not None:
        check.errors.append((f"{field}.text", problem))
    if model is not None and (not isinstance(model, str) or check_name(model, "a model name")):
        check.errors.append((f"{field}.model", "must be a model name (a string)"))
    if isinstance(ref, bool) or not isinstance(ref, str | int):
        check.errors.append((f"{field}.id", "must be a string or a whole number"))
    elif (problem := check_name(str(ref), "a response id", 60)) or "|" in str(ref):
        check.errors.append((f"{field}.id", problem or "must not contain '|'"))
    if len(check.errors) > errors_before:
        return None
    assert isinstance(text, str)
    return Response(str(ref), text, model if isinstance(model, str) else None)


__all__ = ["KWISE_FIELDS", "is_kwise", "validate_kwise"]
