"""How the API answers what went wrong: always ``{"detail": ...}`` JSON, never a traceback,
never the raw input.

* a review error (:class:`referee.review.errors.ReviewError`): its own status and message;
* a body or query that fails validation: 422 naming each field and rule (the rejected value
  is never repeated: it may be huge, binary or a lone surrogate);
* an HTTP error from the framework (404, 405, ...): its status;
* a unique-key violation from the database (two identical submissions racing): 409;
* anything else: 500 with a fixed message (the traceback goes to the server log only).

Answers are encoded as ASCII JSON (:func:`referee.api.guard.json_bytes`), so no text a client
sent can break the encoder.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from referee.api.bodies import shown_key
from referee.api.guard import json_bytes
from referee.review.errors import ReviewError

log = logging.getLogger("referee.api")


class SafeJSONResponse(JSONResponse):
    """A JSON response encoded as ASCII (lone surrogates escaped, never an encoder crash)."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)


def _where(loc: tuple[Any, ...]) -> str:
    parts = [p for p in loc if p != "body"] or list(loc[:1])
    return ".".join(str(p) if isinstance(p, int) else shown_key(p).strip("'") for p in parts)


def _message(error: Mapping[str, Any]) -> str:
    msg = str(error.get("msg", "invalid"))
    return msg.removeprefix("Value error, ")


def validation_detail(errors: list[Any]) -> list[dict[str, str]]:
    """Each validation error as ``{"field", "problem", "type"}``: no input, no context."""
    return [
        {
            "field": _where(tuple(err.get("loc", ()))),
            "problem": _message(err),
            "type": str(err.get("type", "invalid")),
        }
        for err in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Register the answers above on ``app``."""

    @app.exception_handler(ReviewError)
    async def review_error(_request: Request, exc: ReviewError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return SafeJSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_detail(list(exc.errors()))
        problems = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
        return SafeJSONResponse(
            {"detail": f"invalid request: {problems}", "errors": errors}, status_code=422
        )

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        return SafeJSONResponse(
            {"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(IntegrityError)
    async def conflict(_request: Request, _exc: IntegrityError) -> JSONResponse:
        detail = "this conflicts with a record stored meanwhile (a repeated submission?)"
        return SafeJSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        detail = "internal error; the server log has the details"
        return SafeJSONResponse({"detail": detail}, status_code=500)


__all__ = ["SafeJSONResponse", "install_error_handlers", "validation_detail"]
