"""Conversation and k-wise pairs stored directly (ingest of these shapes is helper A's part of
issue 22), with gold labels as their final labels."""

from __future__ import annotations

from itertools import combinations

from sqlalchemy import Engine, select

from judge.conversation import Message, flat_prompt, messages_to_json
from referee.db.engine import transaction
from referee.db.models import Dataset, HumanLabel, Pair

CHAT = (
    Message("system", "You are a terse assistant."),
    Message("user", "What is the capital of France?"),
    Message("assistant", "Paris."),
    Message("user", "And of Italy?"),
)


def dataset_id(engine: Engine, name: str = "d") -> int:
    """The dataset called ``name``, made when missing."""
    with transaction(engine) as s:
        found = s.scalar(select(Dataset.id).where(Dataset.name == name))
        if found is None:
            ds = Dataset(name=name)
            s.add(ds)
            s.flush()
            found = ds.id
        return int(found)


def add_pair(
    engine: Engine,
    pair_id: str,
    a: str,
    b: str,
    *,
    turns: tuple[Message, ...] | None = None,
    prompt: str = "a plain question",
    group: tuple[str, str, str] | None = None,
    gold: str | None = None,
    dataset: str = "d",
) -> None:
    """Store one pair (a conversation when ``turns``; k-wise when ``group`` = (record id,
    ref of A, ref of B)) and, with ``gold``, its gold label."""
    ds = dataset_id(engine, dataset)
    with transaction(engine) as s:
        s.add(
            Pair(
                id=pair_id,
                dataset_id=ds,
                prompt=flat_prompt(turns) if turns else prompt,
                response_a=a,
                response_b=b,
                meta={},
                content_hash=pair_id,
                messages=messages_to_json(turns) if turns else None,
                group_id=group[0] if group else None,
                response_a_ref=group[1] if group else None,
                response_b_ref=group[2] if group else None,
            )
        )
        if gold is not None:
            s.flush()
            s.add(HumanLabel(pair_id=pair_id, annotator="lead", label=gold, kind="gold",
                             reason="both wrong" if gold == "both_bad" else None))  # fmt: skip


def add_kwise(
    engine: Engine,
    record: str,
    responses: dict[str, str],
    outcome: dict[tuple[str, str], str],
    *,
    turns: tuple[Message, ...] | None = None,
) -> list[str]:
    """All pairs of a k-wise record; ``outcome[(ref_a, ref_b)]`` is the gold label of the pair
    with ``ref_a`` as A (missing: pending). Returns the pair ids."""
    ids = []
    for ref_a, ref_b in combinations(responses, 2):
        pair_id = f"{record}-{ref_a}-{ref_b}"
        add_pair(
            engine, pair_id, responses[ref_a], responses[ref_b], turns=turns,
            prompt=f"prompt of {record}", group=(record, ref_a, ref_b),
            gold=outcome.get((ref_a, ref_b)),
        )  # fmt: skip
        ids.append(pair_id)
    return ids
