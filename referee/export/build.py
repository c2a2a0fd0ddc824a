"""Labeled pairs from the database: final labels joined with texts, judges and pseudonyms.

:func:`labeled_pairs` is the one place a pair's final label meets its texts and provenance;
``referee labels final``, ``referee export`` and ``referee release`` all read it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from formats.near_duplicates import FrozenIndex
from formats.rows import HumanAnswer, JudgeRef, LabeledPair, label_origin
from formats.schema_fields import deciding_fields
from referee.db.models import Dataset, HumanLabel, Judgment, Pair
from referee.review.final_labels import Aggregation, FinalLabel, iter_final_labels
from referee.review.service import as_utc

PAIR_BATCH = 1_000

__all__ = ["annotator_pseudonyms", "frozen_index", "labeled_pairs"]


def annotator_pseudonyms(session: Session, dataset_id: int) -> dict[str, str]:
    """Annotator name -> ``annotator-N``, numbered by first answer in the dataset.

    Exports never carry reviewers' names. Numbers follow the time of each person's first label
    of the dataset, so they stay the same as labels are added.
    """
    rows = session.execute(
        select(HumanLabel.annotator)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id)
        .order_by(HumanLabel.created_at, HumanLabel.id)
    )
    out: dict[str, str] = {}
    for (name,) in rows:
        if name not in out:
            out[name] = f"annotator-{len(out) + 1}"
    return out


def frozen_index(session: Session) -> FrozenIndex:
    """Every frozen-evaluation pair, in every dataset, indexed for near-duplicate lookups."""
    index = FrozenIndex()
    rows = session.execute(
        select(Pair.id, Dataset.name, Pair.prompt, Pair.response_a, Pair.response_b)
        .join(Dataset, Dataset.id == Pair.dataset_id)
        .where(Pair.frozen_eval.is_(True))
        .order_by(Pair.id)
        .execution_options(yield_per=2_000)
    )
    for pair_id, dataset, prompt, response_a, response_b in rows:
        index.add(pair_id, dataset, prompt, response_a, response_b)
    return index


def _judges_by_pair(session: Session, pair_ids: list[str]) -> dict[str, list[JudgeRef]]:
    out: dict[str, set[tuple[str, str]]] = defaultdict(set)
    rows = session.execute(
        select(Judgment.pair_id, Judgment.judge, Judgment.prompt_version).where(
            Judgment.pair_id.in_(pair_ids), Judgment.status == "ok"
        )
    )
    for pid, judge, version in rows:
        out[pid].add((judge, version))
    return {pid: [JudgeRef(j, v) for j, v in sorted(refs)] for pid, refs in out.items()}


def _moment(moment: datetime | None) -> str | None:
    """A time as exported: UTC ISO 8601 always with microseconds, so every value of a column
    is the same type to readers that infer timestamps (pyarrow reads whole seconds as a
    timestamp and fractional ones as text)."""
    return as_utc(moment).isoformat(timespec="microseconds") if moment is not None else None


def _to_row(
    final: FinalLabel,
    pair: Pair,
    dataset: str,
    judges: list[JudgeRef],
    names: dict[str, str],
    origin: str,
) -> LabeledPair:
    answers = tuple(
        HumanAnswer(
            annotator=names.get(v.annotator, "annotator-?"),
            label=v.label,
            kind=v.kind,
            at=_moment(v.created_at),
            rationale=v.rationale,
            reason=v.reason,
            unsafe=v.unsafe,
            strength=v.strength,
            ratings=v.ratings,
            rubric_version=v.rubric_version,
            label_id=v.label_id,
            origin=origin if v.label_id is not None else None,
        )
        for v in final.votes
    )
    used_judges = tuple(judges) if final.source == "ai" or final.ai_label is not None else ()
    versions = sorted({j.prompt_version for j in used_judges})
    schema = deciding_fields(final.label, final.source, final.votes)  # export/schema_fields.py
    return LabeledPair(
        pair_id=final.pair_id,
        dataset=dataset,
        prompt=pair.prompt,
        response_a=pair.response_a,
        response_b=pair.response_b,
        label=final.label,
        source=final.source,
        method=final.method,
        # no policy made a gold label: it carries neither the routing decision nor its policy
        decision=final.decision if final.source != "gold" else None,
        policy_version=final.policy_version if final.source != "gold" else None,
        judges=used_judges,
        ai_label=final.ai_label,
        ai_confidence=final.ai_confidence,
        answers=answers,
        agreement=final.agreement,
        labeled_at=_moment(final.decided_at),
        reasons=final.reasons,
        rubric_version=(
            ",".join(versions) if versions and final.source == "ai" else schema.rubric_version
        ),
        strength=schema.strength,
        ratings=schema.ratings,
        redaction_version=pair.redaction_version,
        meta=dict(pair.meta or {}),
        messages=pair.messages,  # a conversation and k-wise provenance (issue 22)
        group_id=pair.group_id,
        response_a_ref=pair.response_a_ref,
        response_b_ref=pair.response_b_ref,
    )


def labeled_pairs(
    session: Session, dataset: Dataset, *, method: Aggregation = "majority"
) -> Iterator[LabeledPair]:
    """Every non-frozen pair of ``dataset`` with its final label and provenance, by pair id.

    Streams: pairs, their decisions, texts and judges are read :data:`PAIR_BATCH` pairs at a
    time (keyset pagination on the pair id), so memory does not grow with the dataset.
    """
    name = dataset.name
    names = annotator_pseudonyms(session, dataset.id)
    origin = label_origin(dataset.id, dataset.name, dataset.created_at)  # next to label ids
    for chunk in iter_final_labels(session, dataset.id, method=method, batch_size=PAIR_BATCH):
        ids = [f.pair_id for f in chunk]
        pairs = {p.id: p for p in session.scalars(select(Pair).where(Pair.id.in_(ids)))}
        judges = _judges_by_pair(session, ids)
        for final in chunk:
            pair = pairs[final.pair_id]
            yield _to_row(final, pair, name, judges.get(final.pair_id, []), names, origin)
