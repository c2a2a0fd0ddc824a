"""Streaming reader of a JSON array: one element in memory at a time, problems with line/column.

Label Studio's JSON export and Argilla's ``records.json`` are single JSON arrays that can be
larger than memory; :func:`read_json_array` yields their elements one by one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from formats.problems import Problem

_CHUNK_CHARS = 1 << 20


def read_json_array(path: Path) -> Iterator[tuple[int, Any] | Problem]:
    """Elements of the JSON array in ``path`` with their 1-based positions, one at a time.

    Memory holds one element (and one read chunk), not the file. Anything that is not a
    well-formed array ends the stream with one :class:`Problem` giving the file line and column.
    """
    name = str(path)
    with path.open("rb") as binary:
        stream = _JsonArrayStream(io.TextIOWrapper(binary, encoding="utf-8-sig"))
        try:
            yield from stream.elements(name)
        except UnicodeDecodeError as exc:
            yield Problem(name, 0, None, f"not valid UTF-8 (byte {exc.start} of a read block)")


class _JsonArrayStream:
    """Incremental ``[v, v, ...]`` parser over a text stream using ``json.raw_decode``.

    ``buf[pos:]`` is the unread text. Consumed text is dropped before each read; ``line_base``
    and ``column_base`` remember where ``buf[0]`` sits in the file, for problem messages.
    """

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line_base = 1
        self.column_base = 1
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        """Read more text (at least as much as is buffered, so re-decoding stays linear)."""
        if self.eof:
            return False
        dropped = self.buf[: self.pos]
        newlines = dropped.count("\n")
        if newlines:
            self.line_base += newlines
            self.column_base = len(dropped) - dropped.rfind("\n")
        else:
            self.column_base += len(dropped)
        self.buf = self.buf[self.pos :]
        self.pos = 0
        chunk = self.text.read(max(_CHUNK_CHARS, len(self.buf)))
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _next_char(self) -> str:
        """The next non-blank character (not consumed), or ``""`` at the end of the file."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def _problem(self, name: str, message: str, at: int | None = None) -> Problem:
        at = self.pos if at is None else at
        newline = self.buf.rfind("\n", 0, at)
        line = self.line_base + self.buf.count("\n", 0, at)
        column = at - newline if newline >= 0 else self.column_base + at
        return Problem(name, 0, None, f"broken JSON at line {line}, column {column}: {message}")

    def _decode(self) -> tuple[bool, Any, int]:
        """``(True, value, end)`` for the value at ``pos``, or ``(False, message, where)``."""
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                offset = exc.pos - self.pos  # ``_more`` moves the buffer: keep offsets relative
                if self._more():
                    continue
                return False, exc.msg, self.pos + offset
            if end < len(self.buf):
                return True, value, end
            length = end - self.pos  # a value at the buffer's end may go on (a number)
            if not self._more():
                return True, value, self.pos + length

    def elements(self, name: str) -> Iterator[tuple[int, Any] | Problem]:
        """The array's elements with 1-based positions; a problem ends the stream."""
        first = self._next_char()
        if first == "":
            yield Problem(name, 0, None, "the file is empty; expected a JSON array")
            return
        if first != "[":
            yield self._problem(name, "expected a JSON array starting with '['")
            return
        self.pos += 1
        number = 0
        if self._next_char() == "]":
            self.pos += 1
        else:
            while True:
                if self._next_char() == "":
                    yield self._problem(name, "the array is not closed with ']'")
                    return
                ok, value, end = self._decode()
                if not ok:
                    yield self._problem(name, f"{value} (in element {number + 1})", end)
                    return
                number += 1
                self.pos = end
                yield number, value
                after = self._next_char()
                if after == "]":
                    self.pos += 1
                    break
                if after != ",":
                    expected = "']' to close the array" if after == "" else "',' or ']'"
                    yield self._problem(name, f"expected {expected} after element {number}")
                    return
                self.pos += 1
        if self._next_char() != "":
            yield self._problem(name, "unexpected data after the closing ']'")


__all__ = ["read_json_array"]
