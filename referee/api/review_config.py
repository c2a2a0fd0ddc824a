"""``GET /v1/review-config?dataset=NAME``: the dataset's annotation schema, for the review page.

``{"dataset", "scale", "dimensions", "require_rationale", "guidelines", "version",
"rubric_version", "sha256", "updated_at"}`` (:mod:`referee.review.schema`); any reviewer token
(401 without one), 404 for a dataset that is unknown or not the caller's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Engine

from referee.api.deps import ReviewerDataset
from referee.db.engine import transaction
from referee.review.schema import load_schema

router = APIRouter()


@router.get("/v1/review-config")
def review_config(request: Request, dataset: ReviewerDataset) -> dict[str, Any]:
    """The scale, rating dimensions, rationale rule and guidelines (with their version)."""
    engine: Engine = request.app.state.engine
    with transaction(engine) as session:
        return load_schema(session, dataset).to_json()


__all__ = ["router"]
