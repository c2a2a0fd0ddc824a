"""The workers' exceptions; each message says what to do.

Exception tree::

    WorkerError
    ├── JobInputError          bad request: unknown dataset, empty judge list, unknown job id
    │   ├── UnknownDatasetError
    │   └── JobNotFoundError
    ├── JobStateError          the job cannot do that now (resume a finished job, cancel twice)
    └── BrokerUnavailableError no broker configured or reachable

Every class survives ``pickle`` (Celery ships task exceptions between processes).
"""

from __future__ import annotations

from typing import Any

from kernel.errors import RefereeError


class WorkerError(RefereeError):
    """Base of the workers' errors; ``str(err)`` is a one-line message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.message,))

    def __str__(self) -> str:
        return self.message


class JobInputError(WorkerError):
    """The request is wrong (exit 2 at the CLI)."""


class UnknownDatasetError(JobInputError):
    """No dataset has that name."""


class JobNotFoundError(JobInputError):
    """No job has that id."""


class JobStateError(WorkerError):
    """The job is in a state that does not allow the operation."""


class BrokerUnavailableError(WorkerError):
    """No Celery broker is configured, or it cannot be reached."""


__all__ = [
    "BrokerUnavailableError",
    "JobInputError",
    "JobNotFoundError",
    "JobStateError",
    "UnknownDatasetError",
    "WorkerError",
]
