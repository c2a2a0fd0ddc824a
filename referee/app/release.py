"""``referee release``: freeze the final labels, through the promotion gate, into a folder.

:func:`make_release` does it in one transaction: the cost summary, the release rows
(:func:`referee.export.release.create_release`) and the folder written from them. A refusal by
the gate is recorded (in a transaction of its own, since the release's is rolled back) and
raised again for the caller to show.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from formats.release_files import write_release_folder
from referee.app.cost_report import build_cost_report
from referee.db.engine import transaction
from referee.db.routing import dataset_by_name
from referee.errors import RuntimeFailure, UserError
from referee.export.release import (
    ReleaseOptions,
    ReleaseRefused,
    create_release,
    record_refusal,
    release_bodies,
)

__all__ = ["make_release"]


def make_release(
    engine: Engine, dataset: str, folder: Path, options: ReleaseOptions, *, human_cost: float
) -> dict[str, Any]:
    """Create the release of ``dataset`` and write it to ``folder``; returns its manifest.

    Raises :class:`ReleaseRefused` (recorded) when the gate says no, :class:`UserError` for
    options the release refuses, :class:`RuntimeFailure` when the folder cannot be written."""
    try:
        with transaction(engine) as session:
            ds = dataset_by_name(session, dataset)
            options = replace(options, cost_summary=_cost_summary(session, dataset, human_cost))
            try:
                made = create_release(session, ds, options)
            except ValueError as exc:
                raise UserError(str(exc)) from exc
            write_release_folder(folder, release_bodies(session, made), made.manifest)
            return made.manifest
    except ReleaseRefused as refused:
        with transaction(engine) as session:
            record_refusal(session, refused)
        raise
    except OSError as exc:
        raise RuntimeFailure(
            f"cannot write the release folder {folder}: {exc.strerror or exc}"
        ) from exc


def _cost_summary(session: Session, dataset: str, human_cost: float) -> dict[str, Any]:
    """The cost report's figures for the manifest (a note when there is no report yet)."""
    try:
        cost = build_cost_report(session, dataset, human_cost=human_cost, reviewers_per_item=1)
    except UserError as exc:
        return {"note": str(exc)}
    return {
        "human_cost": human_cost,
        **cost["cost"],
        "quality": {k: v for k, v in cost["quality"].items() if k != "spot_check"},
    }
