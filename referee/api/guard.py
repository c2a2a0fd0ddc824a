"""The gate every request passes before the application reads a byte of its body.

A pure ASGI middleware, outermost in :func:`referee.api.app.create_app`:

1. **Authentication first.** A request to ``/v1/...`` (and to the API reference when it is
   on) must carry a valid bearer token; without one the answer is 401 at once, the body
   unread. (The endpoints check the token again, with the role and datasets they need.)
2. **Body size, while reading.** A declared ``Content-Length`` above the limit is 413 at once;
   a chunked body is counted as it arrives and refused (413) the moment it passes the limit,
   so at most ``limit`` bytes plus one chunk are ever held. The server (uvicorn) stops reading
   from a client whose body is left unread, so memory stays flat whatever the client sends.
3. **JSON only.** A request that carries a body must say ``Content-Type: application/json``
   (415 otherwise), and the body must be strict JSON (400 otherwise: no ``NaN``/``Infinity``,
   no lone surrogates; :mod:`referee.api.json_body`). The checked body is then handed to the
   application, which never sees more than ``limit`` bytes.

Answers are ``{"detail": ...}`` with an ASCII-only JSON encoding (no raw input echoed).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from anyio import to_thread
from sqlalchemy import Engine

from referee.api.json_body import json_problem
from referee.app.review_api import authenticated
from referee.review.errors import AuthenticationFailed

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
JSON_TYPES = ("application/json",)


def too_large(limit: int) -> str:
    """The 413 message: the limit and the setting that raises it."""
    return (
        f"request body larger than {limit} bytes (the server's limit, "
        "REFEREE_MAX_BODY_BYTES / serve --max-body-bytes)"
    )


def json_bytes(document: Any) -> bytes:
    """``document`` as ASCII JSON: lone surrogates and control characters escaped, never raw."""
    return json.dumps(document, ensure_ascii=True, allow_nan=False).encode("ascii")


async def send_json(send: Send, status: int, detail: str, headers: list[Any] | None = None) -> None:
    """Answer ``{"detail": detail}`` with ``status`` and close the connection after it."""
    body = json_bytes({"detail": detail})
    head = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),  # the server then closes instead of draining the body
    ]
    head.extend(headers or [])
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _bearer_token(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _has_body(scope: Scope) -> bool:
    length = _header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return _header(scope, b"transfer-encoding") is not None


class RequestGuard:
    """Authentication, body size and content type checked before the body is read.

    ``protected(path)`` says which paths need a token (``/v1/`` and the API reference).
    """

    def __init__(
        self,
        app: ASGIApp,
        engine: Engine,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        protected: Callable[[str], bool] = lambda path: path.startswith("/v1/"),
    ) -> None:
        self.app = app
        self.engine = engine
        self.limit = max_body_bytes
        self.protected = protected

    def _authenticated(self, token: str | None) -> bool:
        try:
            authenticated(self.engine, token)
        except AuthenticationFailed:
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope)
        if refusal is not None:
            status, detail = refusal
            extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
            await send_json(send, status, detail, extra)
            return
        await self._forward(scope, receive, send)

    async def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) when the request is refused before its body is read."""
        if self.protected(str(scope.get("path", ""))):
            token = _bearer_token(scope)
            if not token or not await to_thread.run_sync(self._authenticated, token):
                return (
                    401,
                    "missing, invalid or deactivated bearer token: send "
                    "'Authorization: Bearer <token>'",
                )
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                return 400, "Content-Length must be a whole number of bytes"
            if int(length) > self.limit:
                return 413, too_large(self.limit)
        if _has_body(scope):
            kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if kind not in JSON_TYPES:
                return 415, "a request body must be JSON: send 'Content-Type: application/json'"
        return None

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body (counted, refused past the limit), check it is strict JSON, then run
        the app on it. A request without a body goes straight through."""
        if not _has_body(scope):
            await self.app(scope, receive, send)
            return
        body = await self._read(receive)
        if body is None:
            await send_json(send, 413, too_large(self.limit))
            return
        problem = json_problem(body) if body else None
        if problem is not None:
            await send_json(send, 400, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # the disconnect, when the client goes
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or ``None`` as soon as it passes the limit (the rest left unread)."""
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message.get("type") != "http.request":
                return b"".join(chunks)  # disconnected
            chunk = bytes(message.get("body", b""))
            seen += len(chunk)
            if seen > self.limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "RequestGuard",
    "json_bytes",
    "send_json",
    "too_large",
]
