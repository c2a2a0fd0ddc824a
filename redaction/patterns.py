"""User-defined patterns: ``KIND=REGEX`` (``TICKET=ENG-\\d+``, ``COMMIT=\\b[0-9a-f]{12}\\b``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from redaction.errors import PatternError
from redaction.spans import Span

__all__ = ["UserPattern", "UserPatternDetector", "parse_pattern"]

_KIND = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


@dataclass(frozen=True, slots=True)
class UserPattern:
    """A user's pattern: every match of ``regex`` is a value of ``kind``.

    When the regex has a group named ``value``, only that group is replaced
    (``ORDER=order #(?P<value>\\d{6})`` keeps the words "order #"). User patterns outrank
    every built-in detector, so a pattern can claim what a detector would call a phone number.
    """

    kind: str
    regex: str

    def __post_init__(self) -> None:
        spec = f"{self.kind}={self.regex}"
        if not _KIND.match(self.kind):
            raise PatternError(spec, "KIND must be upper-case letters, digits and _ (≤ 32)")
        try:
            compiled = re.compile(self.regex)
        except re.error as exc:
            raise PatternError(spec, f"invalid regular expression: {exc}") from exc
        if compiled.search("") is not None:
            raise PatternError(spec, "the pattern matches empty text")

    @property
    def spec(self) -> str:
        return f"{self.kind}={self.regex}"

    def detector(self) -> UserPatternDetector:
        return UserPatternDetector(self)


def parse_pattern(spec: str) -> UserPattern:
    """Parse ``KIND=REGEX`` as written on the command line (the first ``=`` splits)."""
    kind, sep, regex = spec.partition("=")
    if not sep or not regex:
        raise PatternError(spec, "expected KIND=REGEX")
    return UserPattern(kind.strip(), regex)


class UserPatternDetector:
    """Finds the matches of one :class:`UserPattern`."""

    priority = 100

    def __init__(self, pattern: UserPattern) -> None:
        self.pattern = pattern
        self.kind = pattern.kind
        self.name = f"pattern:{pattern.kind}"
        self._regex = re.compile(pattern.regex)
        self._group = "value" if "value" in self._regex.groupindex else None

    def find(self, text: str) -> Iterator[Span]:
        for m in self._regex.finditer(text):
            start, end = m.span(self._group) if self._group else m.span()
            if end > start:
                yield Span(start, end, self.kind, text[start:end], self.name, self.priority)
