"""Configuration read from the environment, only at entry points (CLI, worker start, web app).

Library code never reads the environment: entry points build a :class:`Settings` and pass the
values they need down as plain arguments.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_SECRET_NAME = re.compile(r"(key|token|secret|password)", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@]*:)(?P<pw>[^@]+)(?P<tail>@)")


class Settings(BaseSettings):
    """Every setting Referee reads; each is ``REFEREE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="REFEREE_", env_file=None, extra="ignore")

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
    request_timeout_s: float = Field(default=60.0, description="Timeout of one judge call.")
    max_retries: int = Field(default=4, description="Retries of transient provider failures.")
    max_reasks: int = Field(default=2, description="Re-asks after an invalid structured verdict.")
    concurrency: int = Field(default=16, description="Concurrent judge calls per model.")
    requests_per_minute: int | None = Field(default=None, description="Per-model request limit.")
    tokens_per_minute: int | None = Field(default=None, description="Per-model token limit.")
    max_field_bytes: int = Field(
        default=1_000_000, description="Largest prompt/response accepted at ingest, in bytes."
    )
    human_cost: float = Field(default=1.00, description="Cost of one human label, in dollars.")
    lease_seconds: int = Field(default=900, description="How long a reviewer holds an item.")

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


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every setting; feeds the README table."""
    rows = []
    for name, field in Settings.model_fields.items():
        rows.append((f"REFEREE_{name.upper()}", repr(field.default), field.description or ""))
    return rows
