"""The preference format TRL's ``DPOTrainer`` reads: ``prompt``, ``chosen``, ``rejected``.

``conversational`` style (the default) writes message lists, which TRL applies the model's chat
template to: ``prompt`` is the whole conversation before the reply (every turn with its role,
system turns included) and for a single-turn pair ``[{"role": "user", "content": ...}]``;
``chosen`` and ``rejected`` each ``[{"role": "assistant", "content": ...}]``, the candidate
next turn. ``standard`` style writes plain strings: a conversation's ``prompt`` is then its flat
text (``User: ...`` / ``Assistant: ...`` turns, :func:`judge.conversation.flat_prompt`). So a
column never mixes types: in one style every row is a message list, in the other a string. Every row
also carries ``pair_id``, ``source``, ``agreement``, ``policy_version`` and ``rubric_version``,
and ``strength`` (``slight``/``much`` when people answered on a 5-point scale, else null) tells
a margin-aware trainer how clear the preference was. A dataset with rated dimensions
(:mod:`referee.review.schema`) adds ``ratings``: ``{dimension: 1-5}`` from the answers that
decided the label (:mod:`formats.schema_fields`), null when nobody rated the pair (AI
labels); in Parquet a struct with one int64 field per dimension. Without dimensions the column
is left out.

A tie is never a preference: the main file holds only A/B rows. With ``ties`` the ties go to a
second file beside it, ``<stem>.ties<suffix>`` (:func:`tie_record`: ``prompt``,
``response_a``, ``response_b`` and the provenance, no ``chosen``/``rejected``), which
``DPOTrainer`` cannot train on by mistake.

JSON Lines (``.jsonl``, through :func:`~formats.typed_jsonl.write_typed_jsonl`, so
``datasets`` infers every column's type from the first rows) or Parquet (``.parquet``, with a
declared schema), streamed in batches.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from formats.rows import LabeledPair
from formats.typed_jsonl import write_typed_jsonl

Style = Literal["conversational", "standard"]
PARQUET_BATCH = 10_000

__all__ = ["Style", "dpo_record", "prompt_messages", "tie_record", "ties_path", "write_dpo"]


def dpo_record(row: LabeledPair, style: Style, *, dimensions: Sequence[str] = ()) -> dict[str, Any]:
    """One DPO row from a labeled pair whose label is A or B.

    With ``dimensions`` the row has ``ratings``: the pair's rating of each (null for a
    dimension nobody rated), or null when the pair has no ratings at all.
    """
    if row.label == "B":
        chosen, rejected = row.response_b, row.response_a
    elif row.label == "A":
        chosen, rejected = row.response_a, row.response_b
    else:
        raise ValueError(f"pair {row.pair_id}: label {row.label!r} is not a preference")
    out: dict[str, Any]
    if style == "conversational":
        out = {
            "prompt": prompt_messages(row),
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}],
        }
    else:
        out = {"prompt": row.prompt, "chosen": chosen, "rejected": rejected}
    out.update(_provenance(row))
    if dimensions:
        given = row.ratings or {}
        out["ratings"] = {d: given.get(d) for d in dimensions} if row.ratings else None
    return out


def tie_record(row: LabeledPair, style: Style) -> dict[str, Any]:
    """One tie: the prompt and both responses (no chosen or rejected) with its provenance."""
    if row.label != "tie":
        raise ValueError(f"pair {row.pair_id}: label {row.label!r} is not a tie")
    prompt: Any = row.prompt
    if style == "conversational":
        prompt = prompt_messages(row)
    out = {"prompt": prompt, "response_a": row.response_a, "response_b": row.response_b}
    out["label"] = "tie"
    out.update(_provenance(row))
    return out


def prompt_messages(row: LabeledPair) -> list[dict[str, str]]:
    """The row's prompt as messages: its conversation, or one user turn for a plain prompt."""
    if row.messages is not None:
        return [{"role": m["role"], "content": m["content"]} for m in row.messages]
    return [{"role": "user", "content": row.prompt}]


def _provenance(row: LabeledPair) -> dict[str, Any]:
    return {
        "pair_id": row.pair_id,
        "source": row.source,
        "agreement": row.agreement,
        "policy_version": row.policy_version,
        "strength": row.strength,  # slight | much on a 5-point schema, else None
        "rubric_version": row.rubric_version,  # the guidelines the people answered under
    }


def ties_path(out: Path) -> Path:
    """Where ``--include-ties`` writes the ties: ``train.jsonl`` -> ``train.ties.jsonl``."""
    return out.with_name(f"{out.stem}.ties{out.suffix}")


def _parquet_schema(style: Style, dimensions: Sequence[str], *, ties: bool = False) -> Any:
    import pyarrow as pa

    message = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    text = message if style == "conversational" else pa.string()
    if ties:
        head = [("prompt", text), ("response_a", pa.string()), ("response_b", pa.string()),
                ("label", pa.string())]  # fmt: skip
    else:
        head = [("prompt", text), ("chosen", text), ("rejected", text)]
    fields = [
        *head,
        ("pair_id", pa.string()),
        ("source", pa.string()),
        ("agreement", pa.float64()),
        ("policy_version", pa.int64()),
        ("strength", pa.string()),
        ("rubric_version", pa.string()),
    ]
    if dimensions and not ties:
        fields.append(("ratings", pa.struct([(d, pa.int64()) for d in dimensions])))
    return pa.schema(fields)


def write_dpo(
    rows: Iterable[LabeledPair],
    out: Path,
    *,
    style: Style = "conversational",
    ties: bool = False,
    dimensions: Sequence[str] = (),
) -> int:
    """Write ``rows`` (already filtered to preferences, and ties when ``ties``) to ``out``.

    The format follows the extension: ``.parquet`` writes Parquet in batches of
    :data:`PARQUET_BATCH` rows, else JSON Lines. Ties go to :func:`ties_path` (always written
    with ``ties``, empty when there is none). Returns the preference rows written.
    """
    dims = tuple(dimensions)
    tie_rows: list[LabeledPair] = []

    def preferences() -> Iterator[dict[str, Any]]:
        for row in rows:
            if row.label == "tie":
                tie_rows.append(row)  # ties are few: a tie is never a preference
                continue
            yield dpo_record(row, style, dimensions=dims)

    parquet = out.suffix.lower() == ".parquet"
    if parquet:
        written = _write_parquet(preferences(), out, _parquet_schema(style, dims))
    else:
        written = write_typed_jsonl(preferences(), out)
    if ties:
        records = (tie_record(row, style) for row in tie_rows)
        if parquet:
            _write_parquet(records, ties_path(out), _parquet_schema(style, dims, ties=True))
        else:
            write_typed_jsonl(records, ties_path(out))
    elif tie_rows:
        raise ValueError("ties reached write_dpo without ties=True")
    return written


def _write_parquet(records: Iterable[dict[str, Any]], out: Path, schema: Any) -> int:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow ships with the dev and parquet extras
        raise RuntimeError(
            "writing Parquet needs pyarrow: pip install 'referee[parquet]', or write .jsonl"
        ) from exc
    written = 0
    batch: list[dict[str, Any]] = []
    with pq.ParquetWriter(str(out), schema) as writer:
        for record in records:
            batch.append(record)
            if len(batch) >= PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                written += len(batch)
                batch.clear()
        if batch or written == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            written += len(batch)
    return written
