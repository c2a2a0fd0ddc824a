"""``referee unredact``: one pair with its redacted values restored from the vault (audited).

The pair's three texts and every string in its ``meta`` go to the vault in one call
(:func:`referee.privacy.unredact_texts`), which logs who asked and why; the strings of ``meta``
are put back in the order :func:`_meta_strings` walks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from referee.db.counts import find_pair
from referee.db.engine import session_factory
from referee.db.routing import dataset_by_name
from referee.errors import UserError

__all__ = ["Unredacted", "unredact_pair"]


@dataclass(frozen=True)
class Unredacted:
    """One pair as it was before redaction."""

    dataset: str
    pair_id: str
    redaction_version: str
    prompt: str
    response_a: str
    response_b: str
    meta: Any


def unredact_pair(
    engine: Engine,
    dataset: str,
    pair: str,
    *,
    vault_url: str,
    vault_key: str | None,
    actor: str,
    purpose: str | None,
) -> Unredacted:
    """Pair ``pair`` of ``dataset`` with its values restored; :class:`UserError` when it does
    not exist, was not redacted, or the key is missing or wrong."""
    from redaction import RedactionError
    from referee.privacy import Vault, VaultKey, unredact_texts

    with session_factory(engine)() as session:
        row = find_pair(session, dataset_by_name(session, dataset).id, pair)
        if row is None:
            raise UserError(f"dataset {dataset!r} has no pair {pair!r}")
        if row.redaction_version is None:
            raise UserError(f"pair {pair!r} was not redacted: there is nothing to restore")
        texts = [row.prompt, row.response_a, row.response_b]
        meta, version = row.meta or {}, row.redaction_version
    meta_texts: list[str] = []
    _meta_strings(meta, meta_texts)
    vault = Vault(vault_url)
    try:
        key = VaultKey.from_string(vault_key) if vault_key else None
        restored = unredact_texts(
            [*texts, *meta_texts],
            dataset,
            vault,
            key,
            actor=actor,
            ref=f"pair {pair}" + (f" ({purpose})" if purpose else ""),
        )
    except RedactionError as exc:  # a missing or wrong key (VaultKeyError) included
        raise UserError(f"cannot unredact: {exc}") from exc
    finally:
        vault.dispose()
    prompt, response_a, response_b = restored[:3]
    meta_restored = _restore_meta(meta, list(restored[3:]))
    return Unredacted(dataset, pair, version, prompt, response_a, response_b, meta_restored)


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
