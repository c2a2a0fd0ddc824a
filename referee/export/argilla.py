"""Argilla 2.x: pairs out as dataset records with suggestions, human responses back in as labels.

:func:`settings_json` is the dataset settings exactly as Argilla's ``Settings.serialize()`` /
``Settings.to_json()`` write them: text fields ``prompt``, ``response_a``, ``response_b``; a
required :class:`LabelQuestion` ``preference`` (values ``A``, ``B``, ``tie``, ``both_bad``); an
optional :class:`TextQuestion` ``rationale``; metadata properties ``dataset``, ``source``,
``agreement``, ``policy_version``, ``annotators`` and ``rubric_version`` (the guidelines the
people answered under). Load it with ``rg.Settings.from_json``.
A dataset with an annotation schema (:mod:`referee.review.schema`) gets more questions between
``preference`` and ``rationale``: on the 5-point scale an optional :class:`LabelQuestion`
``strength`` (``slight``, ``much``; only ``A``/``B`` answers have one) and one
:class:`RatingQuestion` (1-5) per dimension, named ``rating_<dimension>``. They are optional
because answers imported as gold carry none, and Argilla refuses a submitted response that
lacks a required question. The built-in schema adds nothing.

:func:`record_for` is one record in the shape of Argilla's ``Record.to_dict()`` (the
``records.json`` of ``Dataset.to_disk``), which ``rg.Record.from_dict`` reads back:
``id`` (becomes the record's ``external_id``) is the pair id; ``suggestions.preference`` is the
AI label with its confidence as ``score`` and the judges and policy as ``agent``;
``responses.preference`` / ``responses.rationale`` hold the human answers with
``status: "submitted"`` (``Record.to_dict`` drops the status, ``Record.from_dict`` accepts it);
an answer's strength and ratings are its ``responses.strength`` and ``responses.rating_<dim>``.

Argilla identifies people by user UUIDs, so each pseudonym becomes
``uuid5(ANNOTATOR_NAMESPACE, pseudonym)``, and the record's ``annotators`` metadata lists the
pseudonyms, so :func:`read_argilla` turns those UUIDs back into names (other users come back as
``argilla-user-<uuid>``). Argilla accepts a response only from a user that exists on the
server: to log the human responses, create users with these ids first, or drop ``responses``.
A pseudonym's second answer on the same pair is left out (Argilla keeps one per user).

:func:`read_argilla` reads such records (JSON Lines or a JSON array) and also the flat rows of
``dataset.records.to_list(flatten=True)`` / ``to_datasets()`` (``preference.responses``,
``preference.responses.users``, ``preference.responses.status``). Only submitted responses
become labels; a response without a status is a problem, since drafts and discarded answers
look the same without one. A user's submitted ``strength`` and ``rating_<dimension>`` responses
come back as the label's ``strength`` and ``ratings``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from referee.export.label_studio import judge_tag, read_json_array
from referee.export.rows import LABELS, HumanAnswer, LabeledPair
from referee.export.schema_fields import ExportSchema
from referee.ingest.problems import Problem
from referee.ingest.readers import Item, Record, read_records

PREFERENCE = "preference"
RATIONALE = "rationale"
STRENGTH = "strength"
#: Prefix of the rating question of each dimension: ``rating_helpfulness``.
RATING_PREFIX = "rating_"
RATINGS = (1, 2, 3, 4, 5)
_STRENGTH_TEXT = {
    "slight": "Slightly better (A > B or B > A)",
    "much": "Much better (A ≫ B or B ≫ A)",
}
_MIN_VISIBLE_OPTIONS = 3  # Argilla leaves ``visible_options`` unset below this many options
#: Namespace of the deterministic Argilla user ids derived from Referee pseudonyms.
ANNOTATOR_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "referee:annotator")
#: ``reason`` given to an imported ``both_bad`` answer without a rationale.
IMPORTED_BOTH_BAD_REASON = "both bad (imported from Argilla)"

_LABEL_TEXT = {
    "A": "Response A is better",
    "B": "Response B is better",
    "tie": "Tie",
    "both_bad": "Both bad",
}
DEFAULT_GUIDELINES = (
    "Read the prompt and both responses. Choose the better response, Tie when they are equally "
    "good, or Both bad when neither is acceptable (then say why in the rationale)."
)


def annotator_uuid(pseudonym: str) -> uuid.UUID:
    """The Argilla user id that stands for a Referee pseudonym (same name, same id)."""
    return uuid.uuid5(ANNOTATOR_NAMESPACE, pseudonym)


def _common(name: str, title: str) -> dict[str, Any]:
    return {"id": None, "inserted_at": None, "updated_at": None, "name": name, "title": title}


def _text_field(name: str, title: str) -> dict[str, Any]:
    return {
        **_common(name, title),
        "settings": {"type": "text", "use_markdown": False},
        "required": True,
        "description": None,
        "dataset_id": None,
        "type": "text",
    }


def _question(name: str, title: str, settings: dict[str, Any], required: bool) -> dict[str, Any]:
    return {
        **_common(name, title),
        "settings": settings,
        "description": None,
        "required": required,
        "dataset_id": None,
        "type": settings["type"],
    }


def _metadata(name: str, title: str, settings: dict[str, Any], visible: bool) -> dict[str, Any]:
    return {
        **_common(name, title),
        # The SDK always writes the settings' own flag as true; the top-level one is what counts.
        "settings": {"visible_for_annotators": True, **settings},
        "visible_for_annotators": visible,
        "dataset_id": None,
    }


def _label_question(name: str, title: str, labels: dict[str, str], required: bool) -> Any:
    options = [{"text": text, "value": value} for value, text in labels.items()]
    visible = len(options) if len(options) >= _MIN_VISIBLE_OPTIONS else None
    settings = {"type": "label_selection", "options": options, "visible_options": visible}
    return _question(name, title, settings, required)


def _schema_questions(schema: ExportSchema) -> list[dict[str, Any]]:
    """The ``strength`` and ``rating_<dimension>`` questions of ``schema`` (none by default)."""
    questions = []
    if schema.has_strength:
        questions.append(
            _label_question(STRENGTH, "How much better? (A or B answers)", _STRENGTH_TEXT, False)
        )
    for dimension in schema.dimensions:
        settings = {"type": "rating", "options": [{"value": v} for v in RATINGS]}
        title = dimension.replace("_", " ").capitalize() + " (1-5)"
        questions.append(_question(RATING_PREFIX + dimension, title, settings, False))
    return questions


def settings_json(
    guidelines: str | None = None, schema: ExportSchema | None = None
) -> dict[str, Any]:
    """The Argilla dataset settings, as ``Settings.serialize()`` writes them."""
    return {
        "guidelines": guidelines if guidelines is not None else DEFAULT_GUIDELINES,
        "questions": [
            _label_question(PREFERENCE, "Which response is better?", _LABEL_TEXT, True),
            *_schema_questions(schema or ExportSchema()),
            _question(RATIONALE, "Why?", {"type": "text", "use_markdown": False}, False),
        ],
        "fields": [
            _text_field("prompt", "Prompt"),
            _text_field("response_a", "Response A"),
            _text_field("response_b", "Response B"),
        ],
        "vectors": [],
        "metadata": [
            _metadata("dataset", "Dataset", {"type": "terms", "values": None}, True),
            _metadata(
                "source",
                "Label source",
                {"type": "terms", "values": ["ai", "human", "gold"]},
                False,
            ),
            _metadata("agreement", "Human agreement", {"min": 0, "max": 1, "type": "float"}, False),
            _metadata(
                "policy_version",
                "Policy version",
                {"min": None, "max": None, "type": "integer"},
                False,
            ),
            _metadata("annotators", "Annotators", {"type": "terms", "values": None}, False),
            _metadata(
                "rubric_version", "Guidelines version", {"type": "terms", "values": None}, False
            ),
        ],
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "mapping": None,
    }


def record_for(row: LabeledPair) -> dict[str, Any]:
    """One Argilla record for ``row`` in ``Record.to_dict()`` shape (see the module docstring)."""
    metadata: dict[str, Any] = {
        "dataset": row.dataset,
        "source": row.source,
        "agreement": row.agreement,
        "policy_version": row.policy_version,
        "annotators": list(row.annotators) or None,
        "rubric_version": row.rubric_version,
    }
    suggestions: dict[str, Any] = {}
    if row.ai_label is not None:
        suggestions[PREFERENCE] = {
            "value": row.ai_label,
            "score": row.ai_confidence,
            "agent": judge_tag(row),
            "type": "model",
        }
    responses: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for answer in row.answers:
        if answer.annotator in seen:
            continue
        seen.add(answer.annotator)
        user = str(annotator_uuid(answer.annotator))
        answered = {"user_id": user, "status": "submitted"}
        responses.setdefault(PREFERENCE, []).append({"value": answer.label, **answered})
        for question, value in _schema_values(answer).items():
            responses.setdefault(question, []).append({"value": value, **answered})
        if answer.rationale:
            responses.setdefault(RATIONALE, []).append({"value": answer.rationale, **answered})
    return {
        "id": row.pair_id,
        "fields": {
            "prompt": row.prompt,
            "response_a": row.response_a,
            "response_b": row.response_b,
        },
        "metadata": {k: v for k, v in metadata.items() if v is not None},
        "suggestions": suggestions,
        "responses": responses,
        "vectors": {},
        "status": "completed" if responses else "pending",
        "_server_id": None,
    }


def _schema_values(answer: HumanAnswer) -> dict[str, Any]:
    """The answer's ``strength`` and ``rating_<dimension>`` response values (none without)."""
    values: dict[str, Any] = {}
    if answer.strength in _STRENGTH_TEXT:
        values[STRENGTH] = answer.strength
    for name, value in (answer.ratings or {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and value in RATINGS:
            values[RATING_PREFIX + name] = value
    return values


def write_argilla(
    rows: Iterable[LabeledPair],
    out: Path,
    *,
    guidelines: str | None = None,
    schema: ExportSchema | None = None,
) -> int:
    """Stream ``rows`` to ``out`` as JSON Lines of records; write the settings beside it.

    The settings go to ``<out stem>.settings.json``, written once the records are: they have
    the questions of ``schema`` plus any strength or dimension that answers carry without the
    schema naming it (answers given under an older schema). Returns the number of records.
    """
    strength = False
    dimensions: dict[str, None] = {}
    count = 0
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            for answer in row.answers:
                found = _schema_values(answer)
                strength = strength or STRENGTH in found
                names = (q.removeprefix(RATING_PREFIX) for q in found if q != STRENGTH)
                dimensions.update(dict.fromkeys(names))
            handle.write(json.dumps(record_for(row), ensure_ascii=False))
            handle.write("\n")
            count += 1
    widened = (schema or ExportSchema()).widened(strength, dimensions)
    out.with_name(f"{out.stem}.settings.json").write_text(
        json.dumps(settings_json(guidelines, widened), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return count


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
    names = metadata.get("annotators") if isinstance(metadata, dict) else None
    pseudonyms = {
        str(annotator_uuid(n)): n
        for n in (names if isinstance(names, list) else [])
        if isinstance(n, str)
    }
    rationales = {
        str(user): value
        for value, user, status in answers.get(RATIONALE, [])
        if status == "submitted" and isinstance(value, str) and value.strip()
    }
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
        rationale = rationales.get(user)
        if rationale is not None:
            label["rationale"] = rationale
        if value == "both_bad":
            label["reason"] = rationale or IMPORTED_BOTH_BAD_REASON
        yield label


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
                if not isinstance(value, str) or value not in _STRENGTH_TEXT:
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
    "DEFAULT_GUIDELINES",
    "IMPORTED_BOTH_BAD_REASON",
    "annotator_uuid",
    "read_argilla",
    "record_for",
    "settings_json",
    "write_argilla",
]
