"""Label Studio: pairs out as tasks with pre-annotations, human answers back in as labels.

The project uses :data:`LABEL_CONFIG`: the prompt and both responses as ``Text`` tags, a
single-choice ``preference`` question (``A``, ``B``, ``Tie``, ``Both bad``) and an optional
``rationale`` text area. A dataset with an annotation schema (:mod:`referee.review.schema`) gets
:func:`label_config` of it: on the 5-point scale a required ``strength`` choice (``Slightly
better`` / ``Much better``) shown only when ``A`` or ``B`` is picked, and one required 1-5
``Rating`` per dimension, named ``rating_<dimension>``. The built-in schema adds nothing.

**Export** (:func:`write_label_studio`) writes a JSON array of tasks, the format of Label Studio's
*Import* (``POST /api/projects/{id}/import``, or the file dialog), plus the labeling config next
to it. Each task carries:

- ``data``: ``pair_id``, ``dataset``, ``prompt``, ``response_a``, ``response_b``; the pair's own
  ``meta`` goes to the task's ``meta``;
- ``predictions``: the AI label, when there is one, with ``model_version`` naming the judges and
  the routing policy (:func:`judge_tag`) and ``score`` its confidence;
- ``annotations``: one per human answer. Label Studio resolves ``completed_by`` on import to one
  of *its* users (an int id or ``{"email": ...}`` of an organization member) and refuses unknown
  ones, so it is left out: the importing user becomes the annotator. The Referee pseudonym
  travels in the ``meta`` of the ``preference`` result (``{"referee_annotator": ...}``, with
  ``referee_reason`` when the answer had one and ``referee_rubric_version``, the guidelines
  the people answered under, when the dataset has one): Label Studio's import stores
  ``result`` as given and its JSON export returns it. (Should an edit in the labeling UI drop
  it, the reader falls back to the Label Studio user.)
  ``ground_truth`` is set for gold answers (Label Studio's import default would be ``true``).
  An answer's strength and ratings are ``strength`` and ``rating_<dimension>`` results.

**Conversations** (issue 22): a dataset with conversation prompts is exported with
``conversational=True``. Its config shows the earlier turns as a chat, a ``Paragraphs`` tag
named ``dialogue`` (``value="$messages" layout="dialogue" nameKey="role" textKey="content"``)
in place of the prompt's ``Text``, before the two replies, and every control and result points
at it (``toName="dialogue"``). Every task then carries ``data.messages`` (a single-turn pair of
the same dataset as one ``user`` message, so the tag finds its data on every task);
``data.prompt`` keeps the flat text.

**Import** (:func:`read_label_studio`) reads Label Studio's *Export → JSON* (not JSON-MIN): one
label record per annotation that was not cancelled. The annotator is the Referee pseudonym when
the annotation carries one, else the Label Studio user's e-mail, else
``label-studio-user-<id>``. The ``strength`` choice and ``rating_<dimension>`` ratings come
back as ``strength`` and ``ratings`` when the annotation has them. Records come with the task's
1-based position in the array.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from formats.dpo import prompt_messages
from formats.label_studio_read import (
    CHOICE_FOR_LABEL,
    CHOICE_FOR_STRENGTH,
    IMPORTED_BOTH_BAD_REASON,
    MAX_RATING,
    META_KIND,
    META_LABEL_ID,
    META_ORIGIN,
    META_PAIR_ID,
    OBJECT,
    PREFERENCE,
    RATING_PREFIX,
    RATIONALE,
    STRENGTH,
)
from formats.rows import HumanAnswer, LabeledPair
from formats.schema_fields import ExportSchema

_CONFIG_HEAD = """\
<View>
  <Header value="Prompt"/>
  <Text name="prompt" value="$prompt"/>
  <View style="display: flex; gap: 1em;">
    <View style="flex: 1;">
      <Header value="Response A"/>
      <Text name="response_a" value="$response_a"/>
    </View>
    <View style="flex: 1;">
      <Header value="Response B"/>
      <Text name="response_b" value="$response_b"/>
    </View>
  </View>
  <Header value="Which response is better?"/>
  <Choices name="preference" toName="prompt" choice="single-radio" required="true" \
showInline="true">
    <Choice value="A" hint="Response A is better"/>
    <Choice value="B" hint="Response B is better"/>
    <Choice value="Tie" hint="Both are equally good"/>
    <Choice value="Both bad" hint="Neither response is acceptable"/>
  </Choices>
"""
_CONFIG_TAIL = """\
  <Header value="Why? (optional; please say why when both are bad)"/>
  <TextArea name="rationale" toName="prompt" rows="3" maxSubmissions="1" editable="true"/>
</View>
"""
LABEL_CONFIG = _CONFIG_HEAD + _CONFIG_TAIL
"""The labeling config of a dataset with the built-in schema (3 points, no dimensions)."""

_STRENGTH_CONTROL = """\
  <View visibleWhen="choice-selected" whenTagName="preference" whenChoiceValue="A,B">
    <Header value="How much better? (5-point scale)"/>
    <Choices name="strength" toName="prompt" choice="single-radio" required="true" \
showInline="true">
      <Choice value="Slightly better" hint="A &gt; B or B &gt; A"/>
      <Choice value="Much better" hint="A &#8811; B or B &#8811; A"/>
    </Choices>
  </View>
"""
_RATING_CONTROL = """\
  <Header value="{title} (1-5)"/>
  <Rating name="{name}" toName="prompt" maxRating="{max}" icon="star" required="true"/>
"""


DIALOGUE = "dialogue"
"""The ``Paragraphs`` tag showing a conversation, and the object every control points at."""
_PROMPT_TEXT = """\
  <Header value="Prompt"/>
  <Text name="prompt" value="$prompt"/>
"""
_DIALOGUE = f"""\
  <Header value="Conversation"/>
  <Paragraphs name="{DIALOGUE}" value="$messages" layout="dialogue" nameKey="role" \
textKey="content"/>
"""


def label_config(schema: ExportSchema | None = None, *, conversational: bool = False) -> str:
    """The labeling config for a dataset's annotation schema (see the module docstring).

    Dimension names are lower-case letters, digits and ``_`` (:func:`parse_dimensions
    <referee.review.schema.parse_dimensions>`), so they need no XML escaping.
    """
    schema = schema or ExportSchema()
    extra = _STRENGTH_CONTROL if schema.has_strength else ""
    for dimension in schema.dimensions:
        title = dimension.replace("_", " ").capitalize()
        extra += _RATING_CONTROL.format(title=title, name=RATING_PREFIX + dimension, max=MAX_RATING)
    config = _CONFIG_HEAD + extra + _CONFIG_TAIL
    if conversational:
        config = config.replace(_PROMPT_TEXT, _DIALOGUE, 1)
        config = config.replace(f'toName="{OBJECT}"', f'toName="{DIALOGUE}"')
    return config


def judge_tag(row: LabeledPair) -> str:
    """Who stood behind the AI label: ``"judge@prompt_version, ... | policy N"``."""
    judges = ", ".join(f"{j.judge}@{j.prompt_version}" for j in row.judges) or "referee"
    if row.policy_version is None:
        return judges
    return f"{judges} | policy {row.policy_version}"


def task_for(row: LabeledPair, *, conversational: bool = False) -> dict[str, Any]:
    """One Label Studio task for ``row``: data, the AI label as a prediction, human annotations.

    ``conversational``: the task is for the chat config (``data.messages``, results pointing at
    :data:`DIALOGUE`); a conversation row needs it, since the plain config has no chat to show.
    """
    if row.messages is not None and not conversational:
        raise ValueError(f"pair {row.pair_id} is a conversation: export with conversational=True")
    task = _plain_task(row)
    if conversational:
        task["data"]["messages"] = prompt_messages(row)
        for kind in ("predictions", "annotations"):
            for item in task.get(kind, []):
                for result in item["result"]:
                    result["to_name"] = DIALOGUE
    return task


def _plain_task(row: LabeledPair) -> dict[str, Any]:
    task: dict[str, Any] = {
        "data": {
            "pair_id": row.pair_id,
            "dataset": row.dataset,
            "prompt": row.prompt,
            "response_a": row.response_a,
            "response_b": row.response_b,
        }
    }
    if row.meta:
        task["meta"] = row.meta
    if row.ai_label is not None:
        task["predictions"] = [
            {
                "model_version": judge_tag(row),
                "score": row.ai_confidence,
                "result": [
                    {
                        **_choice_result(row.ai_label),
                        "meta": {META_PAIR_ID: row.pair_id, META_KIND: "ai"},
                    }
                ],
            }
        ]
    annotations = []
    for answer in row.answers:
        choice = _choice_result(answer.label)
        choice["meta"] = {"referee_annotator": answer.annotator, **_source_meta(row, answer)}
        if answer.reason:
            choice["meta"]["referee_reason"] = answer.reason
        if row.rubric_version:  # the guidelines the people answered under
            choice["meta"]["referee_rubric_version"] = row.rubric_version
        result = [choice, *_schema_results(answer)]
        if answer.rationale:
            result.append(_textarea_result(answer.rationale))
        annotations.append({"result": result, "ground_truth": answer.kind == "gold"})
    task["annotations"] = annotations
    return task


def _source_meta(row: LabeledPair, answer: HumanAnswer) -> dict[str, Any]:
    """The Referee ids an exported annotation carries, so its import is recognised."""
    meta: dict[str, Any] = {META_PAIR_ID: row.pair_id, META_KIND: answer.kind}
    if answer.label_id is not None:
        meta[META_LABEL_ID] = answer.label_id
    if answer.origin is not None:  # which database the label id belongs to
        meta[META_ORIGIN] = answer.origin
    return meta


def _ratings(answer: HumanAnswer) -> dict[str, int]:
    """The answer's ratings that a ``Rating`` control can hold (whole numbers 1-5)."""
    return {
        name: value
        for name, value in (answer.ratings or {}).items()
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_RATING
    }


def _schema_results(answer: HumanAnswer) -> list[dict[str, Any]]:
    """The ``strength`` and ``rating_<dimension>`` results of one answer (none without them)."""
    results: list[dict[str, Any]] = []
    if answer.strength in CHOICE_FOR_STRENGTH:
        results.append(_choice_result(answer.strength, STRENGTH, CHOICE_FOR_STRENGTH))
    for name, value in _ratings(answer).items():
        results.append(
            {
                "from_name": RATING_PREFIX + name,
                "to_name": OBJECT,
                "type": "rating",
                "value": {"rating": value},
            }
        )
    return results


def write_label_studio(
    rows: Iterable[LabeledPair],
    out: Path,
    *,
    schema: ExportSchema | None = None,
    conversational: bool = False,
) -> int:
    """Stream ``rows`` to ``out`` as a JSON array of tasks; write the config beside it.

    ``conversational``: the dataset has conversation prompts; use the chat config (module
    docstring) for every task.

    The config (:func:`label_config`) goes to ``<out stem>.label_config.xml``, written once the
    tasks are: it has the controls of ``schema`` plus any strength or dimension that answers
    carry without the schema naming it (answers given under an older schema), so that every
    result validates. Returns the number of tasks written.
    """
    strength = False
    dimensions: dict[str, None] = {}

    def tasks() -> Iterator[dict[str, Any]]:
        nonlocal strength
        for row in rows:
            for answer in row.answers:
                strength = strength or answer.strength in CHOICE_FOR_STRENGTH
                dimensions.update(dict.fromkeys(_ratings(answer)))
            yield task_for(row, conversational=conversational)

    count = write_json_array(tasks(), out)
    widened = (schema or ExportSchema()).widened(strength, dimensions)
    config = label_config(widened, conversational=conversational)
    out.with_name(f"{out.stem}.label_config.xml").write_text(config, encoding="utf-8")
    return count


def write_json_array(values: Iterable[Any], out: Path) -> int:
    """Write ``values`` as a JSON array, one element per line, without holding them all."""
    count = 0
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("[")
        for value in values:
            handle.write(",\n" if count else "\n")
            handle.write(json.dumps(value, ensure_ascii=False))
            count += 1
        handle.write("\n]\n" if count else "]\n")
    return count


def _choice_result(
    value: str, name: str = PREFERENCE, choices: dict[str, str] = CHOICE_FOR_LABEL
) -> dict[str, Any]:
    return {
        "from_name": name,
        "to_name": OBJECT,
        "type": "choices",
        "value": {"choices": [choices[value]]},
    }


def _textarea_result(text: str) -> dict[str, Any]:
    return {
        "from_name": RATIONALE,
        "to_name": OBJECT,
        "type": "textarea",
        "value": {"text": [text]},
    }


__all__ = [
    "CHOICE_FOR_LABEL",
    "CHOICE_FOR_STRENGTH",
    "DIALOGUE",
    "IMPORTED_BOTH_BAD_REASON",
    "LABEL_CONFIG",
    "RATING_PREFIX",
    "judge_tag",
    "label_config",
    "task_for",
    "write_json_array",
    "write_label_studio",
]
