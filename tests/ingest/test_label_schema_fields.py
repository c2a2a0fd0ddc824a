"""Imported labels may carry the annotation schema's ``strength`` and ``ratings`` (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest

from referee.ingest.records import LabelRecord, validate_label

BASE = {"pair_id": "p1", "annotator": "ann-1", "label": "A"}


def errors(raw: dict[str, Any], *, from_csv: bool = False) -> list[tuple[str, str]]:
    result = validate_label(raw, max_field_bytes=1000, from_csv=from_csv)
    assert isinstance(result, list), result
    return result


def test_strength_and_ratings_are_kept_sorted() -> None:
    record = validate_label(
        {**BASE, "strength": "much", "ratings": {"safety": 5, "helpfulness": 1}},
        max_field_bytes=1000,
    )
    assert isinstance(record, LabelRecord)
    assert record.strength == "much"
    assert list((record.ratings or {}).items()) == [("helpfulness", 1), ("safety", 5)]
    plain = validate_label(BASE, max_field_bytes=1000)
    assert isinstance(plain, LabelRecord)
    assert (plain.strength, plain.ratings) == (None, None)


def test_ratings_from_csv_are_json_text() -> None:
    record = validate_label(
        {**BASE, "strength": "", "ratings": '{"clarity": 3}'}, max_field_bytes=1000, from_csv=True
    )
    assert isinstance(record, LabelRecord)
    assert (record.strength, record.ratings) == (None, {"clarity": 3})
    assert errors({**BASE, "ratings": "clarity=3"}, from_csv=True)[0][0] == "ratings"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"strength": "huge"}, "unknown value"),
        ({"label": "tie", "strength": "much"}, "a tie answer has no strength"),
        ({"ratings": [3]}, "must be an object"),
        ({"ratings": {"clarity": 6}}, "whole number 1-5"),
        ({"ratings": {"clarity": True}}, "whole number 1-5"),
        ({"ratings": {"Clarity!": 3}}, "lower-case letters"),
    ],
)
def test_bad_strength_or_ratings_name_the_field(extra: dict[str, Any], message: str) -> None:
    found = errors({**BASE, **extra})
    assert len(found) == 1
    field, text = found[0]
    assert field in extra and message in text
