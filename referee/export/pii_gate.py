"""The release gate's second line of defence for redacted datasets: no personal data in any
exported text field.

A dataset ingested with ``--redact`` has its pairs redacted at ingest, and reviewer text should
be redacted when it is written (issue 21). Before a release of such a dataset is frozen,
:func:`pii_findings` runs Referee's built-in detectors (:func:`redaction.default_detectors`:
e-mail, phone, card, IBAN, SSN, IP address, keys and secrets) over **every text field a release
row exports**: the prompt and both responses, every answer's reason and rationale, and every
string in the pair's ``meta``. Findings name the pair, the field and the kinds found — never the
value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from formats.rows import LabeledPair
from redaction import default_detectors, find_spans
from redaction.spans import Detector

__all__ = ["exported_texts", "pii_findings"]


def _walk(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def exported_texts(row: LabeledPair) -> Iterator[tuple[str, str]]:
    """``(field, text)`` of every free text a release row carries."""
    yield "prompt", row.prompt
    yield "response_a", row.response_a
    yield "response_b", row.response_b
    for index, answer in enumerate(row.answers):
        if answer.reason:
            yield f"answers[{index}].reason", answer.reason
        if answer.rationale:
            yield f"answers[{index}].rationale", answer.rationale
    yield from _walk(row.meta, "meta")


def pii_findings(
    rows: Iterable[LabeledPair], detectors: list[Detector] | None = None
) -> list[dict[str, Any]]:
    """``{"pair_id", "field", "kinds"}`` for every exported text field holding personal data."""
    found: list[dict[str, Any]] = []
    use = detectors if detectors is not None else default_detectors()
    for row in rows:
        for field, text in exported_texts(row):
            spans = find_spans(text, use)
            if spans:
                kinds = sorted({span.kind for span in spans})
                found.append({"pair_id": row.pair_id, "field": field, "kinds": kinds})
    return found
