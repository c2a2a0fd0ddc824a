"""The exception tree, and the one table that turns an error into an exit code and HTTP status.

Every error Referee raises on purpose descends from :class:`kernel.errors.RefereeError` (a tiny
module every layer may import, so the domain packages root their errors there without importing
``referee``). The CLI turns one into ``error: ...`` on stderr with its exit code
(:func:`exit_code_of`, used by ``referee.cli.common.user_errors``); the API answers a
:class:`ReviewError` with its HTTP status (:func:`http_status_of`). Both read :data:`ERROR_TABLE`.

    RefereeError                              (kernel.errors)         exit  HTTP
    ├── UserError           bad input from the user                      2   400
    │   ├── DatasetNotFound    no dataset of that name (also a NotFound) 2   404
    │   └── SettingsError      a refused configuration value             2   400
    ├── RuntimeFailure      something outside the input failed           1   503
    ├── ReviewError         the review service's errors                  2   400
    │   ├── NotFound             unknown dataset, pair or reviewer       2   404
    │   ├── InvalidSubmission    a label that breaks the rules           2   422
    │   ├── AuthenticationFailed wrong, missing or inactive token        2   401
    │   ├── Forbidden            not allowed to do that                  2   403
    │   │   ├── NotLeased          the item is not leased to them
    │   │   ├── ReviewerPaused     paused by the pause rule or a lead
    │   │   └── NotALead           a lead's view without the lead role (api.deps)
    │   └── LeaseConflict        lease expired, or the item is labeled   1   409
    ├── WorkerError         (workers.errors)                             1   503
    │   ├── JobInputError        unknown dataset or job, no judge        2   400
    │   │   └── JobNotFoundError                                         2   404
    │   └── JobStateError        the job cannot do that now              2   409
    ├── JudgeError          (judge.errors)                               1   502
    │   └── JudgeConfigError     bad judge spec, rubric, replay, API key 2   400
    └── without a row: the command that expects them reports them its own way, with more than
        one line (a table of what failed); anywhere else they are a bug, shown as one (HTTP 500)
        ├── ReleaseRefused       the promotion gate said no         (export.release_gate)
        ├── InputRejected        an ingest file had problems        (ingest.problems)
        ├── RedactionError       a bad pattern, vault key or state  (redaction.errors)
        ├── RedactionUnavailable redaction required but impossible  (ingest.redaction)
        ├── EmbeddingUnavailable no embedding model here            (routing.embeddings)
        ├── ProviderHTTPError, ... raw errors of the provider seam  (judge.openai_http)
        └── ReleaseIsImmutable, AuditLogIsAppendOnly                (db.models)

The subclasses' homes are named in brackets when they are not this module.
"""

from __future__ import annotations

from judge.errors import JudgeConfigError, JudgeError
from kernel.errors import RefereeError, RuntimeFailure, UserError
from workers.errors import JobInputError, JobNotFoundError, JobStateError, WorkerError

#: exit codes of the CLI
EXIT_RUNTIME = 1
EXIT_BAD_INPUT = 2


class ReviewError(RefereeError):
    """Base of every error the review service raises; ``status`` is its HTTP status."""

    @property
    def status(self) -> int:
        """The HTTP status the API answers with (from :data:`ERROR_TABLE`)."""
        return http_status_of(self)


class NotFound(ReviewError):
    """A dataset, pair or reviewer that does not exist."""


class InvalidSubmission(ReviewError):
    """A submitted label that breaks the rules (unknown label, both_bad without a reason)."""


class AuthenticationFailed(ReviewError):
    """A wrong, missing or deactivated reviewer token."""


class Forbidden(ReviewError):
    """A known reviewer asked for something they may not do (403)."""


class NotLeased(Forbidden):
    """The reviewer holds no lease on this item (never leased it, or it is someone else's)."""


class ReviewerPaused(Forbidden):
    """The reviewer is paused (by the pause rule or a lead): no new items until unpaused.

    The message starts with ``paused:`` and says why and who can lift it."""


class LeaseConflict(ReviewError):
    """The reviewer's lease expired or was released, or the item is already labeled by them."""


class DatasetNotFound(UserError, NotFound):
    """No dataset has that name: a user error (exit 2) and, through the API, a 404."""


#: The one translation: the first class an error is an instance of decides its exit code and
#: HTTP status, so subclasses come before their bases. An error without a row is not the CLI's
#: wrapper's to turn into one line (``user_errors`` lets it through to its command's handler).
ERROR_TABLE: tuple[tuple[type[RefereeError], int, int], ...] = (
    (DatasetNotFound, EXIT_BAD_INPUT, 404),
    (UserError, EXIT_BAD_INPUT, 400),
    (RuntimeFailure, EXIT_RUNTIME, 503),
    (NotFound, EXIT_BAD_INPUT, 404),
    (InvalidSubmission, EXIT_BAD_INPUT, 422),
    (AuthenticationFailed, EXIT_BAD_INPUT, 401),
    (Forbidden, EXIT_BAD_INPUT, 403),
    (LeaseConflict, EXIT_RUNTIME, 409),  # the lease expired or the item was taken: try again
    (ReviewError, EXIT_BAD_INPUT, 400),
    (JobNotFoundError, EXIT_BAD_INPUT, 404),
    (JobInputError, EXIT_BAD_INPUT, 400),  # unknown dataset, no judge
    (JobStateError, EXIT_BAD_INPUT, 409),  # resume a finished job, cancel one twice
    (WorkerError, EXIT_RUNTIME, 503),  # no broker, or it cannot be reached
    (JudgeConfigError, EXIT_BAD_INPUT, 400),
    (JudgeError, EXIT_RUNTIME, 502),
)


def _row(error: BaseException) -> tuple[int, int] | None:
    for kind, code, status in ERROR_TABLE:
        if isinstance(error, kind):
            return code, status
    return None


def exit_code_of(error: BaseException) -> int | None:
    """The CLI exit code of an error with a row in :data:`ERROR_TABLE`; ``None`` otherwise."""
    row = _row(error)
    return None if row is None else row[0]


def http_status_of(error: BaseException) -> int:
    """The HTTP status of an error with a row in :data:`ERROR_TABLE`; 500 otherwise."""
    row = _row(error)
    return 500 if row is None else row[1]


__all__ = [
    "ERROR_TABLE",
    "EXIT_BAD_INPUT",
    "EXIT_RUNTIME",
    "AuthenticationFailed",
    "DatasetNotFound",
    "Forbidden",
    "InvalidSubmission",
    "LeaseConflict",
    "NotFound",
    "NotLeased",
    "RefereeError",
    "ReviewError",
    "ReviewerPaused",
    "RuntimeFailure",
    "UserError",
    "exit_code_of",
    "http_status_of",
]
