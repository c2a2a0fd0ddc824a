"""``referee unredact`` (the audited way back to redacted values) and ``referee vault new-key``."""

from __future__ import annotations

import getpass
from dataclasses import asdict
from typing import Annotated

import typer

from referee.app.unredact import unredact_pair
from referee.cli.common import emit_json, fail, load_settings, open_database, stdout, user_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
vault_app = typer.Typer(help="The redaction vault.", no_args_is_help=True)


def unredact(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset of the pair.")],
    pair: Annotated[str, typer.Option("--pair", help="Id of the pair to show unredacted.")],
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Why, for the vault's audit log.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one pair with its redacted values restored from the vault (needs the key; audited)."""
    settings = load_settings()
    if not settings.vault_url:
        fail("unredact needs REFEREE_VAULT_URL (the vault's database)")
    engine = open_database(settings)
    with user_errors():
        restored = unredact_pair(
            engine,
            dataset,
            pair,
            vault_url=settings.vault_url,
            vault_key=settings.vault_key,
            actor=f"cli:{getpass.getuser()}",
            purpose=purpose,
        )
    if as_json:
        emit_json(asdict(restored))
        return
    for name in ("prompt", "response_a", "response_b"):
        stdout.print(f"[bold]{name}[/]")
        stdout.print(getattr(restored, name), markup=False, highlight=False)


@vault_app.command("new-key")
def new_key() -> None:
    """Print a new random vault key for REFEREE_VAULT_KEY (keep it out of the main database)."""
    from referee.privacy import generate_vault_key

    typer.echo(generate_vault_key())


def register(app: typer.Typer) -> None:
    """Add ``unredact`` and the ``vault`` group to ``app``."""
    app.command("unredact")(unredact)
    app.add_typer(vault_app, name="vault")
