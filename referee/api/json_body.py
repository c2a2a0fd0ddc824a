"""Strict reading of a JSON request body: what ``json.loads`` lets through and JSON forbids.

Python's parser accepts ``NaN``, ``Infinity`` and ``-Infinity`` (and reads ``1e999`` as
infinity) and turns ``"\\ud800"`` into a
string no UTF-8 encoder can write back; each later becomes a 500 somewhere (a database driver,
a JSON response). :func:`json_problem` names the first such problem of a body, or ``None``.

>>> json_problem(b'{"duration_s": NaN}')
'NaN is not a JSON number (line 1, column 16); send a finite number or null'
>>> json_problem(b'{"reason": "\\\\ud800"}')
'field reason: text holds a lone surrogate (\\\\ud800); send valid Unicode'
>>> json_problem(b'{"label": "A"}') is None
True
"""

from __future__ import annotations

import json
import math
from typing import Any

from kernel.errors import RefereeError

MAX_DEPTH = 32


class _Constant(RefereeError, ValueError):
    """A JSON constant (NaN, Infinity) or an overflowing number in a request body."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_constant(name: str) -> Any:
    raise _Constant(name)


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):  # 1e999 overflows to infinity
        raise _Constant(text if len(text) <= 40 else text[:40] + "...")
    return value


def _position(body: bytes, text: str) -> str:
    """``line L, column C`` of ``text``'s first occurrence in ``body`` (for messages)."""
    at = body.find(text.encode("ascii"))
    before = body[: max(at, 0)]
    line = before.count(b"\n") + 1
    column = at - (before.rfind(b"\n") + 1) + 1
    return f"line {line}, column {column}"


def _surrogate_in(value: Any, path: str, depth: int = 0) -> str | None:
    """The path of the first string (key or value) holding a lone surrogate, if any."""
    if depth > MAX_DEPTH:
        return f"{path or 'body'}: nested deeper than {MAX_DEPTH} levels"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(value[exc.start])
            return f"field {path or 'body'}: text holds a lone surrogate (\\u{code:04x})"
        return None
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = list(value.items())
        for key, item in items:
            found = _surrogate_in(key, path or "body", depth + 1)
            if found is not None:
                return found
            found = _surrogate_in(item, f"{path}.{key}" if path else key, depth + 1)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _surrogate_in(item, f"{path}[{index}]", depth + 1)
            if found is not None:
                return found
    return None


def json_problem(body: bytes) -> str | None:
    """Why ``body`` is not strict JSON (one line, no raw input), or ``None`` when it is."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not UTF-8 (byte {exc.start + 1}); send UTF-8 JSON"
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except _Constant as exc:
        return (
            f"{exc.name} is not a JSON number ({_position(body, exc.name)}); send a finite "
            "number or null"
        )
    except json.JSONDecodeError as exc:
        return f"the body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except RecursionError:
        return "the body is nested too deeply"
    found = _surrogate_in(document, "")
    return None if found is None else f"{found}; send valid Unicode"


__all__ = ["json_problem"]
