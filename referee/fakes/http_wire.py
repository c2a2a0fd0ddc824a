"""Just enough HTTP/1.1 on asyncio streams for the fake provider: read one request (request line,
headers, a plain or chunked body) and encode one JSON response. No routing, no policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

REASONS: Final[dict[int, str]] = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class Request:
    """One request as read: ``arrived`` is the clock's time once its request line was read."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float


async def read_request(reader: asyncio.StreamReader, clock: Callable[[], float]) -> Request | None:
    """The next request on the connection, or None when the client is done (or spoke nonsense).

    The path loses its query string; header names are lower-cased.
    """
    request_line = await reader.readline()
    arrived = clock()
    if not request_line or not request_line.strip():
        return None
    parts = request_line.decode("latin-1").split()
    if len(parts) < 2:
        return None
    method, path = parts[0], parts[1].split("?", 1)[0]
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await read_body(reader, headers)
    return Request(method, path, headers, body, arrived)


async def read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    """The request's body: ``content-length`` bytes, or the chunks of a chunked one joined."""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return b"".join(chunks)
            chunks.append(await reader.readexactly(size))
            await reader.readline()
    length = int(headers.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""


def encode_response(status: int, extra: Mapping[str, str], payload: Any) -> bytes:
    """A complete HTTP/1.1 response with ``payload`` as its JSON body and ``extra`` headers."""
    data = json.dumps(payload).encode("utf-8")
    head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    head += ["content-type: application/json", f"content-length: {len(data)}"]
    head += [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data


__all__ = ["REASONS", "Request", "encode_response", "read_body", "read_request"]
