"""The reviewers' REST API.

Every endpoint needs ``Authorization: Bearer <token>`` (from ``referee reviewers add``); a
wrong, missing or deactivated token is 401. A reviewer only ever sees items leased to them.

* ``GET  /v1/next?dataset=NAME``           lease and return the next item (204: queue empty)
* ``POST /v1/items/{pair_id}/label``       ``{"label", "rationale"?, "reason"?, "duration_s"?}``
* ``POST /v1/items/{pair_id}/release``     give a leased item back (skip)
* ``GET  /v1/stats?dataset=NAME``          pending / leased / done per queue, and your counts

Errors are ``{"detail": "<what went wrong and what to do>"}`` with 400/401/403/404/409/422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from referee.db.engine import transaction
from referee.db.models import Reviewer
from referee.review.config import QueueConfig
from referee.review.errors import ReviewError
from referee.review.priority import Embedder
from referee.review.service import LabelSubmission, lease_next, release_item, submit_label
from referee.review.stats import queue_stats
from referee.review.tokens import authenticate
from referee.settings import Settings

T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False, description="A reviewer token from 'referee reviewers add'")


class LabelIn(BaseModel):
    """A reviewer's answer; ``reason`` is required when ``label`` is ``both_bad``."""

    label: Literal["A", "B", "tie", "both_bad"]
    rationale: str | None = Field(default=None, max_length=20_000)
    reason: str | None = Field(default=None, max_length=20_000)
    duration_s: float | None = Field(default=None, ge=0)


class ItemOut(BaseModel):
    """One leased item. ``ai_label`` appears only when the server reveals AI labels."""

    pair_id: str
    prompt: str
    response_a: str
    response_b: str
    lease_expires_at: str
    ai_label: str | None = None


class LabelOut(BaseModel):
    """Acknowledgement of a stored label."""

    pair_id: str
    label: str
    stored: bool = True


def current_reviewer_id(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> int:
    """The id of the active reviewer whose bearer token came with the request (else 401)."""
    token = credentials.credentials if credentials is not None else None
    engine: Engine = request.app.state.engine
    with transaction(engine) as session:
        return authenticate(session, token).id


ReviewerId = Annotated[int, Depends(current_reviewer_id)]


def create_app(
    engine: Engine,
    settings: Settings,
    *,
    config: QueueConfig | None = None,
    embedder: Embedder | None = None,
) -> FastAPI:
    """The API bound to ``engine``; queue behaviour from ``config`` (else from ``settings``)."""
    queue_config = config or QueueConfig.from_settings(settings)
    app = FastAPI(
        title="Referee review API",
        version="1",
        description="Human review queues of Referee. Authenticate with a reviewer token.",
    )

    app.state.engine = engine

    def run(work: Callable[[Session], T]) -> T:
        with transaction(engine) as session:
            return work(session)

    @app.exception_handler(ReviewError)
    async def review_error(_request: Request, exc: ReviewError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        )
        return JSONResponse(
            {"detail": f"invalid request: {problems}", "errors": _plain(exc.errors())},
            status_code=422,
        )

    @app.get(
        "/v1/next",
        response_model=ItemOut,
        response_model_exclude_none=True,
        responses={204: {"description": "Nothing left for you in this dataset"}},
    )
    def next_item(reviewer_id: ReviewerId, dataset: Annotated[str, Query(min_length=1)]) -> Any:
        def work(session: Session) -> dict[str, Any] | None:
            reviewer = session.get_one(Reviewer, reviewer_id)
            lease = lease_next(session, dataset, reviewer, queue_config, embedder=embedder)
            return lease.item.to_json() if lease is not None else None

        item = run(work)
        return item if item is not None else Response(status_code=204)

    @app.post("/v1/items/{pair_id}/label", response_model=LabelOut)
    def label_item(reviewer_id: ReviewerId, pair_id: str, body: LabelIn) -> LabelOut:
        def work(session: Session) -> LabelOut:
            reviewer = session.get_one(Reviewer, reviewer_id)
            submission = LabelSubmission(body.label, body.rationale, body.reason, body.duration_s)
            stored = submit_label(session, pair_id, reviewer, submission)
            return LabelOut(pair_id=pair_id, label=stored.label)

        return run(work)

    @app.post("/v1/items/{pair_id}/release", status_code=204)
    def release(reviewer_id: ReviewerId, pair_id: str) -> Response:
        run(lambda s: release_item(s, pair_id, s.get_one(Reviewer, reviewer_id)))
        return Response(status_code=204)

    @app.get("/v1/stats")
    def stats(
        reviewer_id: ReviewerId, dataset: Annotated[str, Query(min_length=1)]
    ) -> dict[str, Any]:
        return run(lambda s: queue_stats(s, dataset, s.get_one(Reviewer, reviewer_id)).to_json())

    return app


def _plain(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without non-JSON values (exception objects in ``ctx``)."""
    out = []
    for err in errors:
        out.append({k: (v if k != "ctx" else str(v)) for k, v in dict(err).items()})
    return out


__all__ = ["ItemOut", "LabelIn", "LabelOut", "create_app"]
