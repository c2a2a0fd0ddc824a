"""``referee unredact`` (the audited way back to redacted values) and ``referee vault new-key``."""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from sqlalchemy import select

from referee.cli.common import (
    EXIT_BAD_INPUT,
    UserError,
    emit_json,
    fail,
    load_settings,
    open_database,
    stdout,
    user_errors,
)
from referee.db.engine import session_factory
from referee.db.models import Pair
from referee.db.routing import dataset_by_name

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
vault_app = typer.Typer(help="The redaction vault.", no_args_is_help=True)


def _meta_strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for item in value.values():
            _meta_strings(item, out)
    elif isinstance(value, list):
        for item in value:
            _meta_strings(item, out)


def _restore_meta(value: Any, restored: list[str]) -> Any:
    """``value`` with its strings replaced, in walk order, by ``restored`` (consumed)."""
    if isinstance(value, str):
        return restored.pop(0)
    if isinstance(value, dict):
        return {k: _restore_meta(v, restored) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore_meta(v, restored) for v in value]
    return value


def unredact(
    dataset: Annotated[str, typer.Option("--dataset", help="Dataset of the pair.")],
    pair: Annotated[str, typer.Option("--pair", help="Id of the pair to show unredacted.")],
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Why, for the vault's audit log.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one pair with its redacted values restored from the vault (needs the key; audited)."""
    from redaction import RedactionError
    from referee.privacy import Vault, VaultKey

    settings = load_settings()
    if not settings.vault_url:
        fail("unredact needs REFEREE_VAULT_URL (the vault's database)")
    engine = open_database(settings)
    with user_errors(), session_factory(engine)() as session:
        ds = dataset_by_name(session, dataset)
        row = session.scalar(select(Pair).where(Pair.id == pair, Pair.dataset_id == ds.id))
        if row is None:
            raise UserError(f"dataset {dataset!r} has no pair {pair!r}")
        if row.redaction_version is None:
            raise UserError(f"pair {pair!r} was not redacted: there is nothing to restore")
        texts = [row.prompt, row.response_a, row.response_b]
        meta = row.meta or {}
    meta_texts: list[str] = []
    _meta_strings(meta, meta_texts)
    vault = Vault(settings.vault_url)
    try:
        from referee.privacy import unredact_texts

        key = VaultKey.from_string(settings.vault_key) if settings.vault_key else None
        restored = unredact_texts(
            [*texts, *meta_texts],
            dataset,
            vault,
            key,
            actor=f"cli:{getpass.getuser()}",
            ref=f"pair {pair}" + (f" ({purpose})" if purpose else ""),
        )
    except RedactionError as exc:  # a missing or wrong key (VaultKeyError) included
        fail(f"cannot unredact: {exc}", EXIT_BAD_INPUT)
    finally:
        vault.dispose()
    doc = {
        "dataset": dataset,
        "pair_id": pair,
        "redaction_version": row.redaction_version,
        "prompt": restored[0],
        "response_a": restored[1],
        "response_b": restored[2],
        "meta": _restore_meta(meta, list(restored[3:])),
    }
    if as_json:
        emit_json(doc)
        return
    for name in ("prompt", "response_a", "response_b"):
        stdout.print(f"[bold]{name}[/]")
        stdout.print(doc[name], markup=False, highlight=False)


@vault_app.command("new-key")
def new_key() -> None:
    """Print a new random vault key for REFEREE_VAULT_KEY (keep it out of the main database)."""
    from referee.privacy import generate_vault_key

    typer.echo(generate_vault_key())


def register(app: typer.Typer) -> None:
    """Add ``unredact`` and the ``vault`` group to ``app``."""
    app.command("unredact")(unredact)
    app.add_typer(vault_app, name="vault")
