"""The reviewers' and leads' web pages, served by ``referee serve`` beside the REST API.

* ``/`` and ``/review``: the review page (``referee/web/review.html``). Open it as
  ``/#token=TOKEN&dataset=NAME`` or enter the token once in its form; the page keeps the token
  in the tab's ``sessionStorage``, takes it out of the address bar at once, and sends it only
  as ``Authorization: Bearer``. The fragment never reaches the server, so the token is in no
  request line and no access log.
* ``/lead``: the lead's page (``referee/web/lead.html``).
* ``/static/NAME``: the page assets, all shipped inside the package (no CDN, works offline).

What the pages share is written once: ``session.js`` (the token and the API calls) is a module
both pages' scripts import, and the top of both pages (doctype, meta tags, style sheet) is
``referee/web/_head.html``, put in place of each page's ``<!--#include _head.html ...-->`` line
when the page is first read. Partials (``_*.html``) are not served on their own.

Response text on the pages is untrusted model output, so every page answer carries a strict
Content-Security-Policy: scripts only from these files (no inline script, no ``eval``),
requests only to this origin, no frames, no plugins, no form submissions, no base-URL
changes; images only from this origin or ``data:`` (the pages themselves load none).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, HTTPException, Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


INCLUDE = re.compile(rb"<!--#include (_[\w-]+\.html)\b.*?-->\n?")


def _shipped(name: str) -> bytes | None:
    """The bytes of the file ``referee/web/NAME``; ``None`` for anything else."""
    if "/" in name or "\\" in name or name.startswith(".") or not name:
        return None
    if not any(name.endswith(suffix) for suffix in MEDIA_TYPES):
        return None
    path = resources.files("referee").joinpath("web", name)
    if not path.is_file():
        return None
    return path.read_bytes()


def _included(match: re.Match[bytes]) -> bytes:
    name = match.group(1).decode("ascii")
    part = _shipped(name)
    if part is None:  # a packaging mistake: fail at start-up, not on a reviewer's page
        raise FileNotFoundError(f"referee/web/{name} is included by a page but not shipped")
    return part


@lru_cache(maxsize=64)
def asset(name: str) -> bytes | None:
    """``referee/web/NAME`` as served (a page with its includes in place); ``None`` for anything
    that is not a shipped asset, and for the partials (``_*.html``) the pages include."""
    if name.startswith("_"):
        return None
    body = _shipped(name)
    if body is not None and name.endswith(".html"):
        body = INCLUDE.sub(_included, body)
    return body


def page_response(name: str) -> Response:
    """``referee/web/NAME`` with its media type and the security headers; 404 when absent."""
    body = asset(name)
    if body is None:
        raise HTTPException(status_code=404, detail=f"no page asset {name!r}")
    media_type = MEDIA_TYPES[name[name.rindex(".") :]]
    return Response(body, media_type=media_type, headers=SECURITY_HEADERS)


router = APIRouter(include_in_schema=False)

for _entry in resources.files("referee").joinpath("web").iterdir():
    asset(_entry.name)  # read once at start-up, not on a reviewer's first page load


@router.get("/")
@router.get("/review")
def review_page() -> Response:
    """The review page."""
    return page_response("review.html")


@router.get("/lead")
def lead_page() -> Response:
    """The lead's page."""
    return page_response("lead.html")


@router.get("/static/{name}")
def static_asset(name: str) -> Response:
    """A page asset (script, style sheet) from ``referee/web``."""
    return page_response(name)


__all__ = ["CONTENT_SECURITY_POLICY", "SECURITY_HEADERS", "asset", "page_response", "router"]
