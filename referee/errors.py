"""Errors the wiring raises for the entry points to show: one line each.

Storage and services raise them without knowing about the CLI or the API. The CLI turns them
into ``error: ...`` on stderr with the exit code below (``referee.cli.common.EXIT_CODES``, the
one translation); the API answers a :class:`ReviewError` with its ``status``.

    Exception
    ├── UserError        bad input from the user (exit 2)
    │   └── DatasetNotFound   no dataset of that name (also a NotFound: 404 through the API)
    ├── RuntimeFailure   something outside the input failed: database, broker, provider (exit 1)
    └── ReviewError      the review service's errors, each with its HTTP status (exit 2)
        ├── NotFound             unknown dataset, pair or reviewer        (404 / exit 2)
        ├── InvalidSubmission    a label that breaks the rules            (422 / exit 2)
        ├── AuthenticationFailed wrong, missing or inactive token         (401 / exit 2)
        ├── NotLeased            the item is not leased to this reviewer  (403 / exit 2)
        ├── ReviewerPaused       paused by the pause rule or a lead       (403 / exit 2)
        └── LeaseConflict        lease expired, or the item is labeled    (409 / exit 1)

The workers' errors (``workers.errors``) are translated at the same place: a bad request or a
job in the wrong state exits 2, an unreachable broker 1.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: shown as one line, exit 2."""


class RuntimeFailure(Exception):
    """Something outside the input failed (database, broker, provider): one line, exit 1."""


class ReviewError(Exception):
    """Base of every error the review service raises; ``status`` is the HTTP status."""

    status = 400


class NotFound(ReviewError):
    """A dataset, pair or reviewer that does not exist."""

    status = 404


class InvalidSubmission(ReviewError):
    """A submitted label that breaks the rules (unknown label, both_bad without a reason)."""

    status = 422


class AuthenticationFailed(ReviewError):
    """A wrong, missing or deactivated reviewer token."""

    status = 401


class NotLeased(ReviewError):
    """The reviewer holds no lease on this item (never leased it, or it is someone else's)."""

    status = 403


class ReviewerPaused(ReviewError):
    """The reviewer is paused (by the pause rule or a lead): no new items until unpaused.

    The message starts with ``paused:`` and says why and who can lift it."""

    status = 403


class LeaseConflict(ReviewError):
    """The reviewer's lease expired or was released, or the item is already labeled by them."""

    status = 409


class DatasetNotFound(UserError, NotFound):
    """No dataset has that name: a user error (exit 2) and, through the API, a 404."""


__all__ = [
    "AuthenticationFailed",
    "DatasetNotFound",
    "InvalidSubmission",
    "LeaseConflict",
    "NotFound",
    "NotLeased",
    "ReviewError",
    "ReviewerPaused",
    "RuntimeFailure",
    "UserError",
]
