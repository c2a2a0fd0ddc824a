"""Routing in batches from the database gives the decisions of routing everything at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, event, select

from referee.app.route import route_dataset
from referee.db.decisions import iter_current_decisions
from referee.db.engine import ensure_schema, make_engine, transaction
from referee.db.models import RoutingDecision
from referee.db.routing import (
    dataset_by_name,
    frozen_pair_ids,
    gold_pair_ids,
    load_policy,
    route_options,
)
from referee.db.signals import iter_pair_signal_batches, load_pair_signals
from routing.route_summary import summarize_run
from routing.router import RoutingRun, route_all
from tests.routing.cli_data import build_dataset, calibrate


def _in_memory(engine: Engine, *, stratify: bool, seed: int) -> RoutingRun:
    """The reference: every pair loaded at once and routed by ``route_all``."""
    with transaction(engine) as session:
        ds = dataset_by_name(session, "d")
        loaded = load_policy(session, ds)
        return route_all(
            load_pair_signals(session, ds.id, judges=loaded.policy.judges or None),
            loaded.policy,
            frozen=frozen_pair_ids(session, ds.id),
            spot_check_rate=0.2,
            seed=seed,
            stratify=stratify,
            options=route_options(loaded.body),
            known=gold_pair_ids(session, ds.id),
        )


@pytest.mark.parametrize("stratify", [False, True])
def test_batches_store_the_decisions_of_one_whole_run(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, stratify: bool
) -> None:
    _check_batches_equal_whole_run(sqlite_engine, sqlite_url, tmp_path, stratify)


def test_batches_store_the_decisions_of_one_whole_run_on_postgresql(
    pg_url: str, tmp_path: Path
) -> None:
    engine = make_engine(pg_url)
    try:
        ensure_schema(engine)
        _check_batches_equal_whole_run(engine, pg_url, tmp_path, True)
    finally:
        engine.dispose()


def _check_batches_equal_whole_run(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, stratify: bool
) -> None:
    data = build_dataset(tmp_path, sqlite_url, n=160, n_gold=100)
    calibrate(sqlite_url)
    reference = _in_memory(sqlite_engine, stratify=stratify, seed=5)
    with transaction(sqlite_engine) as session:
        ds = dataset_by_name(session, "d")
        loaded = load_policy(session, ds)
        # 7 does not divide 160: the last batch is short, and spot checks span batches
        tally, sample = route_dataset(
            session, ds, loaded, spot_check_rate=0.2, seed=5, stratify=stratify, batch_size=7
        )
    with transaction(sqlite_engine) as session:
        stored = list(iter_current_decisions(session, ds.id, batch_size=11))
    assert stored == reference.decisions
    assert len(stored) == data["n"]
    assert sample.selected == reference.spot_check.selected and sample.selected
    assert {k: v for k, v in tally.decisions.items() if v} == reference.counts()
    with transaction(sqlite_engine) as session:
        signals = load_pair_signals(session, ds.id)
    split = summarize_run(reference.decisions, {s.pair_id: s for s in signals}, ())
    assert {r: tally.gates.get(r, 0) for r in split.gates} == split.gates
    assert {r: tally.flags.get(r, 0) for r in split.flags} == split.flags


def test_signal_batches_cover_each_pair_once_and_match_the_whole_load(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    build_dataset(tmp_path, sqlite_url, n=50, n_gold=10, n_frozen=1)
    with transaction(sqlite_engine) as session:
        ds = dataset_by_name(session, "d")
        batches = list(iter_pair_signal_batches(session, ds.id, batch_size=8))
        whole = load_pair_signals(session, ds.id)
    assert [len(b) for b in batches] == [8] * 6 + [2]
    assert [s for b in batches for s in b] == whole


def test_statements_grow_with_batches_not_with_pairs(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    """No per-pair round trips: 160 pairs in batches of 80 take a handful of statements."""
    build_dataset(tmp_path, sqlite_url, n=160, n_gold=100)
    calibrate(sqlite_url)
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with transaction(sqlite_engine) as session:
        ds = dataset_by_name(session, "d")
        loaded = load_policy(session, ds)
        event.listen(sqlite_engine, "before_cursor_execute", count)
        try:
            route_dataset(session, ds, loaded, spot_check_rate=0.05, seed=0, stratify=False,
                          batch_size=80)  # fmt: skip
        finally:
            event.remove(sqlite_engine, "before_cursor_execute", count)
    # per batch: pairs, judgments, retire current, find same-policy rows, insert (5 x 2);
    # once: frozen ids, gold ids, the empty last page, inclusion probabilities, spot checks
    assert len(statements) == 15, statements
    with transaction(sqlite_engine) as session:
        rows = session.scalars(select(RoutingDecision).where(RoutingDecision.current)).all()
    assert len(rows) == 160
