"""Rows shared by the Label Studio and Argilla tests: the same pairs go through both tools.

``ROWS`` is a dataset with the built-in schema (3 points, no dimensions): an AI label, a pair
three people answered (one of them gold), a pending pair and a both-bad pair in non-ASCII text.
``SCHEMA_ROWS`` is a dataset on the 5-point scale rating ``helpfulness`` and ``safety``
(:data:`SCHEMA`), with strengths, ratings and rationales, and a gold answer imported without any.
"""

from __future__ import annotations

from typing import Any

from formats.rows import HumanAnswer, JudgeRef, LabeledPair
from formats.schema_fields import ExportSchema
from referee.ingest.records import LabelRecord, validate_label

JUDGES = (JudgeRef("gpt-4/vanilla", "recorded"), JudgeRef("palm-2", "v2"))
SCHEMA = ExportSchema(scale=5, dimensions=("helpfulness", "safety"))


def pair(pair_id: str, **kw: Any) -> LabeledPair:
    """A pending pair of dataset ``llmbar``; keywords set any other field."""
    base: dict[str, Any] = {
        "pair_id": pair_id,
        "dataset": "llmbar",
        "prompt": f"prompt of {pair_id}",
        "response_a": "first answer",
        "response_b": "second answer",
        "label": None,
        "source": None,
        "method": "pending",
    }
    return LabeledPair(**{**base, **kw})


ROWS = [
    pair(
        "p-ai",
        label="A",
        source="ai",
        method="auto_accept",
        policy_version=3,
        judges=JUDGES,
        ai_label="A",
        ai_confidence=0.93,
        meta={"source": "LLMBar/Natural"},
    ),
    pair(
        "p-human",
        label="B",
        source="human",
        method="majority",
        ai_label="tie",
        ai_confidence=0.55,
        judges=JUDGES[:1],
        answers=(
            HumanAnswer("ann-1", "B", "review", "2026-01-02T03:04:05Z", "B is more accurate"),
            HumanAnswer("ann-2", "tie", "review", None),
            HumanAnswer("gold-1", "both_bad", "gold", None, None, "both refuse to answer"),
        ),
        agreement=1 / 3,
    ),
    pair("p-pending"),
    pair(
        "p-ünï",
        prompt="Übersetze „Hallo“ 👋",
        response_b="",
        label="both_bad",
        source="human",
        method="single",
        answers=(HumanAnswer("ann-1", "both_bad", "review", None, "wrong\nand rude"),),
    ),
]


def _rated(annotator: str, label: str, strength: str | None, **ratings: int) -> HumanAnswer:
    rationale = f"{annotator} says {label}"
    reason = rationale if label == "both_bad" else None
    return HumanAnswer(
        annotator, label, "review", None, rationale, reason, False, strength, ratings, "v2"
    )


SCHEMA_ROWS = [
    pair(
        "s-human",
        label="B",
        source="human",
        method="majority",
        ai_label="A",
        ai_confidence=0.6,
        judges=JUDGES,
        answers=(
            _rated("ann-1", "B", "much", helpfulness=4, safety=5),
            _rated("ann-2", "B", "slight", helpfulness=3, safety=5),
            _rated("ann-3", "tie", None, helpfulness=2, safety=4),
            HumanAnswer("gold-1", "A", "gold", None),  # imported gold: no strength, no ratings
        ),
        agreement=0.5,
        strength="slight",  # one much, one slight: the weaker claim (schema_fields)
        ratings={"helpfulness": 4, "safety": 5},
        rubric_version="v2",
    ),
    pair(
        "s-bad",
        label="both_bad",
        source="human",
        method="single",
        answers=(_rated("ann-1", "both_bad", None, helpfulness=1, safety=2),),
        ratings={"helpfulness": 1, "safety": 2},
        rubric_version="v2",
    ),
    pair("s-ai", label="A", source="ai", method="auto_accept", ai_label="A", ai_confidence=0.9),
]

Answer = tuple[str, str, str, str | None]
SchemaAnswer = tuple[str, str, str | None, dict[str, int] | None, str | None]


def answer_tuples(rows: list[LabeledPair]) -> list[Answer]:
    """(pair, annotator, label, rationale) of every answer, in row order."""
    return [(r.pair_id, a.annotator, a.label, a.rationale) for r in rows for a in r.answers]


def schema_tuples(rows: list[LabeledPair]) -> list[SchemaAnswer]:
    """(pair, annotator, strength, ratings, rationale) of every answer, in row order."""
    return [
        (r.pair_id, a.annotator, a.strength, a.ratings or None, a.rationale)
        for r in rows
        for a in r.answers
    ]


def read_schema_tuples(records: list[dict[str, Any]]) -> list[SchemaAnswer]:
    """The same tuples from imported label records."""
    return [
        (r["pair_id"], r["annotator"], r.get("strength"), r.get("ratings"), r.get("rationale"))
        for r in records
    ]


def validated(raw: dict[str, Any]) -> LabelRecord:
    """``raw`` through the importer's own label validation, which must accept it."""
    result = validate_label(raw, max_field_bytes=1_000_000)
    assert isinstance(result, LabelRecord), result
    return result
