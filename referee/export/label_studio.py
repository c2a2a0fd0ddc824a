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

**Import** (:func:`read_label_studio`) reads Label Studio's *Export → JSON* (not JSON-MIN): one
label record per annotation that was not cancelled. The annotator is the Referee pseudonym when
the annotation carries one, else the Label Studio user's e-mail, else
``label-studio-user-<id>``. The ``strength`` choice and ``rating_<dimension>`` ratings come
back as ``strength`` and ``ratings`` when the annotation has them. Records come with the task's
1-based position in the array.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from referee.export.rows import HumanAnswer, LabeledPair
from referee.export.schema_fields import ExportSchema
from referee.ingest.problems import Problem
from referee.ingest.readers import Item, Record

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

_CHUNK_CHARS = 1 << 20


def label_config(schema: ExportSchema | None = None) -> str:
    """The labeling config for a dataset's annotation schema (see the module docstring).

    Dimension names are lower-case letters, digits and ``_`` (:func:`parse_dimensions
    <referee.review.schema.parse_dimensions>`), so they need no XML escaping.
    """
    schema = schema or ExportSchema()
    extra = _STRENGTH_CONTROL if schema.has_strength else ""
    for dimension in schema.dimensions:
        title = dimension.replace("_", " ").capitalize()
        extra += _RATING_CONTROL.format(title=title, name=RATING_PREFIX + dimension, max=MAX_RATING)
    return _CONFIG_HEAD + extra + _CONFIG_TAIL


def judge_tag(row: LabeledPair) -> str:
    """Who stood behind the AI label: ``"judge@prompt_version, ... | policy N"``."""
    judges = ", ".join(f"{j.judge}@{j.prompt_version}" for j in row.judges) or "referee"
    if row.policy_version is None:
        return judges
    return f"{judges} | policy {row.policy_version}"


def task_for(row: LabeledPair) -> dict[str, Any]:
    """One Label Studio task for ``row``: data, the AI label as a prediction, human annotations."""
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
                "result": [_choice_result(row.ai_label)],
            }
        ]
    annotations = []
    for answer in row.answers:
        choice = _choice_result(answer.label)
        choice["meta"] = {"referee_annotator": answer.annotator}
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
    rows: Iterable[LabeledPair], out: Path, *, schema: ExportSchema | None = None
) -> int:
    """Stream ``rows`` to ``out`` as a JSON array of tasks; write the config beside it.

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
            yield task_for(row)

    count = write_json_array(tasks(), out)
    config = label_config((schema or ExportSchema()).widened(strength, dimensions))
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
    record: Record = {"annotator": annotator, "label": label}
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


def read_json_array(path: Path) -> Iterator[tuple[int, Any] | Problem]:
    """Elements of the JSON array in ``path`` with their 1-based positions, one at a time.

    Memory holds one element (and one read chunk), not the file. Anything that is not a
    well-formed array ends the stream with one :class:`Problem` giving the file line and column.
    """
    name = str(path)
    with path.open("rb") as binary:
        stream = _JsonArrayStream(io.TextIOWrapper(binary, encoding="utf-8-sig"))
        try:
            yield from stream.elements(name)
        except UnicodeDecodeError as exc:
            yield Problem(name, 0, None, f"not valid UTF-8 (byte {exc.start} of a read block)")


class _JsonArrayStream:
    """Incremental ``[v, v, ...]`` parser over a text stream using ``json.raw_decode``.

    ``buf[pos:]`` is the unread text. Consumed text is dropped before each read; ``line_base``
    and ``column_base`` remember where ``buf[0]`` sits in the file, for problem messages.
    """

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line_base = 1
        self.column_base = 1
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        """Read more text (at least as much as is buffered, so re-decoding stays linear)."""
        if self.eof:
            return False
        dropped = self.buf[: self.pos]
        newlines = dropped.count("\n")
        if newlines:
            self.line_base += newlines
            self.column_base = len(dropped) - dropped.rfind("\n")
        else:
            self.column_base += len(dropped)
        self.buf = self.buf[self.pos :]
        self.pos = 0
        chunk = self.text.read(max(_CHUNK_CHARS, len(self.buf)))
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _next_char(self) -> str:
        """The next non-blank character (not consumed), or ``""`` at the end of the file."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _problem(self, name: str, message: str, at: int | None = None) -> Problem:
        at = self.pos if at is None else at
        newline = self.buf.rfind("\n", 0, at)
        line = self.line_base + self.buf.count("\n", 0, at)
        column = at - newline if newline >= 0 else self.column_base + at
        return Problem(name, 0, None, f"broken JSON at line {line}, column {column}: {message}")

    def _decode(self) -> tuple[bool, Any, int]:
        """``(True, value, end)`` for the value at ``pos``, or ``(False, message, where)``."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                offset = exc.pos - self.pos  # ``_more`` moves the buffer: keep offsets relative
                if self._more():
                    continue
                return False, exc.msg, self.pos + offset
            if end < len(self.buf):
                return True, value, end
            length = end - self.pos  # a value at the buffer's end may go on (a number)
            if not self._more():
                return True, value, self.pos + length

    def elements(self, name: str) -> Iterator[tuple[int, Any] | Problem]:
        """The array's elements with 1-based positions; a problem ends the stream."""
        first = self._next_char()
        if first == "":
            yield Problem(name, 0, None, "the file is empty; expected a JSON array")
            return
        if first != "[":
            yield self._problem(name, "expected a JSON array starting with '['")
            return
        self.pos += 1
        number = 0
        if self._next_char() == "]":
            self.pos += 1
        else:
            while True:
                if self._next_char() == "":
                    yield self._problem(name, "the array is not closed with ']'")
                    return
                ok, value, end = self._decode()
                if not ok:
                    yield self._problem(name, f"{value} (in element {number + 1})", end)
                    return
                number += 1
                self.pos = end
                yield number, value
                after = self._next_char()
                if after == "]":
                    self.pos += 1
                    break
                if after != ",":
                    expected = "']' to close the array" if after == "" else "',' or ']'"
                    yield self._problem(name, f"expected {expected} after element {number}")
                    return
                self.pos += 1
        if self._next_char() != "":
            yield self._problem(name, "unexpected data after the closing ']'")


__all__ = [
    "CHOICE_FOR_LABEL",
    "CHOICE_FOR_STRENGTH",
    "IMPORTED_BOTH_BAD_REASON",
    "LABEL_CONFIG",
    "RATING_PREFIX",
    "judge_tag",
    "label_config",
    "read_json_array",
    "read_label_studio",
    "task_for",
    "write_json_array",
    "write_label_studio",
]
