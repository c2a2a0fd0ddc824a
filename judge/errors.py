"""The judge's exceptions, translated at the provider seam.

Exception tree::

    JudgeError
    ├── PermanentJudgeError          retrying cannot help; fix something first
    │   ├── JudgeConfigError         bad judge spec, rubric file, replay file, missing API key
    │   └── PermanentProviderError   provider said 400/401/403/404 (``status_code``)
    │       └── ReplayMissError      a replay judge has no recorded verdict for the pair/order
    └── TransientProviderError       429/5xx/timeout/connection error after every retry

Every error can carry ``partial``: order verdicts that *did* complete before the failure, keyed
by ``(judge name, order)``, so a caller can store them and never pay for them twice.

Celery pickles exceptions, so every class here survives ``pickle`` with its attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kernel.errors import RefereeError

if TYPE_CHECKING:
    from judge.labels import Order
    from judge.verdicts import OrderVerdict


class JudgeError(RefereeError):
    """Base of every error the judge raises; ``str(err)`` says what to do about it."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        partial: Mapping[tuple[str, Order], OrderVerdict] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.partial: dict[tuple[str, Order], OrderVerdict] = dict(partial or {})

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception.__reduce__ would call cls(*args) and lose the keyword attributes.
        return (self.__class__, (self.message,), self.__dict__.copy())

    def __str__(self) -> str:
        return self.message


class PermanentJudgeError(JudgeError):
    """Retrying cannot help: the configuration or the request must change first."""


class JudgeConfigError(PermanentJudgeError):
    """The judge is misconfigured (spec, rubric, replay file, API key)."""


class PermanentProviderError(PermanentJudgeError):
    """The provider refused the request for a reason a retry cannot fix (400/401/403/404)."""


class ReplayMissError(PermanentProviderError):
    """A replay judge was asked about a pair (or order) it has no recorded verdict for."""


class TransientProviderError(JudgeError):
    """The provider kept failing transiently (429, 5xx, timeout, connection) after every retry."""


__all__ = [
    "JudgeConfigError",
    "JudgeError",
    "PermanentJudgeError",
    "PermanentProviderError",
    "ReplayMissError",
    "TransientProviderError",
]
