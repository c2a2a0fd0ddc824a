"""Errors the wiring raises for the entry points to show: one line each, with an exit code.

The CLI turns them into ``error: ...`` on stderr (``referee.cli.common.user_errors``); storage
and services raise them without knowing about the CLI.

    Exception
    ├── UserError        bad input from the user (exit 2)
    └── RuntimeFailure   something outside the input failed: database, broker, provider (exit 1)
"""

from __future__ import annotations

EXIT_BAD_INPUT = 2
EXIT_RUNTIME = 1


class UserError(Exception):
    """Bad input from the user: shown as one line, exit 2."""

    exit_code = EXIT_BAD_INPUT


class RuntimeFailure(Exception):
    """Something outside the input failed (database, broker, provider): one line, exit 1."""

    exit_code = EXIT_RUNTIME


__all__ = ["EXIT_BAD_INPUT", "EXIT_RUNTIME", "RuntimeFailure", "UserError"]
