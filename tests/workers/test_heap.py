"""Freezing the start-up heap exempts it from later collections."""

from __future__ import annotations

import gc

from workers.heap import freeze_startup_heap


def test_objects_alive_at_start_up_are_frozen_and_new_ones_are_not() -> None:
    gc.unfreeze()
    before = gc.get_freeze_count()
    kept = [object() for _ in range(1000)]  # noqa: F841 -- alive while freezing
    try:
        frozen = freeze_startup_heap(collect=False)
        assert frozen >= before + 1000  # at least everything kept alive was frozen
        # frozen objects other threads (left by earlier tests) drop may leave the count; nothing
        # joins it without another freeze
        assert gc.get_freeze_count() <= frozen
        assert gc.collect(2) >= 0  # collections still run, on what was made since
        cycle: list[object] = []
        cycle.append(cycle)
        del cycle
        assert gc.collect(2) >= 1  # new garbage is still found
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0
