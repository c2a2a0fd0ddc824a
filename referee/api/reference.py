"""The API reference, for leads, only when ``referee serve --docs`` asks for it.

Off by default: ``/docs``, ``/redoc`` and ``/openapi.json`` are 404. With ``--docs``:

* ``GET /v1/openapi.json``   the OpenAPI document; needs a lead token like every lead view
  (401 without a valid token, 403 for a reviewer's);
* ``GET /docs`` (and ``/redoc``)  a small reference page shipped in the package
  (``referee/web/docs.html``): it takes the lead's token (the lead page's, or its own form)
  and lists each endpoint, its parameters and body fields from the document above. No Swagger
  UI, no CDN: the page is served with the same strict Content-Security-Policy as the others
  and loads nothing from another origin.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from referee.api.deps import LeadId
from referee.api.pages import page_response

router = APIRouter(include_in_schema=False)


@router.get("/v1/openapi.json")
def openapi_document(request: Request, _lead: LeadId) -> dict[str, Any]:
    """The OpenAPI document of this server (a lead token is required)."""
    document: dict[str, Any] = request.app.openapi()
    return document


@router.get("/docs")
@router.get("/redoc")
def reference_page() -> Response:
    """The self-hosted reference page (it fetches the document with the lead's token)."""
    return page_response("docs.html")


__all__ = ["router"]
