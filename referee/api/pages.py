"""The reviewers' and leads' web pages, served by ``referee serve`` beside the REST API.

* ``/`` and ``/review``: the review page (``referee/web/review.html``). Open it as
  ``/#token=TOKEN&dataset=NAME`` or enter the token once in its form; the page keeps the token
  in the tab's ``sessionStorage``, takes it out of the address bar at once, and sends it only
  as ``Authorization: Bearer``. The fragment never reaches the server, so the token is in no
  request line and no access log.
* ``/lead``: the lead's page (``referee/web/lead.html``).
* ``/static/NAME``: the page assets, all shipped inside the package (no CDN, works offline).

Response text on the pages is untrusted model output, so every page answer carries a strict
Content-Security-Policy: scripts only from these files (no inline script, no ``eval``),
requests only to this origin, no frames, no plugins, no form submissions, no base-URL
changes; images only from this origin or ``data:`` (the pages themselves load none).
"""

from __future__ import annotations

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


@lru_cache(maxsize=64)
def asset(name: str) -> bytes | None:
    """The bytes of ``referee/web/NAME``; ``None`` for anything that is not a shipped asset."""
    if "/" in name or "\\" in name or name.startswith(".") or not name:
        return None
    if not any(name.endswith(suffix) for suffix in MEDIA_TYPES):
        return None
    path = resources.files("referee").joinpath("web", name)
    if not path.is_file():
        return None
    return path.read_bytes()


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
