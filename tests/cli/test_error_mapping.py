"""The one translation of user-facing errors into one-line messages and exit codes."""

from __future__ import annotations

import pytest
import typer

from judge.errors import JudgeConfigError, TransientProviderError
from kernel.errors import RefereeError
from referee.cli.common import EXIT_BAD_INPUT, EXIT_RUNTIME, exit_code_of, user_errors
from referee.errors import (
    ERROR_TABLE,
    DatasetNotFound,
    Forbidden,
    InvalidSubmission,
    LeaseConflict,
    NotFound,
    NotLeased,
    ReviewerPaused,
    RuntimeFailure,
    UserError,
    http_status_of,
)
from referee.settings import SettingsError
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
        (JudgeConfigError("x"), EXIT_BAD_INPUT),
        (TransientProviderError("x"), EXIT_RUNTIME),
        (SettingsError(["x"]), EXIT_BAD_INPUT),
        (RefereeError("x"), None),  # no row: left to the command that expects it
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


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("x"), 404),
        (DatasetNotFound("x"), 404),  # the API's 404, though the CLI calls it a user error
        (InvalidSubmission("x"), 422),
        (NotLeased("x"), 403),
        (ReviewerPaused("x"), 403),
        (LeaseConflict("x"), 409),
        (JobNotFoundError("x"), 404),
        (KeyError("x"), 500),
    ],
)
def test_each_error_has_one_http_status(error: Exception, status: int) -> None:
    assert http_status_of(error) == status
    if isinstance(error, NotFound | NotLeased | LeaseConflict):
        assert error.status == status  # what the API answers with, read from the same table


def test_a_lead_only_view_is_forbidden_without_pretending_to_be_a_lease_error() -> None:
    from referee.api.deps import NotALead

    assert issubclass(NotALead, Forbidden) and not issubclass(NotALead, NotLeased)
    assert NotALead("x").status == 403


def test_the_table_lists_subclasses_before_their_bases() -> None:
    kinds = [kind for kind, _, _ in ERROR_TABLE]
    for i, kind in enumerate(kinds):
        assert not any(issubclass(later, kind) for later in kinds[i + 1 :] if later is not kind)
    assert all(issubclass(kind, RefereeError) for kind in kinds)
