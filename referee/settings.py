"""Configuration read from the environment, only at entry points (CLI, worker start, web app).

Library code never reads the environment: entry points build a :class:`Settings` and pass the
values they need down as plain arguments.

Every setting is one field of :class:`Settings` (its default and description) and one line of
:data:`ACCEPTED` (what it accepts, told to the user when a value is refused); the checks are
plain functions in :data:`_CHECKS`. No validation library is imported: ``referee status`` and
``referee config`` read their settings in well under a millisecond.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import Field, asdict, dataclass, field, fields
from typing import Any, ClassVar

from referee.errors import UserError
from referee.url_secrets import mask_url_secrets

_SECRET_NAME = re.compile(r"(key|token|secret|password)", re.IGNORECASE)
_SCHEME = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://", re.IGNORECASE)
#: a whole number as the environment spells it: digits (``_`` between them), a sign, ``.0``
_WHOLE = re.compile(r"^[+-]?[0-9](?:_?[0-9])*(?:\.0*)?$")

PREFIX = "REFEREE_"
BROKER_SCHEMES = ("redis", "rediss", "sentinel", "amqp", "amqps", "pyamqp", "memory")
RESULT_BACKEND_SCHEMES = ("redis", "rediss", "sentinel", "rpc", "db+…", "cache+…")

ACCEPTED: dict[str, str] = {
    "database_url": "sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE",
    "broker_url": "a Celery broker URL: "
    + ", ".join(f"{s}://…" for s in BROKER_SCHEMES)
    + " (unset: tasks run in-process)",
    "result_backend": "a Celery result backend URL: "
    + ", ".join(f"{s}://…" for s in RESULT_BACKEND_SCHEMES)
    + " (unset: the broker URL)",
    "api_base": "an http:// or https:// base URL",
    "api_key": "any text",
    "request_timeout_s": "seconds, a number greater than 0 and at most 86400",
    "max_retries": "a whole number from 0 to 100",
    "max_reasks": "a whole number from 0 to 20",
    "concurrency": "a whole number from 1 to 100000",
    "requests_per_minute": "a whole number ≥ 1 (unset: no limit)",
    "tokens_per_minute": "a whole number ≥ 1 (unset: no limit)",
    "max_field_bytes": "a whole number of bytes from 1 to 1000000000",
    "max_body_bytes": "a whole number of bytes from 1024 to 1000000000",
    "human_cost": "dollars, a number from 0 to 1000000",
    "lease_seconds": "a whole number of seconds from 1 to 2592000 (30 days)",
    "vault_url": "sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, not the "
    "main database",
    "vault_key": "32 random bytes as base64url (referee vault new-key prints one) or 64 hex digits",
}
"""What each setting accepts, as told to the user when a value is refused."""


class SettingsError(UserError, ValueError):
    """Some settings are invalid; :attr:`lines` has one message per variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def _setting(default: Any, description: str) -> Any:
    return field(default=default, metadata={"description": description})


@dataclass(frozen=True)
class Settings:
    """Every setting Referee reads; each is ``REFEREE_<NAME>`` in the environment.

    Every value is checked when the settings are built, here or by :func:`load_settings` (which
    also reads the environment); a refused value raises :class:`SettingsError`, one line per
    variable naming the accepted values. Numbers may be given as text (``"16"``), as the
    environment gives them.
    """

    database_url: str = _setting(
        "sqlite:///./referee.db",
        "SQLAlchemy URL of the database; postgresql:// URLs use psycopg 3.",
    )
    broker_url: str | None = _setting(
        None, "Celery broker (redis://host:6379/0). Unset: tasks run in-process."
    )
    result_backend: str | None = _setting(
        None, "Celery result backend; defaults to the broker URL."
    )
    api_base: str | None = _setting(None, "OpenAI-compatible base URL passed to every judge call.")
    api_key: str | None = _setting(
        None, "API key passed to every judge call (else the provider's own)."
    )
    request_timeout_s: float = _setting(60.0, "Timeout of one judge call.")
    max_retries: int = _setting(4, "Retries of transient provider failures.")
    max_reasks: int = _setting(2, "Re-asks after an invalid structured verdict.")
    concurrency: int = _setting(16, "Concurrent judge calls per model.")
    requests_per_minute: int | None = _setting(None, "Per-model request limit.")
    tokens_per_minute: int | None = _setting(None, "Per-model token limit.")
    max_field_bytes: int = _setting(
        1_000_000, "Largest prompt/response accepted at ingest, in bytes."
    )
    max_body_bytes: int = _setting(
        4 * 1024 * 1024, "Largest request body the review server reads, in bytes (413 beyond)."
    )
    human_cost: float = _setting(1.00, "Cost of one human label, in dollars.")
    lease_seconds: int = _setting(900, "How long a reviewer holds an item.")
    vault_url: str | None = _setting(
        None,
        "Database of the redaction vault (the way back to redacted values); "
        "kept apart from the main database.",
    )
    vault_key: str | None = _setting(
        None, "Key that encrypts the vault's values; without it nothing can be unredacted."
    )

    #: every setting's field (default, ``metadata["description"]``), by name, in order
    model_fields: ClassVar[dict[str, Field[Any]]]

    def __post_init__(self) -> None:
        checked = _check_all({f.name: getattr(self, f.name) for f in fields(self)})
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def masked(self) -> dict[str, Any]:
        """Every setting with secrets masked: key/token/password values, and in URLs the user
        info's password and secret-named query values (:mod:`referee.url_secrets`)."""
        shown: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if value is not None and _SECRET_NAME.search(name):
                shown[name] = "****"
            elif isinstance(value, str):
                shown[name] = mask_url_secrets(value)
            else:
                shown[name] = value
        return shown


Settings.model_fields = {f.name: f for f in fields(Settings)}


# -- the checks: each takes a value (text from the environment, or typed) and returns it typed,
# -- or raises ValueError; ``_check_all`` turns the refusals into one line per variable.


def _whole(low: int, high: float = math.inf) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, str) and _WHOLE.match(value.strip()):
            number = int(value.strip().partition(".")[0])
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            raise ValueError("not a whole number")
        if not low <= number <= high:
            raise ValueError("out of range")
        return number

    return check


def _real(low: float, high: float, *, low_open: bool = False) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        if isinstance(value, str) and value.isascii():
            number = float(value)  # ValueError for text that is not a number
        elif isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            raise ValueError("not a number")
        if not math.isfinite(number) or number > high or number < low:
            raise ValueError("out of range")
        if low_open and number == low:
            raise ValueError("out of range")
        return number

    return check


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def _database_url(value: Any) -> str:
    from sqlalchemy.engine import make_url

    text = _text(value)
    try:
        url = make_url(text)
    except Exception:
        raise ValueError("not a database URL") from None
    if url.drivername in ("sqlite", "sqlite+pysqlite") and not url.host:
        return text
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg") and url.host:
        return text
    raise ValueError("not a SQLite or PostgreSQL URL")


def _scheme_in(schemes: tuple[str, ...]) -> Callable[[Any], str]:
    prefixes = tuple(s[:-1] for s in schemes if s.endswith("…"))

    def check(value: Any) -> str:
        text = _text(value)
        found = _SCHEME.match(text)
        scheme = found.group("scheme").lower() if found else ""
        if scheme in schemes or (prefixes and scheme.startswith(prefixes)):
            return text
        raise ValueError("unknown URL scheme")

    return check


def _api_base(value: Any) -> str:
    text = _text(value)
    if not re.match(r"^https?://[^/\s]+", text, re.IGNORECASE):
        raise ValueError("not an http(s) URL")
    return text


def _vault_key(value: Any) -> str:
    from redaction.errors import VaultKeyError
    from redaction.vault_key import VaultKey

    text = _text(value)
    try:
        VaultKey.from_string(text)
    except VaultKeyError as exc:
        raise ValueError(str(exc)) from None
    return text


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "database_url": _database_url,
    "broker_url": _scheme_in(BROKER_SCHEMES),
    "result_backend": _scheme_in(RESULT_BACKEND_SCHEMES),
    "api_base": _api_base,
    "api_key": _text,
    "request_timeout_s": _real(0, 86_400, low_open=True),
    "max_retries": _whole(0, 100),
    "max_reasks": _whole(0, 20),
    "concurrency": _whole(1, 100_000),
    "requests_per_minute": _whole(1),
    "tokens_per_minute": _whole(1),
    "max_field_bytes": _whole(1, 1_000_000_000),
    "max_body_bytes": _whole(1024, 1_000_000_000),
    "human_cost": _real(0, 1_000_000),
    "lease_seconds": _whole(1, 2_592_000),
    "vault_url": _database_url,
    "vault_key": _vault_key,
}


def _check_all(values: Mapping[str, Any]) -> dict[str, Any]:
    """Every value checked (``None`` is unset); raises :class:`SettingsError`, one line each."""
    checked: dict[str, Any] = {}
    lines: list[str] = []
    for name, value in values.items():
        try:
            if value is not None:
                value = _CHECKS[name](value)
            elif Settings.model_fields[name].default is not None:
                raise ValueError("must be set")
            if name == "vault_url" and value is not None and value == checked.get("database_url"):
                raise ValueError("the vault must not live in the main database")
        except ValueError:
            shown = "****" if _SECRET_NAME.search(name) else _shown(value)
            lines.append(f"{PREFIX}{name.upper()}={shown} is not accepted: use {ACCEPTED[name]}")
            continue
        checked[name] = value
    if lines:
        raise SettingsError(lines)
    return checked


def from_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``REFEREE_*`` values of ``environ`` by setting name; names match in any case, and an
    empty value counts as unset."""
    wanted = {f"{PREFIX}{name}".lower(): name for name in Settings.model_fields}
    found: dict[str, str] = {}
    for key, value in environ.items():
        name = wanted.get(key.lower())
        if name is not None and value != "" and (name not in found or key.isupper()):
            found[name] = value
    return found


def load_settings(**values: Any) -> Settings:
    """Settings from the environment (``values`` override it), every value checked.

    Raises :class:`SettingsError` with one line per refused variable, e.g.
    ``REFEREE_CONCURRENCY=0 is not accepted: use a whole number from 1 to 100000``.
    """
    unknown = set(values) - set(Settings.model_fields)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    merged = {**from_environment(os.environ), **values}
    return Settings(**merged)


def _shown(value: Any) -> str:
    text = mask_url_secrets(str(value))
    text = text if len(text) <= 80 else text[:77] + "..."
    return repr(text) if not text or any(c.isspace() for c in text) else text
