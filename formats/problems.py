"""Problems found in an input file: each names the file, the line and the field."""

from __future__ import annotations

from dataclasses import dataclass, field

from kernel.errors import RefereeError

MAX_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record; ``line`` is 1-based (0 = the file as a whole).

    ``fatal``: the reader could not go on past it (a broken CSV quote), so the rest of the file
    is unread and ``--skip-invalid`` cannot skip just this record.
    """

    file: str
    line: int
    field: str | None
    message: str
    fatal: bool = False

    @property
    def skippable(self) -> bool:
        """Whether skipping the record this problem is about leaves the rest importable."""
        return self.line > 0 and not self.fatal

    def __str__(self) -> str:
        parts = [self.file]
        if self.line:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field {_quoted(self.field)}")
        return f"{', '.join(parts)}: {self.message}"


def _quoted(name: str) -> str:
    """``'name'``; control characters escaped and long names cut, so a message stays one line."""
    shown = name if len(name) <= 60 else f"{name[:40]}…{name[-10:]}"
    if shown.isprintable():
        return f"'{shown}'"
    return "'" + shown.encode("unicode_escape", errors="backslashreplace").decode("ascii") + "'"


@dataclass
class ProblemLog:
    """Collects problems; keeps the first :data:`MAX_SHOWN` and counts the rest."""

    shown: list[Problem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: Problem) -> None:
        self.total += 1
        if len(self.shown) < MAX_SHOWN:
            self.shown.append(problem)

    def __bool__(self) -> bool:
        return self.total > 0

    def lines(self) -> list[str]:
        """One message per problem shown, then a count of those not shown."""
        out = [str(p) for p in self.shown]
        if self.total > len(self.shown):
            out.append(f"... and {self.total - len(self.shown)} more problems")
        return out


class InputRejected(RefereeError):
    """A file had problems; nothing was written."""

    def __init__(self, log: ProblemLog) -> None:
        super().__init__("\n".join(log.lines()))
        self.log = log
