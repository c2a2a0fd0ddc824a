"""Request bodies as strict as the file imports: unknown fields and loose types are refused.

Every JSON body model derives from :class:`StrictBody`: an unknown key is refused naming the
closest known field (``"rationalle"`` → ``did you mean 'rationale'?``), and values are taken
in pydantic's strict mode (``"yes"`` is not a boolean, ``"12"`` is not a number, ``NaN`` and
``Infinity`` are not numbers).
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator

MAX_KEY_SHOWN = 40


def shown_key(key: object) -> str:
    """A client's key as a message may show it: quoted, ASCII-escaped, cut to 40 characters."""
    text = ascii(str(key))[1:-1]
    return f"'{text[:MAX_KEY_SHOWN]}{'...' if len(text) > MAX_KEY_SHOWN else ''}'"


def unknown_key_message(key: object, known: list[str]) -> str:
    """``unknown field 'K'``, with the closest known field when one is close."""
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f" (fields are {', '.join(known)})"
    return f"unknown field {shown_key(key)}{hint}"


class StrictBody(BaseModel):
    """Base of the API's JSON bodies: no unknown fields, no type coercion, finite numbers."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if isinstance(data, dict):
            known = list(cls.model_fields)
            for key in data:
                if key not in cls.model_fields:
                    raise ValueError(unknown_key_message(key, known))
        return data


__all__ = ["StrictBody", "shown_key", "unknown_key_message"]
