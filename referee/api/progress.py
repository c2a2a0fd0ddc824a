"""``GET /v1/progress?dataset=NAME``: the caller's own progress, for the review page's header.

``{"dataset", "done_today", "done", "remaining"}`` (see :mod:`referee.review.progress`);
401 without a valid token, 404 for a dataset that is unknown or not the caller's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import Engine

from referee.api.deps import ReviewerDataset, ReviewerId
from referee.db.engine import transaction
from referee.review.config import QueueConfig
from referee.review.progress import reviewer_progress
from referee.review.tokens import reviewer_by_id

router = APIRouter()


@router.get("/v1/progress")
def progress(request: Request, reviewer_id: ReviewerId, dataset: ReviewerDataset) -> dict[str, Any]:
    """Items you answered today and ever in ``dataset``, and items still pending there."""
    engine: Engine = request.app.state.engine
    with transaction(engine) as session:
        reviewer = reviewer_by_id(session, reviewer_id)
        config: QueueConfig | None = getattr(request.app.state, "queue_config", None)
        return reviewer_progress(session, dataset, reviewer, config=config).to_json()


__all__ = ["router"]
