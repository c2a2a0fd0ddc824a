"""Database rows → plain calibration data (:class:`calibration.signals.PairSignals`, gold)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from calibration.signals import PairSignals, majority_label, signals_from_records
from referee.db.models import HumanLabel, Judgment, Pair

__all__ = ["iter_pair_signal_batches", "load_gold", "load_pair_signals"]


_ID_BATCH = 500  # pair ids per IN (...) list: memory holds one batch of texts


def load_pair_signals(
    session: Session,
    dataset_id: int,
    judges: Sequence[str] | None = None,
    pair_ids: Collection[str] | None = None,
) -> list[PairSignals]:
    """Every pair of the dataset (or of ``pair_ids``) with its judges' verdicts in both orders.

    When a (pair, judge, order) was judged under several prompt versions or several times, the
    newest judgment (latest ``created_at``, then highest id) is used. Pairs nobody judged are
    included with no judges, so callers can route them as ``not_judged``.

    A pair is flagged for judge injection when any judge's verdict flagged it or when the
    detector (:func:`judge.injection.scan_responses`) finds an attempt in its responses: verdicts
    recorded outside Referee (``judgments import``) were never scanned, and a flagged pair is
    never auto-accepted under any policy.
    """
    if pair_ids is None:
        batches = iter_pair_signal_batches(session, dataset_id, judges)
        return sorted((s for batch in batches for s in batch), key=lambda s: s.pair_id)
    wanted = sorted(set(pair_ids))
    out: list[PairSignals] = []
    for start in range(0, len(wanted), _ID_BATCH):
        ids = wanted[start : start + _ID_BATCH]
        pair_query = select(
            Pair.id, Pair.response_a, Pair.response_b, Pair.meta, Pair.messages
        ).where(Pair.dataset_id == dataset_id, Pair.id.in_(ids))
        judgment_query = _judgment_query(judges).where(
            Pair.dataset_id == dataset_id, Judgment.pair_id.in_(ids)
        )
        out.extend(_signals(session, list(session.execute(pair_query)), judgment_query, set(ids)))
    return out


def iter_pair_signal_batches(
    session: Session,
    dataset_id: int,
    judges: Sequence[str] | None = None,
    *,
    batch_size: int = 500,
) -> Iterator[list[PairSignals]]:
    """:func:`load_pair_signals` of the whole dataset, ``batch_size`` pairs at a time.

    Pages through the dataset's pairs by id (keyset pagination on the primary key, in the
    database's order of ids), so memory holds one batch of pairs and their judgments, whatever
    the dataset's size. Each batch comes out sorted by id (as :func:`load_pair_signals`).
    """
    last: str | None = None
    while True:
        query = select(Pair.id, Pair.response_a, Pair.response_b, Pair.meta, Pair.messages).where(
            Pair.dataset_id == dataset_id
        )
        if last is not None:
            query = query.where(Pair.id > last)
        pairs = list(session.execute(query.order_by(Pair.id).limit(batch_size)))
        if not pairs:
            return
        last = pairs[-1][0]
        ids = [row[0] for row in pairs]
        judgment_query = _judgment_query(judges).where(Judgment.pair_id.in_(ids))
        yield _signals(session, pairs, judgment_query, None)


def _judgment_query(judges: Sequence[str] | None) -> Select[*tuple[Any, ...]]:
    """Judgment columns the signals need, oldest first (the newest per call wins)."""
    query: Select[*tuple[Any, ...]] = (
        select(
            Judgment.pair_id,
            Judgment.judge,
            Judgment.order,
            Judgment.winner,
            Judgment.confidence,
            Judgment.logprob_confidence,
            Judgment.injection_suspected,
        )
        .join(Pair, Pair.id == Judgment.pair_id)
        .order_by(Judgment.created_at, Judgment.id)
    )
    if judges:
        query = query.where(Judgment.judge.in_(list(judges)))
    return query


def _signals(
    session: Session,
    pair_rows: Sequence[Any],
    judgment_query: Select[*tuple[Any, ...]],
    wanted: set[str] | None,
) -> list[PairSignals]:
    """Signals of ``pair_rows`` (id, response_a, response_b, meta, messages) from
    ``judgment_query``; the injection scan covers both responses and every earlier turn."""
    from judge.conversation import messages_from_json
    from judge.injection import scan_responses

    pairs: list[dict[str, Any]] = []
    flagged: set[str] = set()
    for pid, a, b, meta, messages in pair_rows:
        pairs.append({"id": pid, "response_a": a, "response_b": b, "meta": meta or {}})
        if scan_responses(a, b, messages_from_json(messages)).suspected:
            flagged.add(pid)
    records: list[dict[str, Any]] = []
    for pair_id, judge, order, winner, conf, logprob_conf, suspected in session.execute(
        judgment_query
    ):
        if wanted is not None and pair_id not in wanted:
            continue
        records.append(
            {
                "pair_id": pair_id,
                "judge": judge,
                "order": order,
                "winner": winner,
                "confidence": conf,
                "logprob_confidence": logprob_conf,
                "injection_suspected": suspected or pair_id in flagged,
            }
        )
    return signals_from_records(records, pairs)


def load_gold(session: Session, dataset_id: int, kind: str = "gold") -> dict[str, str]:
    """Pair id → human label of ``kind``; several annotators → strict majority, else left out."""
    query = (
        select(HumanLabel.pair_id, HumanLabel.label)
        .join(Pair, Pair.id == HumanLabel.pair_id)
        .where(Pair.dataset_id == dataset_id, HumanLabel.kind == kind)
    )
    by_pair: dict[str, list[str]] = {}
    for pair_id, label in session.execute(query):
        by_pair.setdefault(pair_id, []).append(label)
    gold: dict[str, str] = {}
    for pair_id, labels in by_pair.items():
        winner = majority_label(labels)
        if winner is not None:
            gold[pair_id] = winner
    return gold
