"""The reviewers' REST API.

Every endpoint needs ``Authorization: Bearer <token>`` (from ``referee reviewers add``); a
wrong, missing or deactivated token is 401. A reviewer only ever sees items leased to them.

* ``GET  /v1/next?dataset=NAME``           lease and return the next item (204: queue empty)
* ``POST /v1/items/{pair_id}/label``       ``{"label", "rationale"?, "reason"?, "duration_s"?,
  "unsafe"?}`` (``unsafe``, with a reason, sends the pair to the incident queue)
* ``POST /v1/items/{pair_id}/release``     give a leased item back (skip)
* ``POST /v1/items/{pair_id}/undo``        take back your last label while its lease lasts
* ``GET  /v1/progress?dataset=NAME``      your counts: done today, done, remaining
* ``GET  /``, ``/review``, ``/lead``        the web pages (:mod:`referee.api.pages`)
* ``GET  /v1/stats?dataset=NAME``          pending / leased / done per queue, and your counts

A pair id may hold any character (``/ ? # %``, spaces, newlines, non-ASCII): percent-encode
it in the path as UTF-8 (``urllib.parse.quote(pair_id, safe="")``, ``encodeURIComponent``);
an unencoded ``/`` works too. The path's last segment (``label``, ``release``) is the action.

Errors are ``{"detail": "<what went wrong and what to do>"}`` with 400/401/403/404/409/413/415/422
(:mod:`referee.api.problems`); the token, the body's size and its JSON are checked before the
body reaches an endpoint (:mod:`referee.api.guard`), and bodies are strict
(:mod:`referee.api.bodies`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal
from urllib.parse import unquote_to_bytes

from fastapi import FastAPI, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Engine
from starlette.convertors import Convertor, register_url_convertor

from referee.api import lead, pages, progress, reference, review_config
from referee.api.bodies import StrictBody
from referee.api.deps import ReviewerDataset, ReviewerId
from referee.api.guard import RequestGuard
from referee.api.problems import install_error_handlers
from referee.app import review_api as api
from referee.db.written_text import access_from_settings, enable_text_redaction
from referee.ingest.records import MAX_NAME_CHARS, text_problem
from referee.review.config import QueueConfig
from referee.review.errors import NotFound
from referee.review.priority import Embedder
from referee.review.service import LabelSubmission
from referee.settings import Settings


class PairIdConvertor(Convertor[str]):
    """A pair id in a path: one or more of any character, ``/`` and newlines included.

    The server has percent-decoded the path already; the action after the id is matched by
    the route, so an id may itself end in ``/label``.
    """

    regex = "(?s:.+)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("pair_id", PairIdConvertor())

_ITEMS = b"/v1/items/"


def exact_pair_id(request: Request, matched: str, action: str) -> str:
    """The pair id exactly as the client sent it: its percent-encoding decoded once, as UTF-8.

    Read from the raw request path when the server provides it, so an id holding ``%`` (say
    ``100%25``, sent as ``100%2525``) is never decoded twice on its way through the stack;
    ``matched`` (from the decoded path) is the fallback.
    """
    raw = request.scope.get("raw_path")
    suffix = f"/{action}".encode()
    pair_id = matched
    if isinstance(raw, bytes) and raw.endswith(suffix) and _ITEMS in raw:
        encoded = raw[raw.index(_ITEMS) + len(_ITEMS) : -len(suffix)]
        try:
            pair_id = unquote_to_bytes(encoded).decode("utf-8")
        except UnicodeDecodeError:
            raise NotFound("the pair id in the path is not percent-encoded UTF-8") from None
    if text_problem(pair_id) is not None or len(pair_id) > MAX_NAME_CHARS:
        raise NotFound(f"no pair {pair_id!r}")  # no stored id holds these
    return pair_id


class LabelIn(StrictBody):
    """A reviewer's answer; ``reason`` is required when ``label`` is ``both_bad`` or
    ``unsafe`` is true (the pair goes to the incident queue). Strict (:class:`StrictBody`):
    unknown fields and loosely typed values are refused."""

    label: Literal["A", "B", "tie", "both_bad"]
    rationale: str | None = Field(default=None, max_length=20_000)
    reason: str | None = Field(default=None, max_length=20_000)
    duration_s: float | None = Field(default=None, ge=0)
    unsafe: bool = False
    # the dataset's schema (GET /v1/review-config): strength on a 5-point scale, 1-5 ratings
    strength: Literal["slight", "much"] | None = None
    ratings: dict[str, Any] | None = None

    @field_validator("rationale", "reason")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        problem = text_problem(value) if value is not None else None
        if problem is not None:
            raise ValueError(problem)
        return value


class TurnOut(BaseModel):
    """One earlier turn of a conversation prompt."""

    role: str
    content: str


class ItemOut(BaseModel):
    """One leased item. ``ai_label`` appears only when the server reveals AI labels;
    ``messages`` only when the prompt is a conversation (``prompt`` is then its flat text)."""

    pair_id: str
    prompt: str
    response_a: str
    response_b: str
    lease_expires_at: str
    ai_label: str | None = None
    messages: list[TurnOut] | None = None


class LabelOut(BaseModel):
    """Acknowledgement of a stored label."""

    pair_id: str
    label: str
    stored: bool = True


def create_app(
    engine: Engine,
    settings: Settings,
    *,
    config: QueueConfig | None = None,
    embedder: Embedder | None = None,
    docs: bool = False,
) -> FastAPI:
    """The API bound to ``engine``; queue behaviour from ``config`` (else from ``settings``).

    Every request first passes :class:`~referee.api.guard.RequestGuard` (token, body size,
    strict JSON); ``docs`` serves the API reference to leads (:mod:`referee.api.reference`)."""
    queue_config = config or QueueConfig.from_settings(settings)
    app = FastAPI(
        title="Referee review API",
        version="1",
        description="Human review queues of Referee. Authenticate with a reviewer token.",
        openapi_url=None,  # the reference is off unless asked for (referee.api.reference)
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(
        RequestGuard,
        engine=engine,
        max_body_bytes=settings.max_body_bytes,
        protected=lambda path: path.startswith("/v1/"),
    )

    app.state.engine = engine
    # text reviewers write into a redacted dataset is redacted with the server's vault
    enable_text_redaction(engine, access_from_settings(settings.vault_url, settings.vault_key))
    app.state.settings = settings
    app.state.queue_config = queue_config  # /v1/progress sizes gold-check slots by it

    _add_item_routes(app, engine, queue_config, embedder)
    _add_reviewer_routes(app, engine, queue_config)
    app.include_router(progress.router)
    app.include_router(review_config.router)
    app.include_router(lead.router)
    app.include_router(pages.router)
    if docs:
        app.include_router(reference.router)
    return app


__all__ = ["ItemOut", "LabelIn", "LabelOut", "create_app"]


def _add_item_routes(
    app: FastAPI, engine: Engine, queue_config: QueueConfig, embedder: Embedder | None
) -> None:
    """``/v1/next``, and the label and release of a leased item."""

    @app.get(
        "/v1/next",
        response_model=ItemOut,
        response_model_exclude_none=True,
        responses={204: {"description": "Nothing left for you in this dataset"}},
    )
    def next_item(reviewer_id: ReviewerId, dataset: ReviewerDataset) -> Any:
        item = api.next_item(engine, reviewer_id, dataset, queue_config, embedder)
        return item if item is not None else Response(status_code=204)

    @app.post("/v1/items/{pair_id:pair_id}/label", response_model=LabelOut)
    def label_item(
        request: Request, reviewer_id: ReviewerId, pair_id: str, body: LabelIn
    ) -> LabelOut:
        pair_id = exact_pair_id(request, pair_id, "label")
        submission = LabelSubmission(
            body.label, body.rationale, body.reason, body.duration_s, body.unsafe
        )
        submission = replace(submission, strength=body.strength, ratings=body.ratings)
        stored = api.label(engine, reviewer_id, pair_id, submission, queue_config)
        return LabelOut(pair_id=pair_id, label=stored)

    @app.post("/v1/items/{pair_id:pair_id}/release", status_code=204)
    def release(request: Request, reviewer_id: ReviewerId, pair_id: str) -> Response:
        api.release(engine, reviewer_id, exact_pair_id(request, pair_id, "release"))
        return Response(status_code=204)


def _add_reviewer_routes(app: FastAPI, engine: Engine, queue_config: QueueConfig) -> None:
    """Undo of one's last label, one's queue figures, and one's datasets."""

    @app.post(
        "/v1/items/{pair_id:pair_id}/undo", response_model=ItemOut, response_model_exclude_none=True
    )
    def undo(request: Request, reviewer_id: ReviewerId, pair_id: str) -> Any:
        exact = exact_pair_id(request, pair_id, "undo")
        return api.undo(engine, reviewer_id, exact, queue_config)

    @app.get("/v1/stats")
    def stats(reviewer_id: ReviewerId, dataset: ReviewerDataset) -> dict[str, Any]:
        return api.my_stats(engine, reviewer_id, dataset, queue_config)

    @app.get("/v1/datasets")
    def my_datasets(reviewer_id: ReviewerId) -> dict[str, list[str]]:
        """The datasets your token may open (and only those)."""
        return {"datasets": api.my_datasets(engine, reviewer_id)}
