"""``referee reviewers grant|revoke NAME --dataset D``: which datasets a token may open
(:mod:`referee.review.membership`)."""

from __future__ import annotations

from typing import Annotated

import typer

from referee.cli.common import load_settings, open_database, stderr, user_errors
from referee.db.engine import transaction
from referee.review.membership import grant, revoke

DatasetOption = Annotated[
    list[str], typer.Option("--dataset", help="A dataset (repeat for several).")
]


def reviewers_grant(
    name: Annotated[str, typer.Argument(help="The reviewer or lead.")],
    dataset: DatasetOption,
) -> None:
    """Let a reviewer's (or lead's) token open a dataset: lease, label, see its progress."""
    engine = open_database(load_settings())
    with user_errors(), transaction(engine) as session:
        changed = [d for d in dataset if grant(session, name, d)]
    for d in dataset:
        state = "may now open" if d in changed else "could already open"
        stderr.print(f"Reviewer {name!r} {state} dataset {d!r}.")


def reviewers_revoke(
    name: Annotated[str, typer.Argument(help="The reviewer or lead.")],
    dataset: DatasetOption,
) -> None:
    """Close a dataset to a reviewer's token (their labels stay; open leases lapse)."""
    engine = open_database(load_settings())
    with user_errors(), transaction(engine) as session:
        changed = [d for d in dataset if revoke(session, name, d)]
    for d in dataset:
        state = "may no longer open" if d in changed else "could not open"
        stderr.print(f"Reviewer {name!r} {state} dataset {d!r}.")


def register(app: typer.Typer) -> None:
    """Add ``grant`` and ``revoke`` to the ``reviewers`` command group."""
    app.command("grant")(reviewers_grant)
    app.command("revoke")(reviewers_revoke)


__all__ = ["register", "reviewers_grant", "reviewers_revoke"]
