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

A dataset with conversation prompts (issue 22) is exported with ``conversational=True``: the
``prompt`` field is then a :class:`ChatField` titled ``Conversation`` (settings type ``chat``,
no markdown, as the text fields) and every record's ``fields.prompt`` is the message list
(``[{"role", "content"}]``; a single-turn pair of the same dataset as one ``user`` message),
which Argilla shows as a chat above the two replies.

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
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from formats.argilla_read import (
    ANNOTATOR_NAMESPACE,
    ANSWERS_METADATA,
    IMPORTED_BOTH_BAD_REASON,
    PREFERENCE,
    RATING_PREFIX,
    RATINGS,
    RATIONALE,
    STRENGTH,
    STRENGTH_TEXT,
    annotator_uuid,
    answer_tag,
)
from formats.dpo import prompt_messages
from formats.label_studio_write import judge_tag
from formats.rows import HumanAnswer, LabeledPair
from formats.schema_fields import ExportSchema

_MIN_VISIBLE_OPTIONS = 3  # Argilla leaves ``visible_options`` unset below this many options

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


def _common(name: str, title: str) -> dict[str, Any]:
    return {"id": None, "inserted_at": None, "updated_at": None, "name": name, "title": title}


def _text_field(name: str, title: str, kind: str = "text") -> dict[str, Any]:
    """A ``TextField`` (``kind="text"``) or ``ChatField`` (``"chat"``), as serialized."""
    return {
        **_common(name, title),
        "settings": {"type": kind, "use_markdown": False},
        "required": True,
        "description": None,
        "dataset_id": None,
        "type": kind,
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
            _label_question(STRENGTH, "How much better? (A or B answers)", STRENGTH_TEXT, False)
        )
    for dimension in schema.dimensions:
        settings = {"type": "rating", "options": [{"value": v} for v in RATINGS]}
        title = dimension.replace("_", " ").capitalize() + " (1-5)"
        questions.append(_question(RATING_PREFIX + dimension, title, settings, False))
    return questions


def settings_json(
    guidelines: str | None = None,
    schema: ExportSchema | None = None,
    *,
    conversational: bool = False,
) -> dict[str, Any]:
    """The Argilla dataset settings, as ``Settings.serialize()`` writes them.

    ``conversational``: the prompt is a ``ChatField`` (see the module docstring).
    """
    prompt = _text_field("prompt", "Conversation", "chat") if conversational else None
    return {
        "guidelines": guidelines if guidelines is not None else DEFAULT_GUIDELINES,
        "questions": [
            _label_question(PREFERENCE, "Which response is better?", _LABEL_TEXT, True),
            *_schema_questions(schema or ExportSchema()),
            _question(RATIONALE, "Why?", {"type": "text", "use_markdown": False}, False),
        ],
        "fields": [
            prompt or _text_field("prompt", "Prompt"),
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
            _metadata(
                ANSWERS_METADATA,
                "Referee answers (annotator|kind|label id)",
                {"type": "terms", "values": None},
                False,
            ),
        ],
        "allow_extra_metadata": False,
        "distribution": {"strategy": "overlap", "min_submitted": 1},
        "mapping": None,
    }


def record_for(row: LabeledPair, *, conversational: bool = False) -> dict[str, Any]:
    """One Argilla record for ``row`` in ``Record.to_dict()`` shape (see the module docstring).

    ``conversational``: for the settings with the chat field; a conversation row needs it.
    """
    if row.messages is not None and not conversational:
        raise ValueError(f"pair {row.pair_id} is a conversation: export with conversational=True")
    metadata: dict[str, Any] = {
        "dataset": row.dataset,
        "source": row.source,
        "agreement": row.agreement,
        "policy_version": row.policy_version,
        "annotators": list(row.annotators) or None,
        "rubric_version": row.rubric_version,
        ANSWERS_METADATA: None,
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
    tags: list[str] = []
    for answer in row.answers:
        if answer.annotator in seen:
            continue
        seen.add(answer.annotator)
        tags.append(answer_tag(answer.annotator, answer.kind, answer.label_id, answer.origin))
        user = str(annotator_uuid(answer.annotator))
        answered = {"user_id": user, "status": "submitted"}
        responses.setdefault(PREFERENCE, []).append({"value": answer.label, **answered})
        for question, value in _schema_values(answer).items():
            responses.setdefault(question, []).append({"value": value, **answered})
        if answer.rationale:
            responses.setdefault(RATIONALE, []).append({"value": answer.rationale, **answered})
    metadata[ANSWERS_METADATA] = tags or None
    return {
        "id": row.pair_id,
        "fields": {
            "prompt": prompt_messages(row) if conversational else row.prompt,
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
    if answer.strength in STRENGTH_TEXT:
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
    conversational: bool = False,
) -> int:
    """Stream ``rows`` to ``out`` as JSON Lines of records; write the settings beside it.

    ``conversational``: the dataset has conversation prompts (a chat field, module docstring).

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
            record = record_for(row, conversational=conversational)
            handle.write(json.dumps(record, ensure_ascii=False))
            handle.write("\n")
            count += 1
    widened = (schema or ExportSchema()).widened(strength, dimensions)
    out.with_name(f"{out.stem}.settings.json").write_text(
        json.dumps(
            settings_json(guidelines, widened, conversational=conversational),
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    return count


__all__ = [
    "ANNOTATOR_NAMESPACE",
    "DEFAULT_GUIDELINES",
    "IMPORTED_BOTH_BAD_REASON",
    "annotator_uuid",
    "record_for",
    "settings_json",
    "write_argilla",
]
