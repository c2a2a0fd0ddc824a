"""A worker's configuration read from the settings: the entry points' side of
:class:`workers.context.WorkerConfig` (which knows nothing of :mod:`referee.settings`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from judge.retry import DEFAULT_BUDGET
from referee.settings import Settings
from workers.context import WorkerConfig


def worker_config(settings: Settings, **overrides: Any) -> WorkerConfig:
    """The configuration an entry point derives from its settings (and flags; None = unset)."""
    values: dict[str, Any] = {
        "database_url": settings.database_url,
        "api_base": settings.api_base,
        "api_key": settings.api_key,
        "request_timeout_s": settings.request_timeout_s,
        "retry": replace(
            DEFAULT_BUDGET,
            http=replace(DEFAULT_BUDGET.http, max_retries=settings.max_retries),
            max_reasks=settings.max_reasks,
        ),
        "concurrency": settings.concurrency,
        "requests_per_minute": settings.requests_per_minute,
        "tokens_per_minute": settings.tokens_per_minute,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return WorkerConfig(**values)


__all__ = ["worker_config"]
