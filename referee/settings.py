"""Configuration read from the environment, only at entry points (CLI, worker start, web app).

Library code never reads the environment: entry points build a :class:`Settings` and pass the
values they need down as plain arguments.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

_SECRET_NAME = re.compile(r"(key|token|secret|password)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@]*:)(?P<pw>[^@]+)(?P<tail>@)")
_SCHEME = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://", re.IGNORECASE)

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
    "human_cost": "dollars, a number from 0 to 1000000",
    "lease_seconds": "a whole number of seconds from 1 to 2592000 (30 days)",
    "vault_url": "sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE, not the "
    "main database",
    "vault_key": "32 random bytes as base64url (referee vault new-key prints one) or 64 hex digits",
}
"""What each setting accepts, as told to the user when a value is refused."""


class SettingsError(ValueError):
    """Some settings are invalid; :attr:`lines` has one message per variable."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


class Settings(BaseSettings):
    """Every setting Referee reads; each is ``REFEREE_<NAME>`` in the environment.

    Every value is checked when the settings are built (:func:`load_settings` turns a refusal
    into :class:`SettingsError`, one line per variable naming the accepted values). An empty
    variable counts as unset.
    """

    model_config = SettingsConfigDict(
        env_prefix="REFEREE_", env_file=None, extra="ignore", env_ignore_empty=True
    )

    database_url: str = Field(
        default="sqlite:///./referee.db",
        description="SQLAlchemy URL of the database; postgresql:// URLs use psycopg 3.",
    )
    broker_url: str | None = Field(
        default=None,
        description="Celery broker (redis://host:6379/0). Unset: tasks run in-process.",
    )
    result_backend: str | None = Field(
        default=None,
        description="Celery result backend; defaults to the broker URL.",
    )
    api_base: str | None = Field(
        default=None, description="OpenAI-compatible base URL passed to every judge call."
    )
    api_key: str | None = Field(
        default=None, description="API key passed to every judge call (else the provider's own)."
    )
    request_timeout_s: float = Field(
        default=60.0, gt=0, le=86_400, allow_inf_nan=False, description="Timeout of one judge call."
    )
    max_retries: int = Field(
        default=4, ge=0, le=100, description="Retries of transient provider failures."
    )
    max_reasks: int = Field(
        default=2, ge=0, le=20, description="Re-asks after an invalid structured verdict."
    )
    concurrency: int = Field(
        default=16, ge=1, le=100_000, description="Concurrent judge calls per model."
    )
    requests_per_minute: int | None = Field(
        default=None, ge=1, description="Per-model request limit."
    )
    tokens_per_minute: int | None = Field(default=None, ge=1, description="Per-model token limit.")
    max_field_bytes: int = Field(
        default=1_000_000,
        ge=1,
        le=1_000_000_000,
        description="Largest prompt/response accepted at ingest, in bytes.",
    )
    human_cost: float = Field(
        default=1.00,
        ge=0,
        le=1_000_000,
        allow_inf_nan=False,
        description="Cost of one human label, in dollars.",
    )
    lease_seconds: int = Field(
        default=900, ge=1, le=2_592_000, description="How long a reviewer holds an item."
    )
    vault_url: str | None = Field(
        default=None,
        description="Database of the redaction vault (the way back to redacted values); "
        "kept apart from the main database.",
    )
    vault_key: str | None = Field(
        default=None,
        description="Key that encrypts the vault's values; without it nothing can be unredacted.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except Exception:
            raise ValueError("not a database URL") from None
        if url.drivername in ("sqlite", "sqlite+pysqlite") and not url.host:
            return value
        if url.drivername in ("postgresql", "postgres", "postgresql+psycopg") and url.host:
            return value
        raise ValueError("not a SQLite or PostgreSQL URL")

    @field_validator("vault_url")
    @classmethod
    def _vault_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if value == info.data.get("database_url"):
            raise ValueError("the vault must not live in the main database")
        return cls._database_url(value)

    @field_validator("vault_key")
    @classmethod
    def _vault_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from referee.redaction.errors import VaultKeyError
        from referee.redaction.vault_key import VaultKey

        try:
            VaultKey.from_string(value)
        except VaultKeyError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_url(cls, value: str | None) -> str | None:
        return _check_scheme(value, BROKER_SCHEMES)

    @field_validator("result_backend")
    @classmethod
    def _result_backend(cls, value: str | None) -> str | None:
        return _check_scheme(value, RESULT_BACKEND_SCHEMES)

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value, re.IGNORECASE):
            raise ValueError("not an http(s) URL")
        return value

    def masked(self) -> dict[str, Any]:
        """Every setting with secrets masked: key/token/password values, URL passwords."""
        shown: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if value is not None and _SECRET_NAME.search(name):
                shown[name] = "****"
            elif isinstance(value, str):
                shown[name] = _URL_PASSWORD.sub(r"\g<head>****\g<tail>", value)
            else:
                shown[name] = value
        return shown


def _check_scheme(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    found = _SCHEME.match(value)
    scheme = found.group("scheme").lower() if found else ""
    prefixes = tuple(s[:-1] for s in schemes if s.endswith("…"))
    if scheme in schemes or (prefixes and scheme.startswith(prefixes)):
        return value
    raise ValueError("unknown URL scheme")


def load_settings(**values: Any) -> Settings:
    """Settings from the environment (``values`` override it), every value checked.

    Raises :class:`SettingsError` with one line per refused variable, e.g.
    ``REFEREE_CONCURRENCY=0 is not accepted: use a whole number from 1 to 100000``.
    """
    try:
        return Settings(**values)
    except ValidationError as exc:
        lines: list[str] = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error.get("loc") else ""
            if any(line.startswith(f"REFEREE_{name.upper()}=") for line in lines):
                continue
            shown = "****" if _SECRET_NAME.search(name) else _shown(error.get("input"))
            accepted = ACCEPTED.get(name, str(error.get("msg", "invalid")))
            lines.append(f"REFEREE_{name.upper()}={shown} is not accepted: use {accepted}")
        raise SettingsError(lines) from None


def _shown(value: Any) -> str:
    text = _URL_PASSWORD.sub(r"\g<head>****\g<tail>", str(value))
    text = text if len(text) <= 80 else text[:77] + "..."
    return repr(text) if not text or any(c.isspace() for c in text) else text


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every setting; feeds the README table."""
    rows = []
    for name, field in Settings.model_fields.items():
        rows.append((f"REFEREE_{name.upper()}", repr(field.default), field.description or ""))
    return rows
