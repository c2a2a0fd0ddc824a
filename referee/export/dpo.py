"""The preference format TRL's ``DPOTrainer`` reads: ``prompt``, ``chosen``, ``rejected``.

``conversational`` style (the default) writes message lists, which TRL applies the model's chat
template to: ``prompt = [{"role": "user", "content": ...}]``, ``chosen`` and ``rejected`` each
``[{"role": "assistant", "content": ...}]``. ``standard`` style writes plain strings. Every row
also carries ``pair_id``, ``source``, ``agreement`` and ``policy_version``; with ties included a
boolean ``tie`` column marks them (``chosen`` is then response A, and the row is not a
preference), and ``strength`` (``slight``/``much`` when people answered on a 5-point scale,
else null) tells a margin-aware trainer how clear the preference was. A dataset with rated
dimensions (:mod:`referee.review.schema`) adds ``ratings``: ``{dimension: 1-5}`` from the answers
that decided the label (:mod:`referee.export.schema_fields`), null when nobody rated the pair
(AI labels); in Parquet a struct with one int64 field per dimension. Without dimensions the
column is left out. JSON Lines (``.jsonl``) or Parquet (``.parquet``), streamed in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson

from referee.export.rows import LabeledPair

Style = Literal["conversational", "standard"]
PARQUET_BATCH = 10_000

__all__ = ["Style", "dpo_record", "write_dpo"]


def dpo_record(
    row: LabeledPair, style: Style, *, tie_column: bool, dimensions: Sequence[str] = ()
) -> dict[str, Any]:
    """One DPO row from a labeled pair whose label is A, B (or tie, with ``tie_column``).

    With ``dimensions`` the row has ``ratings``: the pair's rating of each (null for a
    dimension nobody rated), or null when the pair has no ratings at all.
    """
    if row.label == "B":
        chosen, rejected = row.response_b, row.response_a
    elif row.label in ("A", "tie"):
        chosen, rejected = row.response_a, row.response_b
    else:
        raise ValueError(f"pair {row.pair_id}: label {row.label!r} is not a preference")
    out: dict[str, Any]
    if style == "conversational":
        out = {
            "prompt": [{"role": "user", "content": row.prompt}],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
        }
    else:
        out = {"prompt": row.prompt, "chosen": chosen, "rejected": rejected}
    out["pair_id"] = row.pair_id
    out["source"] = row.source
    out["agreement"] = row.agreement
    out["policy_version"] = row.policy_version
    out["strength"] = row.strength  # slight | much on a 5-point schema, else None
    out["rubric_version"] = row.rubric_version  # the guidelines the people answered under
    if dimensions:
        given = row.ratings or {}
        out["ratings"] = {d: given.get(d) for d in dimensions} if row.ratings else None
    if tie_column:
        out["tie"] = row.label == "tie"
    return out


def _parquet_schema(style: Style, tie_column: bool, dimensions: Sequence[str]) -> Any:
    import pyarrow as pa

    message = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    text = message if style == "conversational" else pa.string()
    fields = [
        ("prompt", text),
        ("chosen", text),
        ("rejected", text),
        ("pair_id", pa.string()),
        ("source", pa.string()),
        ("agreement", pa.float64()),
        ("policy_version", pa.int64()),
        ("strength", pa.string()),
        ("rubric_version", pa.string()),
    ]
    if dimensions:
        fields.append(("ratings", pa.struct([(d, pa.int64()) for d in dimensions])))
    if tie_column:
        fields.append(("tie", pa.bool_()))
    return pa.schema(fields)


def write_dpo(
    rows: Iterable[LabeledPair],
    out: Path,
    *,
    style: Style = "conversational",
    ties: bool = False,
    dimensions: Sequence[str] = (),
) -> int:
    """Write ``rows`` (already filtered to preferences) to ``out``; returns rows written.

    The format follows the extension: ``.parquet`` writes Parquet in batches of
    :data:`PARQUET_BATCH` rows, anything else JSON Lines. ``dimensions`` (the dataset's rated
    dimensions) adds the ``ratings`` column.
    """
    dims = tuple(dimensions)
    if out.suffix.lower() == ".parquet":
        return _write_parquet(rows, out, style, ties, dims)
    written = 0
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    with out.open("wb") as handle:
        for row in rows:
            record = dpo_record(row, style, tie_column=ties, dimensions=dims)
            handle.write(dumps(record, option=newline))
            written += 1
    return written


def _write_parquet(
    rows: Iterable[LabeledPair], out: Path, style: Style, ties: bool, dims: tuple[str, ...]
) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow ships with the dev and parquet extras
        raise RuntimeError(
            "writing Parquet needs pyarrow: pip install 'referee[parquet]', or write .jsonl"
        ) from exc
    schema = _parquet_schema(style, ties, dims)
    written = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(str(out), schema) as writer:
        for row in rows:
            batch.append(dpo_record(row, style, tie_column=ties, dimensions=dims))
            if len(batch) >= PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                written += len(batch)
                batch.clear()
        if batch or written == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            written += len(batch)
    return written
