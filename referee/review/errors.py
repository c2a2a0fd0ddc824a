"""Errors of the review service; each maps to one HTTP status and one CLI message.

They live in :mod:`referee.errors` (the tree is drawn there) so that storage modules can raise
them without importing the review package; this module names them for the review code.
"""

from __future__ import annotations

from referee.errors import AuthenticationFailed as AuthenticationFailed
from referee.errors import InvalidSubmission as InvalidSubmission
from referee.errors import LeaseConflict as LeaseConflict
from referee.errors import NotFound as NotFound
from referee.errors import NotLeased as NotLeased
from referee.errors import ReviewerPaused as ReviewerPaused
from referee.errors import ReviewError as ReviewError

__all__ = [
    "AuthenticationFailed",
    "InvalidSubmission",
    "LeaseConflict",
    "NotFound",
    "NotLeased",
    "ReviewError",
    "ReviewerPaused",
]
