"""Errors of the review service; each maps to one HTTP status and one CLI message.

ReviewError
├── NotFound             unknown dataset, pair or reviewer        (404 / exit 2)
├── InvalidSubmission    a label that breaks the rules            (422 / exit 2)
├── AuthenticationFailed wrong, missing or inactive token         (401)
├── NotLeased            the item is not leased to this reviewer  (403)
├── ReviewerPaused       paused by the pause rule or a lead       (403)
└── LeaseConflict        lease expired, or the item is labeled    (409)
"""

from __future__ import annotations


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


__all__ = [
    "AuthenticationFailed",
    "InvalidSubmission",
    "LeaseConflict",
    "NotFound",
    "NotLeased",
    "ReviewError",
    "ReviewerPaused",
]
