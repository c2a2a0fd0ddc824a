"""``GET /v1/review-config?dataset=NAME``: the dataset's annotation schema, for the review page.

``{"dataset", "scale", "dimensions", "require_rationale", "guidelines", "version",
"rubric_version", "sha256", "updated_at"}`` (:mod:`referee.review.schema`); any reviewer token
(401 without one), 404 for an unknown dataset.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Engine

from referee.api.deps import ReviewerId
from referee.db.engine import transaction
from referee.review.schema import load_schema

router = APIRouter()


@router.get("/v1/review-config")
def review_config(
    request: Request, _reviewer: ReviewerId, dataset: Annotated[str, Query(min_length=1)]
) -> dict[str, Any]:
    """The scale, rating dimensions, rationale rule and guidelines (with their version)."""
    engine: Engine = request.app.state.engine
    with transaction(engine) as session:
        return load_schema(session, dataset).to_json()


__all__ = ["router"]
