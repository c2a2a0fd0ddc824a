"""The root of every exception Referee raises on purpose: :class:`RefereeError`.

One tree, one root::

    RefereeError                       (kernel.errors)
    ├── JudgeError, ...                (judge.errors: the judge and its provider seam)
    ├── ProviderHTTPError, ...         (judge.openai_http: raw seam errors, turned into JudgeError)
    ├── WorkerError, ...               (workers.errors: jobs, broker)
    ├── EmbeddingUnavailable           (routing.embeddings)
    └── UserError, RuntimeFailure, ReviewError, ...   (referee.errors and the application)

The domain packages define their own branches under this root; :mod:`referee.errors` draws the
whole tree and holds the one table that turns an error into an exit code and an HTTP status.
Anything that is not a :class:`RefereeError` is a bug and shows as one.
"""

from __future__ import annotations


class RefereeError(Exception):
    """Base of every error Referee raises on purpose; ``str(err)`` is one line for a person."""


class UserError(RefereeError):
    """Bad input from the user: shown as one line, exit 2."""


class RuntimeFailure(RefereeError):
    """Something outside the input failed (database, broker, provider): one line, exit 1."""


__all__ = ["RefereeError", "RuntimeFailure", "UserError"]
