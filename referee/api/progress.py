"""``GET /v1/progress?dataset=NAME``: the caller's own progress, for the review page's header.

``{"dataset", "done_today", "done", "remaining"}`` (see :mod:`referee.review.progress`);
401 without a valid token, 404 for a dataset that is unknown or not the caller's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from referee.api.deps import ReviewerDataset, ReviewerId
from referee.app.review_api import my_progress
from referee.review.config import QueueConfig

router = APIRouter()


@router.get("/v1/progress")
def progress(request: Request, reviewer_id: ReviewerId, dataset: ReviewerDataset) -> dict[str, Any]:
    """Items you answered today and ever in ``dataset``, and items still pending there."""
    config: QueueConfig | None = getattr(request.app.state, "queue_config", None)
    return my_progress(request.app.state.engine, reviewer_id, dataset, config)


__all__ = ["router"]
