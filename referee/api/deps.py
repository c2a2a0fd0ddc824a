"""Request dependencies shared by the routers beside the core API: who is calling.

The bearer token is read from the ``Authorization`` header only (never from a query string or a
cookie), so it cannot end up in an access log or a ``Referer``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from referee.app.review_api import authenticated, member_dataset_name
from referee.errors import Forbidden
from referee.ingest.records import MAX_NAME_CHARS

bearer = HTTPBearer(auto_error=False, description="A reviewer token from 'referee reviewers add'")


def reviewer_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> int:
    """The id of the active reviewer whose bearer token came with the request (else 401)."""
    token = credentials.credentials if credentials is not None else None
    return authenticated(request.app.state.engine, token).id


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
    caller = authenticated(request.app.state.engine, token)
    if caller.role != "lead":
        raise NotALead("this view needs a lead token ('referee reviewers add NAME --role lead')")
    return caller.id


LeadId = Annotated[int, Depends(lead_id)]

DatasetName = Annotated[
    str,
    Query(min_length=1, max_length=MAX_NAME_CHARS, pattern="^[^\x00]+$", description="Dataset"),
]


def _member(request: Request, caller: int, dataset: str) -> str:
    return member_dataset_name(request.app.state.engine, caller, dataset)


def reviewer_dataset(request: Request, reviewer: ReviewerId, dataset: DatasetName) -> str:
    """``dataset`` when the caller's token may open it; else the one 404 of
    :mod:`referee.review.membership` (unknown and forbidden alike, no list)."""
    return _member(request, reviewer, dataset)


def lead_dataset(request: Request, lead: LeadId, dataset: DatasetName) -> str:
    """``dataset`` when the lead may open it (a lead token first: 401/403 as for any lead
    view); else the same 404 as an unknown dataset."""
    return _member(request, lead, dataset)


ReviewerDataset = Annotated[str, Depends(reviewer_dataset)]
LeadDataset = Annotated[str, Depends(lead_dataset)]

__all__ = [
    "DatasetName",
    "LeadDataset",
    "LeadId",
    "NotALead",
    "ReviewerDataset",
    "ReviewerId",
    "bearer",
    "lead_dataset",
    "lead_id",
    "reviewer_dataset",
    "reviewer_id",
]
