"""Request dependencies shared by the routers beside the core API: who is calling.

The bearer token is read from the ``Authorization`` header only (never from a query string or a
cookie), so it cannot end up in an access log or a ``Referer``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from referee.db.engine import transaction
from referee.errors import Forbidden
from referee.review.tokens import authenticate

bearer = HTTPBearer(auto_error=False, description="A reviewer token from 'referee reviewers add'")


def reviewer_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> int:
    """The id of the active reviewer whose bearer token came with the request (else 401)."""
    token = credentials.credentials if credentials is not None else None
    engine: Engine = request.app.state.engine
    with transaction(engine) as session:
        return authenticate(session, token).id


ReviewerId = Annotated[int, Depends(reviewer_id)]


class NotALead(Forbidden):
    """A valid token without the lead role asked for a lead's view (403)."""


def lead_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> int:
    """The id of the active lead whose token came with the request (401 without a valid
    token, 403 for a reviewer who is not a lead)."""
    token = credentials.credentials if credentials is not None else None
    engine: Engine = request.app.state.engine
    with transaction(engine) as session:
        reviewer = authenticate(session, token)
        if reviewer.role != "lead":
            raise NotALead(
                "this view needs a lead token ('referee reviewers add NAME --role lead')"
            )
        return reviewer.id


LeadId = Annotated[int, Depends(lead_id)]

__all__ = ["LeadId", "NotALead", "ReviewerId", "bearer", "lead_id", "reviewer_id"]
