"""Errors of the redaction package.

Exception tree::

    RedactionError
    ├── PatternError          a user pattern ``KIND=REGEX`` that cannot be used
    ├── StateError            a pseudonym state that is malformed or belongs to another key
    └── VaultError
        ├── VaultKeyError     no key, a malformed key, or a key that does not open this vault
        └── VaultConflictError  a token already stored for a different value
"""

from __future__ import annotations

from kernel.errors import RefereeError

__all__ = [
    "PatternError",
    "RedactionError",
    "StateError",
    "VaultConflictError",
    "VaultError",
    "VaultKeyError",
]


class RedactionError(RefereeError):
    """Base class of every error raised by :mod:`redaction`."""


class PatternError(RedactionError, ValueError):
    """A user-defined pattern is malformed (bad kind, bad regex, or it matches empty text)."""

    def __init__(self, spec: str, problem: str) -> None:
        super().__init__(f"redaction pattern {spec!r}: {problem}")
        self.spec = spec
        self.problem = problem

    def __reduce__(self) -> tuple[type[PatternError], tuple[str, str]]:
        return (type(self), (self.spec, self.problem))


class StateError(RedactionError, ValueError):
    """A persisted pseudonym state cannot be used with this redactor."""


class VaultError(RedactionError):
    """The vault cannot do what was asked."""


class VaultKeyError(VaultError):
    """The vault key is missing, malformed, or does not open this vault."""


class VaultConflictError(VaultError):
    """A token is already stored in the vault for a different value.

    Two ingests of one dataset numbered tokens concurrently, or a pseudonym state was lost.
    Ingests of one dataset must be serialised (lock the dataset row while redacting).
    """

    def __init__(self, dataset: str, token: str) -> None:
        super().__init__(
            f"vault: token <{token}> of dataset {dataset!r} is already stored for another value "
            "(concurrent ingests of one dataset, or a lost pseudonym state)"
        )
        self.dataset = dataset
        self.token = token

    def __reduce__(self) -> tuple[type[VaultConflictError], tuple[str, str]]:
        return (type(self), (self.dataset, self.token))
