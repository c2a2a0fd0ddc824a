"""Referee's own JSON Lines formats: ``jsonl`` (every provenance field) and ``incidents``.

``jsonl`` writes :meth:`LabeledPair.to_json` per line: the format other tools can rely on, and
what releases read back. Every row has every key with one type (see ``to_json``), and the rows
that first give a column (or a nested field) a value come first, so ``datasets`` loads a file of
any size and mix. ``incidents`` writes the both-bad and unsafe
pairs for incident review: the pair, its label, why it is an incident, and every human reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from formats.rows import LabeledPair
from formats.rules import incident_reasons
from formats.typed_jsonl import write_typed_jsonl

__all__ = ["incident_record", "write_incidents", "write_jsonl", "write_records"]


def write_jsonl(rows: Iterable[LabeledPair], out: Path) -> int:
    """One :meth:`LabeledPair.to_json` object per line, type-stable (every key in every row)
    and each column's first value-bearing row first (:func:`formats.typed_jsonl.
    write_typed_jsonl`), so ``datasets`` infers every column's type; returns rows written."""
    return write_typed_jsonl((row.to_json() for row in rows), out)


def incident_record(row: LabeledPair) -> dict[str, Any]:
    """One incident: the texts, the final label, why it is an incident and people's reasons."""
    return {
        "pair_id": row.pair_id,
        "dataset": row.dataset,
        "incident": incident_reasons(row),
        "label": row.label,
        "source": row.source,
        "routing_reasons": list(row.reasons),
        "human_reasons": [
            {"annotator": a.annotator, "label": a.label, "reason": a.reason}
            for a in row.answers
            if a.reason or a.label == "both_bad"
        ],
        "prompt": row.prompt,
        "response_a": row.response_a,
        "response_b": row.response_b,
    }


def write_records(records: Iterable[dict[str, Any]], out: Path) -> int:
    """One JSON object per line; returns records written."""
    written = 0
    with out.open("wb") as handle:
        for record in records:
            handle.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
            written += 1
    return written


def write_incidents(rows: Iterable[LabeledPair], out: Path) -> int:
    """One :func:`incident_record` per line (rows already filtered to incidents)."""
    written = 0
    with out.open("wb") as handle:
        for row in rows:
            handle.write(orjson.dumps(incident_record(row), option=orjson.OPT_APPEND_NEWLINE))
            written += 1
    return written
