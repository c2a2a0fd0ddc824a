"""The lead's JSON views, for the lead's page (``/lead``). A lead token is required (403 for
a reviewer token, 401 without a valid one).

Leads are scoped like reviewers (:mod:`referee.review.membership`): a lead sees and opens only
the datasets granted to them, and pauses only reviewers who share one of those.

* ``GET /v1/lead/datasets``                 the lead's dataset names
* ``GET /v1/lead/overview?dataset=NAME``    queues, agreement, spot-check estimate, reviewers
  (with their automation-bias record), cost so far
  (:func:`referee.reports.lead_overview.lead_overview`)
* ``POST /v1/lead/pause``                   ``{"reviewer", "paused", "reason"?}``: pause or
  unpause a reviewer (:func:`referee.review.pause.set_paused`, audited under the lead's name)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import Field

from referee.api.bodies import StrictBody, shown_key
from referee.api.deps import LeadDataset, LeadId
from referee.app.review_api import lead_pause, lead_view, my_datasets
from referee.review.errors import NotFound

router = APIRouter()


@router.get("/v1/lead/datasets")
def datasets(request: Request, lead: LeadId) -> dict[str, list[str]]:
    """The names of the lead's datasets (granted with ``referee reviewers grant``)."""
    return {"datasets": my_datasets(request.app.state.engine, lead)}


@router.get("/v1/lead/overview")
def overview(request: Request, dataset: LeadDataset) -> dict[str, Any]:
    """Queue progress, agreement, spot-check accuracy and each reviewer's record."""
    human_cost = request.app.state.settings.human_cost  # REFEREE_HUMAN_COST
    return lead_view(request.app.state.engine, dataset, human_cost)


class PauseIn(StrictBody):
    """Pause (``paused: true``) or unpause a reviewer; ``reason`` is kept with the pause."""

    reviewer: str = Field(min_length=1, max_length=200)
    paused: bool
    reason: str | None = Field(default=None, max_length=2000)


@router.post("/v1/lead/pause")
def pause(request: Request, lead: LeadId, body: PauseIn) -> dict[str, Any]:
    """Pause or unpause ``body.reviewer``; ``changed`` is false when it already was so."""
    engine = request.app.state.engine
    changed = lead_pause(engine, lead, body.reviewer, body.paused, body.reason)
    if changed is None:
        raise NotFound(f"no reviewer named {shown_key(body.reviewer)} in your datasets")
    return {"reviewer": body.reviewer, "paused": body.paused, "changed": changed}


__all__ = ["PauseIn", "router"]
