"""Label Studio's JSON export read back as Referee label records (``referee labels import
--format label-studio``).

One label record per annotation that was not cancelled. An annotation that Referee exported
carries, in the ``meta`` of its ``preference`` result, the ids it came from
(``referee_label_id``, ``referee_pair_id``, ``referee_kind``, and ``referee_origin``: the
database the label id belongs to, :func:`formats.rows.label_origin`): those come back as the
record's ``source_label_id``, ``source_kind`` and ``source_origin``, so that the import
recognises the stored answer instead of storing a copy of it (:mod:`referee.ingest.round_trip`).
The annotator is the Referee pseudonym when the annotation carries one, else the Label Studio
user's e-mail, else ``label-studio-user-<id>``. The ``strength`` choice and
``rating_<dimension>`` ratings come back as ``strength`` and ``ratings``. Records come with
the task's 1-based position in the array.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from formats.json_array import read_json_array
from formats.problems import Problem
from formats.readers import Item, Record

PREFERENCE = "preference"
RATIONALE = "rationale"
STRENGTH = "strength"
#: Prefix of the ``Rating`` control of each dimension: ``rating_helpfulness``.
RATING_PREFIX = "rating_"
OBJECT = "prompt"
MAX_RATING = 5

#: Choice text in Label Studio for each Referee label.
CHOICE_FOR_LABEL: dict[str, str] = {"A": "A", "B": "B", "tie": "Tie", "both_bad": "Both bad"}
_LABEL_FOR_CHOICE: dict[str, str] = {
    **{choice.lower(): label for label, choice in CHOICE_FOR_LABEL.items()},
    "both_bad": "both_bad",
}
#: Choice text in Label Studio for each strength of the 5-point scale.
CHOICE_FOR_STRENGTH: dict[str, str] = {"slight": "Slightly better", "much": "Much better"}
_STRENGTH_FOR_CHOICE: dict[str, str] = {
    **{choice.lower(): strength for strength, choice in CHOICE_FOR_STRENGTH.items()},
    **{strength: strength for strength in CHOICE_FOR_STRENGTH},
}
#: ``reason`` given to an imported ``both_bad`` answer without a rationale.
IMPORTED_BOTH_BAD_REASON = "both bad (imported from Label Studio)"

#: Result ``meta`` keys of an exported annotation naming what it came from.
META_LABEL_ID = "referee_label_id"
META_PAIR_ID = "referee_pair_id"
META_KIND = "referee_kind"
META_ORIGIN = "referee_origin"


def read_label_studio(path: Path) -> Iterator[Item]:
    """Label records from a Label Studio JSON export, one per annotation not cancelled.

    Each record has ``pair_id``, ``annotator``, ``label`` and, when known, ``rationale``,
    ``reason`` (always set for ``both_bad``) and ``duration_s`` (Label Studio's ``lead_time``).
    Problems name the task's 1-based position and the field, e.g. ``annotations[0].result``.
    """
    name = str(path)
    for item in read_json_array(path):
        if isinstance(item, Problem):
            yield item
            continue
        number, task = item
        yield from _task_labels(name, number, task)


def _task_labels(name: str, number: int, task: Any) -> Iterator[Item]:
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        yield Problem(
            name,
            number,
            "data",
            "not a Label Studio task with 'data' (use the JSON export, not JSON-MIN)",
        )
        return
    pair_id = task["data"].get("pair_id")
    if not isinstance(pair_id, str) or not pair_id.strip():
        yield Problem(name, number, "data.pair_id", "is missing: the task has no Referee pair id")
        return
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        yield Problem(name, number, "annotations", "must be an array")
        return
    for index, annotation in enumerate(annotations):
        where = f"annotations[{index}]"
        if not isinstance(annotation, dict):
            yield Problem(name, number, where, "must be an object")
            continue
        if annotation.get("was_cancelled"):
            continue
        record = _annotation_label(annotation)
        if isinstance(record, tuple):
            field, message = record
            yield Problem(name, number, f"{where}.{field}", message)
            continue
        yield number, {"pair_id": pair_id, **record}


def _annotation_label(annotation: dict[str, Any]) -> Record | tuple[str, str]:
    """The label fields of one annotation, or ``(field, message)`` saying what is wrong."""
    result = annotation.get("result")
    if not isinstance(result, list):
        return "result", "must be an array of results"
    regions = [r for r in result if isinstance(r, dict)]
    choices = _pick(regions, "choices", PREFERENCE)
    if choices is None:
        return "result", f"has no '{PREFERENCE}' choice"
    value = choices.get("value")
    picked = value.get("choices") if isinstance(value, dict) else None
    if not isinstance(picked, list) or len(picked) != 1 or not isinstance(picked[0], str):
        return "result", f"expected exactly one '{PREFERENCE}' choice, got {json.dumps(picked)}"
    label = _LABEL_FOR_CHOICE.get(picked[0].strip().lower())
    if label is None:
        known = ", ".join(CHOICE_FOR_LABEL.values())
        return "result", f"unknown choice {json.dumps(picked[0])}; expected one of {known}"
    found = choices.get("meta")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    annotator = meta.get("referee_annotator") or _user(annotation.get("completed_by"))
    if not isinstance(annotator, str) or not annotator:
        return "completed_by", "names no annotator (expected a user id or an object with email)"
    rationale = _text(_pick(regions, "textarea", RATIONALE))
    reason = meta.get("referee_reason") if isinstance(meta.get("referee_reason"), str) else None
    if label == "both_bad" and not reason:
        reason = rationale or IMPORTED_BOTH_BAD_REASON
    record: Record = {"annotator": annotator, "label": label, **_source_ids(meta)}
    schema_part = _schema_part(regions)
    if isinstance(schema_part, tuple):
        return schema_part
    record.update(schema_part)
    if rationale is not None:
        record["rationale"] = rationale
    if reason is not None:
        record["reason"] = reason
    lead_time = annotation.get("lead_time")
    if isinstance(lead_time, int | float) and not isinstance(lead_time, bool):
        record["duration_s"] = float(lead_time)
    return record


def _source_ids(meta: dict[str, Any]) -> Record:
    """``source_label_id``, ``source_kind`` and ``source_origin`` from an exported annotation's
    meta (else none).

    Values of the wrong type are passed on as they are, for the record check to refuse.
    """
    found: Record = {}
    if meta.get(META_LABEL_ID) is not None:
        found["source_label_id"] = meta[META_LABEL_ID]
    if meta.get(META_KIND) is not None:
        found["source_kind"] = meta[META_KIND]
    if meta.get(META_ORIGIN) is not None:
        found["source_origin"] = meta[META_ORIGIN]
    return found


def _schema_part(regions: list[dict[str, Any]]) -> Record | tuple[str, str]:
    """``strength`` and ``ratings`` from the ``strength`` and ``rating_*`` results, if any."""
    part: Record = {}
    found = [r for r in regions if r.get("type") == "choices" and r.get("from_name") == STRENGTH]
    if found:
        value = found[0].get("value")
        picked = value.get("choices") if isinstance(value, dict) else None
        strength = None
        if isinstance(picked, list) and len(picked) == 1 and isinstance(picked[0], str):
            strength = _STRENGTH_FOR_CHOICE.get(picked[0].strip().lower())
        if strength is None:
            known = ", ".join(CHOICE_FOR_STRENGTH.values())
            return "result", f"'{STRENGTH}' choice {json.dumps(picked)}: expected one of {known}"
        part["strength"] = strength
    ratings: dict[str, int] = {}
    for region in regions:
        name = region.get("from_name")
        if region.get("type") != "rating" or not isinstance(name, str):
            continue
        if not name.startswith(RATING_PREFIX) or len(name) == len(RATING_PREFIX):
            continue
        value = region.get("value")
        rating = value.get("rating") if isinstance(value, dict) else None
        if isinstance(rating, float) and rating.is_integer():
            rating = int(rating)
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= MAX_RATING:
            return (
                "result",
                f"rating '{name}' must be a whole number 1-{MAX_RATING}, not {rating!r}",
            )
        ratings[name.removeprefix(RATING_PREFIX)] = rating
    if ratings:
        part["ratings"] = dict(sorted(ratings.items()))
    return part


def _pick(regions: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any] | None:
    """The result of type ``kind`` from control ``name`` (else the only one of that type)."""
    of_kind = [r for r in regions if r.get("type") == kind]
    named = [r for r in of_kind if r.get("from_name") == name]
    if named:
        return named[0]
    return of_kind[0] if len(of_kind) == 1 else None


def _text(region: dict[str, Any] | None) -> str | None:
    if region is None:
        return None
    value = region.get("value")
    lines = value.get("text") if isinstance(value, dict) else None
    if isinstance(lines, str):
        lines = [lines]
    if not isinstance(lines, list):
        return None
    text = "\n".join(line for line in lines if isinstance(line, str)).strip()
    return text or None


def _user(completed_by: Any) -> str | None:
    """A readable annotator name for Label Studio's ``completed_by`` (int id or user object)."""
    if isinstance(completed_by, dict):
        email = completed_by.get("email")
        if isinstance(email, str) and email:
            return email
        completed_by = completed_by.get("id")
    if isinstance(completed_by, int) and not isinstance(completed_by, bool):
        return f"label-studio-user-{completed_by}"
    return None


__all__ = [
    "CHOICE_FOR_LABEL",
    "CHOICE_FOR_STRENGTH",
    "IMPORTED_BOTH_BAD_REASON",
    "META_KIND",
    "META_LABEL_ID",
    "META_PAIR_ID",
    "read_label_studio",
]
