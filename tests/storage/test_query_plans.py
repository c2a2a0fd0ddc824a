"""The hot queries of the streaming commands use indexes (issue 24), on SQLite and PostgreSQL.

Each test runs the real code path (signals for route and calibrate, final labels, labeled rows
for release and export, ``status``, a ``/v1/next`` lease) while recording every SELECT it sends,
then asks the database for the plan of each one with the same parameters:

* no statement reads every row of ``pairs``, ``judgments`` or ``routing_decisions`` (SQLite: no
  ``SCAN`` of them;
  PostgreSQL, planned with ``enable_seqscan = off`` so a missing index shows even on a small
  table: no sequential scan and no index scan without an index condition);
* the keyset pages (``pairs.id > ? ORDER BY pairs.id LIMIT ?``) come from an index in order, with
  no sort: a sort would read the dataset's every pair for each page.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from sqlalchemy import Engine, event

from referee.db.engine import transaction
from referee.db.models import Dataset, HumanLabel, Judgment, Pair
from referee.db.routing import dataset_by_name
from referee.db.signals import iter_pair_signal_batches
from referee.db.status import dataset_status
from referee.export.build import labeled_pairs
from referee.review.config import QueueConfig
from referee.review.final_labels import iter_final_labels
from referee.review.queue_build import rebuild_queue
from referee.review.service import lease_next
from tests.review.review_factory import make_reviewer, make_routed_dataset

HOT_TABLES = ("pairs", "judgments", "routing_decisions")


class _Embedder:
    """Hashed word counts: enough for the queue's diversity ranking."""

    name = "plan-test"

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.split():
                out[i, sum(word.encode()) % 16] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1.0)


def _populate(engine: Engine) -> None:
    """Two routed datasets (the filter by dataset matters), judgments on every pair, answers."""
    for name in ("ds", "other"):
        routed = make_routed_dataset(engine, name, n_review=30, n_spot=10, n_auto=40, n_gold=8)
        with transaction(engine) as s:
            ids = [*routed.review, *routed.spot, *routed.auto, *routed.gold]
            for pid in ids:
                for order in ("AB", "BA"):
                    s.add(
                        Judgment(
                            pair_id=pid, judge="j1", order=order, prompt_version="v1", winner="A"
                        )
                    )
            for pid in routed.review[:5]:
                s.add(HumanLabel(pair_id=pid, annotator="ann", label="A", kind="review"))
            extra = Pair(
                id=f"{name}-frozen",
                dataset_id=routed.dataset_id,
                prompt="frozen",
                response_a="a",
                response_b="b",
                meta={},
                content_hash=hashlib.sha256(name.encode()).hexdigest(),
                frozen_eval=True,
            )
            s.add(extra)


@contextmanager
def _recording(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every SELECT sent on ``engine`` inside the block, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def record(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and not many:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _sqlite_plan(engine: Engine, statement: str, params: Any) -> list[str]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
        return [str(row[-1]) for row in cursor.fetchall()]
    finally:
        raw.close()


def _pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _pg_nodes(child)


def _pg_plan(engine: Engine, statement: str, params: Any) -> list[dict[str, Any]]:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, params)
        (doc,) = cursor.fetchone()
        return list(_pg_nodes(doc[0]["Plan"]))
    finally:
        raw.rollback()
        raw.close()


def _full_scans(engine: Engine, statement: str, params: Any) -> list[str]:
    """The hot tables this statement reads in full, as the plan says."""
    if engine.dialect.name == "sqlite":
        pattern = re.compile(r"^SCAN (" + "|".join(HOT_TABLES) + r")\b")
        return [line for line in _sqlite_plan(engine, statement, params) if pattern.match(line)]
    found = []
    for node in _pg_plan(engine, statement, params):
        if node.get("Relation Name") not in HOT_TABLES:
            continue
        kind = node["Node Type"]
        if kind == "Seq Scan" or (kind.startswith("Index") and "Index Cond" not in node):
            found.append(f"{kind} on {node['Relation Name']}")
    return found


def _sorts(engine: Engine, statement: str, params: Any) -> list[str]:
    if engine.dialect.name == "sqlite":
        return [line for line in _sqlite_plan(engine, statement, params) if "TEMP B-TREE" in line]
    return [n["Node Type"] for n in _pg_plan(engine, statement, params) if n["Node Type"] == "Sort"]


def _touches_hot_table(statement: str) -> bool:
    return any(re.search(rf"\b{table}\b", statement) for table in HOT_TABLES)


def _keyset_page(statement: str) -> bool:
    return "pairs.id >" in statement and "ORDER BY pairs.id" in statement


def _check(engine: Engine, run: Callable[[], object]) -> list[str]:
    """Run ``run``; assert the plans of what it sent; return the statements checked."""
    with _recording(engine) as seen:
        run()
    checked: list[str] = []
    for statement, params in seen:
        if not _touches_hot_table(statement):
            continue
        checked.append(statement)
        scans = _full_scans(engine, statement, params)
        assert not scans, f"full scan {scans} in:\n{statement}"
        if _keyset_page(statement):
            sorts = _sorts(engine, statement, params)
            assert not sorts, f"keyset page sorted {sorts}:\n{statement}"
    return checked


@pytest.fixture
def populated(engine: Engine) -> Engine:
    _populate(engine)
    return engine


def _in_session(engine: Engine, work: Callable[[Any, Dataset], object]) -> Callable[[], object]:
    def run() -> object:
        with transaction(engine) as session:
            return work(session, dataset_by_name(session, "ds"))

    return run


def test_signal_pages_and_their_judgments_use_indexes(populated: Engine) -> None:
    def work(session: Any, ds: Dataset) -> object:
        return [len(b) for b in iter_pair_signal_batches(session, ds.id, ["j1"], batch_size=25)]

    checked = _check(populated, _in_session(populated, work))
    assert sum(_keyset_page(s) for s in checked) >= 4  # 89 pairs in pages of 25, then an empty one
    assert any("judgments" in s for s in checked)


def test_final_labels_and_labeled_rows_use_indexes(populated: Engine) -> None:
    def work(session: Any, ds: Dataset) -> object:
        finals = [f for b in iter_final_labels(session, ds.id, batch_size=20) for f in b]
        rows = list(labeled_pairs(session, ds))
        assert len(finals) == len(rows) == 88  # the frozen pair is left out
        return rows

    checked = _check(populated, _in_session(populated, work))
    assert any("routing_decisions" in s for s in checked)
    assert sum(_keyset_page(s) for s in checked) >= 5


def test_status_counts_use_indexes(populated: Engine) -> None:
    def work(session: Any, ds: Dataset) -> object:
        status = dataset_status(session, ds.id)
        assert status["pairs"] == 89 and status["frozen_eval_pairs"] == 1
        return status

    assert _check(populated, _in_session(populated, work))


def test_next_item_selection_uses_indexes(populated: Engine) -> None:
    reviewer, _ = make_reviewer(populated, "rev")
    config = QueueConfig(gold_rate=0.0)
    embedder = _Embedder()
    with transaction(populated) as session:
        rebuild_queue(session, dataset_by_name(session, "ds").id, config, embedder=embedder)

    def work(session: Any, ds: Dataset) -> object:
        lease = lease_next(session, ds, session.merge(reviewer), config, embedder=embedder)
        assert lease is not None
        return lease

    assert _check(populated, _in_session(populated, work))
