"""Argilla 2.x records read back as Referee label records (``referee labels import --format
argilla``): the ``records.json`` Referee writes (``Record.to_dict()`` shape, JSON Lines or a JSON
array) and the flat rows of ``dataset.records.to_list(flatten=True)`` / ``to_datasets()``.

Only submitted responses become labels; a response without a status is a problem, since drafts
and discarded answers look the same without one. Each Referee pseudonym is the Argilla user
``uuid5(ANNOTATOR_NAMESPACE, pseudonym)``; the record's ``annotators`` metadata lists the
pseudonyms so their ids come back as names (other users come back as ``argilla-user-<uuid>``).
The ``referee_answers`` metadata (``"<pseudonym>|<kind>|<label id>|<origin>"`` per exported
answer; files written before origins have three parts) names the stored answer each response
came from: it comes back as the record's ``source_label_id``, ``source_kind`` and
``source_origin`` (the database the id belongs to, :func:`formats.rows.label_origin`), so the
import recognises the stored answer instead of storing a copy
(:mod:`referee.ingest.round_trip`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from formats.json_array import read_json_array
from formats.problems import Problem
from formats.readers import Item, Record, read_records
from judge.labels import LABELS

PREFERENCE = "preference"
RATIONALE = "rationale"
STRENGTH = "strength"
#: Prefix of the rating question of each dimension: ``rating_helpfulness``.
RATING_PREFIX = "rating_"
RATINGS = (1, 2, 3, 4, 5)
STRENGTH_TEXT = {
    "slight": "Slightly better (A > B or B > A)",
    "much": "Much better (A ≫ B or B ≫ A)",
}
_MIN_VISIBLE_OPTIONS = 3  # Argilla leaves ``visible_options`` unset below this many options
#: Namespace of the deterministic Argilla user ids derived from Referee pseudonyms.
ANNOTATOR_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "referee:annotator")
#: ``reason`` given to an imported ``both_bad`` answer without a rationale.
IMPORTED_BOTH_BAD_REASON = "both bad (imported from Argilla)"

#: Metadata property listing the exported answers as ``"<pseudonym>|<kind>|<label id>"``.
ANSWERS_METADATA = "referee_answers"


def annotator_uuid(pseudonym: str) -> uuid.UUID:
    """The Argilla user id that stands for a Referee pseudonym (same name, same id)."""
    return uuid.uuid5(ANNOTATOR_NAMESPACE, pseudonym)


def answer_tag(pseudonym: str, kind: str, label_id: int | None, origin: str | None = None) -> str:
    """One ``referee_answers`` entry: who answered, as which kind, the stored label id and the
    database it belongs to."""
    return f"{pseudonym}|{kind}|{'' if label_id is None else label_id}|{origin or ''}"


def _answer_sources(tags: Any) -> dict[str, Record]:
    """Pseudonym -> ``source_kind`` / ``source_label_id`` / ``source_origin`` from
    ``referee_answers`` entries (three parts in files written before origins)."""
    out: dict[str, Record] = {}
    for tag in tags if isinstance(tags, list) else []:
        parts = tag.split("|") if isinstance(tag, str) else []
        if len(parts) not in (3, 4) or parts[0] in out:
            continue
        found: Record = {"source_kind": parts[1]}
        if parts[2].isdigit():
            found["source_label_id"] = int(parts[2])
        if len(parts) == 4 and parts[3]:
            found["source_origin"] = parts[3]
        out[parts[0]] = found
    return out


def read_argilla(path: Path) -> Iterator[Item]:
    """Label records from Argilla records (JSON Lines or a JSON array), submitted answers only.

    Each record has ``pair_id`` (the record ``id``), ``annotator``, ``label`` and, when given,
    ``rationale``; ``reason`` is set for ``both_bad``. Positions are line numbers for JSON Lines
    and 1-based element numbers for a JSON array.
    """
    name = str(path)
    items: Iterator[tuple[int, Any] | Problem]
    if _starts_with_bracket(path):
        items = read_json_array(path)
    elif path.name.lower().endswith((".jsonl", ".ndjson", ".json")):
        items = read_records(path)
    else:
        yield Problem(name, 0, None, "Argilla records must be JSON Lines (.jsonl) or a JSON array")
        return
    for item in items:
        if isinstance(item, Problem):
            yield item
            continue
        number, record = item
        if not isinstance(record, dict):
            yield Problem(name, number, None, "expected an Argilla record (a JSON object)")
            continue
        for found in _record_labels(record):
            if isinstance(found, tuple):
                field, message = found
                yield Problem(name, number, field, message)
            else:
                yield number, found


def _starts_with_bracket(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


Answer = tuple[Any, Any, Any]  # (value, user_id, status)


def _record_labels(record: dict[str, Any]) -> Iterator[Record | tuple[str, str]]:
    """Label records of one Argilla record, or ``(field, message)`` for what is wrong."""
    pair_id = record.get("id", record.get("external_id"))
    if not isinstance(pair_id, str) or not pair_id.strip():
        yield "id", "is missing: the record has no Referee pair id"
        return
    if "responses" in record:
        metadata = record.get("metadata") or {}
        answers = _nested(record.get("responses") or {})
    else:
        metadata = record
        answers = _flat(record)
    if isinstance(answers, tuple):
        yield answers
        return
    pseudonyms = _pseudonyms(metadata)
    sources = _answer_sources(
        metadata.get(ANSWERS_METADATA) if isinstance(metadata, dict) else None
    )
    rationales = _rationales(answers)
    extras = _schema_answers(answers)
    if isinstance(extras, tuple):
        yield extras
        return
    for index, (value, user, status) in enumerate(answers.get(PREFERENCE, [])):
        where = f"responses.{PREFERENCE}[{index}]"
        if status is None:
            yield f"{where}.status", "is missing: only submitted responses can be imported"
            continue
        if status != "submitted":
            continue
        if value not in LABELS:
            yield (
                f"{where}.value",
                f"unknown label {json.dumps(value)}; use one of {', '.join(LABELS)}",
            )
            continue
        if not isinstance(user, str) or not user:
            yield f"{where}.user_id", "is missing"
            continue
        label: Record = {
            "pair_id": pair_id,
            "annotator": pseudonyms.get(user, f"argilla-user-{user}"),
            "label": value,
        }
        label.update(extras.get(user, {}))
        label.update(sources.get(str(label["annotator"]), {}))
        rationale = rationales.get(user)
        if rationale is not None:
            label["rationale"] = rationale
        if value == "both_bad":
            label["reason"] = rationale or IMPORTED_BOTH_BAD_REASON
        yield label


def _pseudonyms(metadata: Any) -> dict[str, str]:
    """Per Argilla user id, the pseudonym of an annotator listed in the record's metadata."""
    names = metadata.get("annotators") if isinstance(metadata, dict) else None
    return {
        str(annotator_uuid(n)): n
        for n in (names if isinstance(names, list) else [])
        if isinstance(n, str)
    }


def _rationales(answers: dict[str, list[Answer]]) -> dict[str, Any]:
    """Per user id, the non-blank rationale of their submitted responses."""
    return {
        str(user): value
        for value, user, status in answers.get(RATIONALE, [])
        if status == "submitted" and isinstance(value, str) and value.strip()
    }


def _schema_answers(answers: dict[str, list[Answer]]) -> dict[str, Record] | tuple[str, str]:
    """Per user id, the ``strength`` and ``ratings`` of their submitted responses."""
    found: dict[str, Record] = {}
    for question, listed in sorted(answers.items()):
        if question != STRENGTH and not question.startswith(RATING_PREFIX):
            continue
        for index, (value, user, status) in enumerate(listed):
            if status != "submitted" or not isinstance(user, str) or value is None:
                continue
            where = f"responses.{question}[{index}].value"
            mine = found.setdefault(user, {})
            if question == STRENGTH:
                if not isinstance(value, str) or value not in STRENGTH_TEXT:
                    return where, f"unknown strength {json.dumps(value)}; use slight or much"
                mine["strength"] = value
                continue
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or value not in RATINGS:
                return where, f"a rating must be a whole number from 1 to 5, got {value!r}"
            mine.setdefault("ratings", {})[question.removeprefix(RATING_PREFIX)] = value
    return found


def _questions(names: Iterable[str]) -> list[str]:
    """The questions to read: preference, rationale, and any strength or rating ones named."""
    extra = {
        n for n in names if n == STRENGTH or (n.startswith(RATING_PREFIX) and n != RATING_PREFIX)
    }
    return [PREFERENCE, RATIONALE, *sorted(extra)]


def _nested(responses: Any) -> dict[str, list[Answer]] | tuple[str, str]:
    """Answers from ``{"question": [{"value", "user_id", "status"}, ...]}``."""
    if not isinstance(responses, dict):
        return "responses", "must be an object of question name to responses"
    answers: dict[str, list[Answer]] = {}
    for question in _questions(str(k) for k in responses):
        listed = responses.get(question) or []
        if not isinstance(listed, list) or not all(isinstance(r, dict) for r in listed):
            return f"responses.{question}", "must be an array of response objects"
        answers[question] = [(r.get("value"), r.get("user_id"), r.get("status")) for r in listed]
    return answers


def _flat(record: dict[str, Any]) -> dict[str, list[Answer]] | tuple[str, str]:
    """Answers from flat ``question.responses``, ``.users`` and ``.status`` columns."""
    answers: dict[str, list[Answer]] = {}
    suffix = ".responses"
    named = (str(k).removesuffix(suffix) for k in record if str(k).endswith(suffix))
    for question in _questions(named):
        key = f"{question}.responses"
        columns = [record.get(key), record.get(f"{key}.users"), record.get(f"{key}.status")]
        values, users, statuses = (c if c is not None else [] for c in columns)
        if not all(isinstance(c, list) for c in (values, users, statuses)):
            return key, "responses, users and status must be arrays"
        if not (len(values) == len(users) and (not statuses or len(statuses) == len(values))):
            return key, "responses, users and status must have the same length"
        padded = statuses or [None] * len(values)
        answers[question] = list(zip(values, users, padded, strict=True))
    return answers


__all__ = [
    "ANNOTATOR_NAMESPACE",
    "ANSWERS_METADATA",
    "IMPORTED_BOTH_BAD_REASON",
    "annotator_uuid",
    "answer_tag",
    "read_argilla",
]
