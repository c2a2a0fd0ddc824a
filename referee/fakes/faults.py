"""The fake provider's failures: which requests fail (by script, always, or at seeded random
rates) and the OpenAI-style error each failure is answered with."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referee.fakes.policies import GARBAGE, ScriptStep

Reply = tuple[int, dict[str, str], Any]
"""``(HTTP status, extra headers, JSON payload)``."""

_KINDS = {
    401: "invalid_api_key",
    403: "permission_denied",
    404: "model_not_found",
    429: "rate_limit_exceeded",
}


def choose_fault(
    step: ScriptStep | None,
    roll: float,
    *,
    always_status: int | None,
    rate_limit_rate: float,
    fault_rate: float,
    fault_status: int,
    garbage_rate: float,
) -> tuple[int | None, bool]:
    """``(status to fail with or None, answer with garbage)`` for one request.

    A script ``step`` wins (a status other than 200, or :data:`GARBAGE`; 200 lets the policy
    answer); else ``always_status``; else the seeded ``roll`` in [0, 1) falls in the 429 share,
    then the ``fault_status`` share, then the garbage share.
    """
    forced: int | None = always_status
    garbage = False
    if step is not None:
        if step == GARBAGE:
            garbage = True
        elif isinstance(step, int) and step != 200:
            forced = step
    elif forced is None:
        if roll < rate_limit_rate:
            forced = 429
        elif roll < rate_limit_rate + fault_rate:
            forced = fault_status
        elif roll < rate_limit_rate + fault_rate + garbage_rate:
            garbage = True
    return forced, garbage


def fault_reply(status: int, body: Mapping[str, Any], retry_after_s: float | None) -> Reply:
    """The error reply for ``status``, with ``Retry-After`` on a 429 when ``retry_after_s``."""
    extra: dict[str, str] = {}
    if status == 429 and retry_after_s is not None:
        value = retry_after_s
        extra["retry-after"] = str(int(value)) if float(value).is_integer() else str(value)
    message = {
        401: "Incorrect API key provided.",
        404: f"The model `{body.get('model')}` does not exist.",
        429: "Rate limit reached. Please try again later.",
    }.get(status, f"fake failure {status}")
    return status, extra, error_body(message, _KINDS.get(status, "server_error"))


def error_body(message: str, kind: str) -> dict[str, Any]:
    """An OpenAI-style error payload."""
    return {"error": {"message": message, "type": kind, "param": None, "code": kind}}


__all__ = ["Reply", "choose_fault", "error_body", "fault_reply"]
