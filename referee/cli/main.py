"""The ``referee`` command: one Typer app; each command group lives in its own module."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import typer  # noqa: E402

from referee.cli import (  # noqa: E402
    admin,
    agreement,
    calibrate,
    demo,
    ingest,
    jobs,
    report,
    review,
    route,
)

app = typer.Typer(
    name="referee",
    help="Referee: hybrid LLM-judge + human labeling for pairwise preference data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for module in (admin, ingest, jobs, agreement, calibrate, route, review, report, demo):
    module.register(app)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
