"""The light table clauses of ``referee.db.tables`` name real tables and columns of the schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Table

from referee.db import tables
from referee.db.models import Base

LIGHT = [
    tables.datasets,
    tables.pairs,
    tables.human_labels,
    tables.judgments,
    tables.routing_decisions,
    tables.jobs,
    tables.job_items,
]


@pytest.mark.parametrize("light", LIGHT, ids=[t.name for t in LIGHT])
def test_every_light_column_is_a_model_column_of_the_same_kind(light: Table) -> None:
    model = Base.metadata.tables[light.name]
    for column in light.columns:
        assert column.name in model.columns, (light.name, column.name)
        real = model.columns[column.name].type
        assert column.type._type_affinity is real._type_affinity, (light.name, column.name)


def test_timestamps_come_back_aware_in_utc() -> None:
    kind = tables.UtcDateTime()
    naive = datetime(2026, 1, 2, 3, 4, 5)
    assert kind.process_result_value(naive, None) == naive.replace(tzinfo=UTC)
    plus_two = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    back = kind.process_result_value(plus_two, None)
    assert back is not None and back.tzinfo is UTC and back.hour == 3
    assert kind.process_result_value(None, None) is None
