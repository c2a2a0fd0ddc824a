"""``referee incidents list|export``: the pairs people answered both-bad or marked unsafe.

What an incident is: :mod:`referee.review.escalation`; the documents:
:mod:`referee.export.incidents`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from referee.db.engine import session_factory
from referee.db.routing import dataset_by_name
from referee.errors import RuntimeFailure
from referee.export.incidents import incident_export_records, list_incidents

__all__ = ["export_incidents", "incidents"]


def incidents(engine: Engine, dataset: str) -> list[dict[str, Any]]:
    """The dataset's incidents, oldest first: pair, status, reasons, flagger (pseudonyms)."""
    with session_factory(engine)() as session:
        return list_incidents(session, dataset_by_name(session, dataset))


def export_incidents(engine: Engine, dataset: str, out: Path) -> int:
    """Write every incident of ``dataset`` to ``out`` as JSON Lines (the pair's texts and final
    label, why, status, flagger and reasons; pseudonyms only), whole or not at all: the lines go
    to a temporary file beside ``out`` that then replaces it. Returns the number written;
    :class:`RuntimeFailure` when the file cannot be written."""
    with session_factory(engine)() as session:
        records = incident_export_records(session, dataset_by_name(session, dataset))
    fd, staging = tempfile.mkstemp(prefix=".referee-incidents-", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for record in records:
                handle.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
        Path(staging).replace(out)
    except OSError as exc:
        Path(staging).unlink(missing_ok=True)
        raise RuntimeFailure(f"cannot write {out}: {exc.strerror or exc}") from exc
    return len(records)
