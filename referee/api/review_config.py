"""``GET /v1/review-config?dataset=NAME``: the dataset's annotation schema, for the review page.

``{"dataset", "scale", "dimensions", "require_rationale", "guidelines", "version",
"rubric_version", "sha256", "updated_at"}`` (:mod:`referee.review.schema`); any reviewer token
(401 without one), 404 for a dataset that is unknown or not the caller's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from referee.api.deps import ReviewerDataset
from referee.app.review_api import dataset_schema

router = APIRouter()


@router.get("/v1/review-config")
def review_config(request: Request, dataset: ReviewerDataset) -> dict[str, Any]:
    """The scale, rating dimensions, rationale rule and guidelines (with their version)."""
    return dataset_schema(request.app.state.engine, dataset)


__all__ = ["router"]
