"""``referee incidents list|export``: the pairs people answered both-bad or marked unsafe.

What an incident is and who answers it: :mod:`referee.review.escalation`; the documents:
:mod:`referee.export.incidents`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from referee.app.incidents import export_incidents, incidents
from referee.cli.common import emit_json, fail, open_database, stdout, user_errors

incidents_app = typer.Typer(help="Incidents: pairs answered both-bad or marked unsafe.")

DatasetOpt = Annotated[str, typer.Option("--dataset", help="Dataset name.")]


@incidents_app.command("list")
def incidents_list(
    dataset: DatasetOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Each incident: pair, status, routing and human reasons, who flagged it (pseudonym)."""
    engine = open_database()
    with user_errors():
        docs = incidents(engine, dataset)
    if as_json:
        emit_json(
            {
                "dataset": dataset,
                "open": sum(d["status"] == "open" for d in docs),
                "incidents": docs,
            }
        )
        return
    if not docs:
        stdout.print(f"no incidents in '{dataset}'")
        return
    table = Table("pair", "status", "flagged by", "routing reasons", "human reasons")
    table.columns[0].no_wrap = True
    for doc in docs:
        human = "; ".join(
            f"{r['annotator']}: {r['label']}{' unsafe' if r['unsafe'] else ''}"
            + (f" ({r['reason']})" if r["reason"] else "")
            for r in doc["human_reasons"]
        )
        status = doc["status"]
        if doc["resolution"] is not None:
            res = doc["resolution"]
            status = f"resolved: {res['label']} by {res['by']}"
        table.add_row(
            doc["pair_id"],
            status,
            doc["flagged_by"],
            ", ".join(doc["routing_reasons"]) or "-",
            human,
        )
    opened = sum(d["status"] == "open" for d in docs)
    stdout.print(f"[bold]{len(docs)} incident(s)[/] in '{dataset}', {opened} open")
    stdout.print(table)


@incidents_app.command("export")
def incidents_export(
    dataset: DatasetOpt,
    out: Annotated[Path, typer.Option("--out", help="JSON Lines file to write.")],
) -> None:
    """Write every incident as JSON Lines: the pair's texts and final label, why it is an
    incident, status, flagger and reasons (pseudonyms only)."""
    if out.is_dir():
        fail(f"--out {out}: is a folder; give a file name (e.g. {out / 'incidents.jsonl'})")
    if not out.parent.is_dir():
        fail(f"--out {out}: folder {out.parent} does not exist")
    engine = open_database()
    with user_errors():
        written = export_incidents(engine, dataset, out)
    stdout.print(f"wrote {written:,} incident(s) to {out}")


def register(app: typer.Typer) -> None:
    """Add ``incidents`` to ``app``."""
    app.add_typer(incidents_app, name="incidents")
