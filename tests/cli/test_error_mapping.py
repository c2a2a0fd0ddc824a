"""The one translation of user-facing errors into one-line messages and exit codes."""

from __future__ import annotations

import pytest
import typer

from referee.cli.common import EXIT_BAD_INPUT, EXIT_RUNTIME, exit_code_of, user_errors
from referee.errors import (
    DatasetNotFound,
    InvalidSubmission,
    LeaseConflict,
    NotFound,
    ReviewerPaused,
    RuntimeFailure,
    UserError,
)
from workers.errors import (
    BrokerUnavailableError,
    JobNotFoundError,
    JobStateError,
    UnknownDatasetError,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (UserError("x"), EXIT_BAD_INPUT),
        (DatasetNotFound("x"), EXIT_BAD_INPUT),  # a UserError and a NotFound: 2 either way
        (RuntimeFailure("x"), EXIT_RUNTIME),
        (NotFound("x"), EXIT_BAD_INPUT),
        (InvalidSubmission("x"), EXIT_BAD_INPUT),
        (ReviewerPaused("x"), EXIT_BAD_INPUT),
        (LeaseConflict("x"), EXIT_RUNTIME),  # a subclass with its own code, before its base
        (UnknownDatasetError("x"), EXIT_BAD_INPUT),
        (JobNotFoundError("x"), EXIT_BAD_INPUT),
        (JobStateError("x"), EXIT_BAD_INPUT),
        (BrokerUnavailableError("x"), EXIT_RUNTIME),
        (ValueError("x"), None),
    ],
)
def test_each_error_has_one_exit_code(error: Exception, code: int | None) -> None:
    assert exit_code_of(error) == code


def test_user_errors_exits_with_the_code_and_lets_bugs_through() -> None:
    with pytest.raises(typer.Exit) as exited, user_errors():
        raise LeaseConflict("your lease expired")
    assert exited.value.exit_code == EXIT_RUNTIME
    with pytest.raises(KeyError), user_errors():
        raise KeyError("a bug, not a user error")
