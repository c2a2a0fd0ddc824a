"""Live judges: litellm (any model string, optional api_base) + instructor structured verdicts.

One answer is a short loop (:meth:`LiteLLMProvider.answer`): send the request, let instructor's
parser validate the verdict, and on a validation failure let instructor's re-ask handler append
the correction messages and ask again, up to ``max_reasks`` times; after that the answer is
unparseable with the raw text kept -- never a tie. Every HTTP attempt goes through
:meth:`LiteLLMProvider._complete`, which holds a per-model slot (:mod:`judge.limits`), retries
transient failures (:mod:`judge.retry`) and adds usage, cost, the raw text and log-probabilities
to the answer's :class:`_Ledger`. The HTTP exchange itself is the direct route of
:mod:`judge.openai_http` for OpenAI-compatible models, ``litellm.acompletion`` for the others.

Why not ``instructor.from_litellm(...).create`` per call: its wrapper regenerates the verdict's
JSON schema, walks the model for async validators and builds a tenacity retry loop on every
call -- about 4 ms of CPU per call, a third of the whole call. The same instructor handlers
(request preparation, response parser, re-ask) are used here, but the request is prepared once
per judge (:class:`StructuredRequest`) and only the user message changes per call.

Importing this module configures nothing: litellm's process-wide options (local price map, its
HTTP handler, no banner) are set by the entry point through :func:`judge.setup.configure_litellm`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import instructor
import litellm
import pydantic
from instructor.core.exceptions import (
    AsyncValidationError,
    IncompleteOutputException,
    ResponseParsingError,
)
from instructor.v2 import Mode, Provider, mode_registry
from litellm import exceptions as llm_errors

from judge.conversation_prompt import (
    build_conversation_messages,
    conversation_user_message,
    fit_turns,
    transcript_budget_chars,
)
from judge.errors import PermanentProviderError
from judge.labels import Order
from judge.limits import ModelLimiter
from judge.logprobs import verdict_probability
from judge.mapping import shown_texts
from judge.openai_http import (
    OpenAIChatRoute,
    ProviderConnectionError,
    ProviderHTTPError,
    ProviderResponseError,
    route_for,
)
from judge.pricing import PRICES
from judge.prompts import build_messages, user_message
from judge.provider import ProviderAnswer
from judge.retry import Failure, call_with_retries, parse_retry_after
from judge.schema import JudgeVerdict
from judge.spec import JudgeSpec, StructuredMode
from judge.types import PairText

log = logging.getLogger("referee.judge")
_CHARS_PER_TOKEN = 4
_MISSING_KEY = re.compile(
    r"missing credentials|api_key client option must be set|no api key|api key (is )?missing",
    re.IGNORECASE,
)
# Wrapped once: instructor would otherwise build a new pydantic model class on every call.
_RESPONSE_MODEL: type[JudgeVerdict] = instructor.openai_schema(JudgeVerdict)
# What instructor's parser raises for an answer that is not a valid verdict (re-asked).
_INVALID_ANSWER: Final = (
    pydantic.ValidationError,
    json.JSONDecodeError,
    AsyncValidationError,
    ResponseParsingError,
)
_MODES: Final[dict[StructuredMode, Mode]] = {"json": Mode.JSON, "tools": Mode.TOOLS}


@dataclass
class _Ledger:
    """What the HTTP attempts behind one answer cost and returned."""

    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    raw: str | None = None
    logprob_tokens: list[tuple[str, float]] = field(default_factory=list)
    turns_dropped: int | None = None


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def response_text(response: Any) -> str | None:
    """The model's answer text: tool-call arguments when present, else the message content."""
    choices = _get(response, "choices") or []
    if not choices:
        return None
    message = _get(choices[0], "message")
    calls = _get(message, "tool_calls") or []
    if calls:
        return "\n".join(str(_get(_get(c, "function"), "arguments") or "") for c in calls)
    content = _get(message, "content")
    return None if content is None else str(content)


def response_logprobs(response: Any) -> list[tuple[str, float]]:
    """``(token, logprob)`` of the content tokens, when the provider returned them."""
    choices = _get(response, "choices") or []
    if not choices:
        return []
    content = _get(_get(choices[0], "logprobs"), "content") or []
    tokens: list[tuple[str, float]] = []
    for item in content:
        token, logprob = _get(item, "token"), _get(item, "logprob")
        if isinstance(token, str) and isinstance(logprob, int | float):
            tokens.append((token, float(logprob)))
    return tokens


def _headers(exc: BaseException) -> dict[str, str]:
    if isinstance(exc, ProviderHTTPError):
        return exc.headers
    found = getattr(exc, "litellm_response_headers", None)
    if not found:
        found = getattr(getattr(exc, "response", None), "headers", None)
    try:
        return {str(k): str(v) for k, v in dict(found or {}).items()}
    except (TypeError, ValueError):
        return {}


def classify_litellm_error(exc: BaseException, spec: JudgeSpec) -> Failure | None:
    """Translate a litellm/openai/asyncio/direct-HTTP exception into a transient or permanent
    failure (``None``: not a provider failure; let it propagate)."""
    where = f"at {spec.api_base}" if spec.api_base else "at the provider"
    if isinstance(exc, asyncio.TimeoutError | llm_errors.Timeout):
        return Failure(True, f"no answer within {spec.timeout_s:g}s {where} (timeout)", 408)
    if isinstance(exc, llm_errors.APIConnectionError | ProviderConnectionError):
        return Failure(True, f"cannot connect {where}: {_short(exc)}", None)
    if isinstance(exc, ProviderResponseError):
        return Failure(True, f"provider error {where}: {_short(exc)}", None)
    status = getattr(exc, "status_code", None)
    if _MISSING_KEY.search(str(exc)):
        return Failure(
            False,
            "no API key: set REFEREE_API_KEY or the provider's own variable (e.g. OPENAI_API_KEY)",
            401,
        )
    if isinstance(exc, llm_errors.AuthenticationError) or status == 401:
        return Failure(
            False,
            "the provider rejected the API key (401). Set REFEREE_API_KEY (or the provider's own "
            "variable, e.g. OPENAI_API_KEY) to a valid key"
            + (f" for {spec.api_base}" if spec.api_base else ""),
            401,
        )
    if isinstance(exc, llm_errors.PermissionDeniedError) or status == 403:
        return Failure(
            False, f"the API key may not use model {spec.model!r} (403); check its access", 403
        )
    if isinstance(exc, llm_errors.NotFoundError) or status == 404:
        return Failure(
            False,
            f"model {spec.model!r} not found {where} (404); check the model string and api_base",
            404,
        )
    if isinstance(exc, llm_errors.BadRequestError) or status in (400, 422):
        return Failure(False, f"the provider rejected the request: {_short(exc)}", status or 400)
    if isinstance(status, int):
        if status in (408, 409, 425, 429) or status >= 500:
            label = "rate limited (429)" if status == 429 else f"provider error {status}"
            return Failure(True, f"{label} {where}", status, parse_retry_after(_headers(exc)))
        return Failure(False, f"provider error {status}: {_short(exc)}", status)
    if isinstance(exc, llm_errors.APIError | llm_errors.OpenAIError):
        return Failure(True, f"provider error {where}: {_short(exc)}", None)
    return None


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _provider_of(spec: JudgeSpec) -> str | None:
    """litellm's provider name for the spec's model (``None`` when litellm cannot tell)."""
    try:
        return str(litellm.get_llm_provider(spec.model, api_base=spec.api_base)[1])
    except Exception:  # litellm raises BadRequestError for model strings it cannot route
        return None


class StructuredRequest:
    """instructor's request preparation, verdict parser and re-ask for one judge, built once.

    instructor's handler for the mode (JSON: the verdict schema appended to the system message
    and ``response_format``; TOOLS: the verdict as a forced tool) prepares the request once with
    a placeholder user message; :meth:`request` then only swaps in the real user message.
    """

    _PLACEHOLDER: Final[str] = "\x00referee:user-message\x00"

    def __init__(
        self, mode: StructuredMode, messages: list[dict[str, str]], call_kwargs: Mapping[str, Any]
    ) -> None:
        self._handlers = mode_registry.get_handlers(Provider.OPENAI, _MODES[mode])
        self._model: Any = _RESPONSE_MODEL
        template = [*messages[:-1], {"role": "user", "content": self._PLACEHOLDER}]
        self._model, prepared = self._handlers.request_handler(
            response_model=_RESPONSE_MODEL, kwargs={**call_kwargs, "messages": template}
        )
        shown = list(prepared.pop("messages"))
        if shown and shown[-1] == {"role": "user", "content": self._PLACEHOLDER}:
            self._prefix: list[dict[str, Any]] | None = shown[:-1]
        else:  # an instructor that merges or moves messages: prepare every request instead
            self._prefix = None
        self._call_kwargs = dict(call_kwargs)
        self._kwargs = prepared

    @property
    def prepared(self) -> dict[str, Any]:
        """The prepared keyword arguments but the messages (model, sampling, format or tools)."""
        return dict(self._kwargs)

    def request(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """The keyword arguments of ``litellm.acompletion`` asking about ``messages``."""
        if self._prefix is None:
            _, prepared = self._handlers.request_handler(
                response_model=_RESPONSE_MODEL, kwargs={**self._call_kwargs, "messages": messages}
            )
            return dict(prepared)
        # copies: litellm may adapt message dicts in place for some providers
        return {
            **self._kwargs,
            "messages": [*(dict(m) for m in self._prefix), dict(messages[-1])],
        }

    def parse(self, response: Any) -> JudgeVerdict:
        """The validated verdict (instructor's parser, strict as ``create`` is by default).

        Raises one of ``_INVALID_ANSWER`` for an invalid verdict, ``IncompleteOutputException``
        when the answer hit ``max_tokens``.
        """
        verdict: JudgeVerdict = self._handlers.response_parser(
            response=response,
            response_model=self._model,
            validation_context=None,
            strict=True,
            stream=False,
            is_async=True,
        )
        return verdict

    def reask(self, request: dict[str, Any], response: Any, error: Exception) -> dict[str, Any]:
        """``request`` with the invalid answer and instructor's correction appended."""
        retry: dict[str, Any] = self._handlers.reask_handler(
            kwargs={**request, "messages": list(request["messages"])},
            response=response,
            exception=error,
        )
        return retry


def _user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


class LiteLLMProvider:
    """Answers through litellm with instructor-validated verdicts.

    OpenAI-compatible models go over the direct route litellm builds once per judge
    (:mod:`judge.openai_http`; ``route`` is set); every other model, and any judge whose spec
    says ``transport=litellm``, through ``litellm.acompletion``.
    """

    def __init__(self, spec: JudgeSpec, limiter: ModelLimiter) -> None:
        self.spec = spec
        self.limiter = limiter
        self._describe = f"judge {spec.name!r} ({spec.model})"
        self._provider = _provider_of(spec)
        self._structured = StructuredRequest(
            spec.mode, build_messages(spec.rubric, "", "", ""), self._call_kwargs()
        )
        self._conversation: StructuredRequest | None = None  # built on the first conversation
        self.route: OpenAIChatRoute | None = None
        if spec.transport == "auto":
            self.route = route_for(
                spec.model, spec.api_base, spec.api_key, self._structured.prepared
            )

    def _call_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.spec.model,
            "temperature": self.spec.temperature,
            "max_tokens": self.spec.max_tokens,
            "timeout": self.spec.timeout_s,
            "num_retries": 0,  # retries live in judge.retry, nowhere else
            "max_retries": 0,
            "drop_params": True,
        }
        if self.spec.api_base:
            kwargs["api_base"] = self.spec.api_base
        if self.spec.api_key:
            kwargs["api_key"] = self.spec.api_key
        if self.spec.logprobs and self.spec.mode == "json":
            kwargs["logprobs"] = True
        return kwargs

    def cost_of(self, tokens_in: int, tokens_out: int) -> float:
        """Dollars for one call: per-model overrides first, else litellm's local price map."""
        spec = self.spec
        if spec.input_cost_per_mtok is not None or spec.output_cost_per_mtok is not None:
            return (
                tokens_in * (spec.input_cost_per_mtok or 0.0)
                + tokens_out * (spec.output_cost_per_mtok or 0.0)
            ) / 1e6
        return PRICES.cost(spec.model, tokens_in, tokens_out)

    def _check_key(self) -> None:
        """Fail fast, before any request, on an OpenAI model with no API key anywhere.

        The openai SDK used to refuse such a call itself; litellm's HTTP handler would send it.
        """
        if self.spec.api_key or self._provider != "openai" or litellm.api_key:
            return
        if litellm.openai_key:
            return
        if litellm.validate_environment(self.spec.model)["keys_in_environment"]:
            return
        failure = classify_litellm_error(ValueError("no API key"), self.spec)
        assert failure is not None
        raise PermanentProviderError(
            f"{self._describe}: {failure.message}", status_code=failure.status_code
        )

    async def _complete(self, request: dict[str, Any], ledger: _Ledger) -> Any:
        """One completion: slot, transient retries, ledger bookkeeping."""
        self._check_key()
        chars = sum(len(str(m.get("content") or "")) for m in request["messages"])
        estimate = chars // _CHARS_PER_TOKEN + self.spec.max_tokens
        deadline = self.spec.timeout_s + 5.0

        async def attempt() -> tuple[Any, list[tuple[str, float]]]:
            async with self.limiter.slot(estimate) as grant:
                if self.route is not None:
                    answer = await asyncio.wait_for(
                        self.route.complete(request["messages"], self.spec.timeout_s), deadline
                    )
                    response: Any = answer.completion
                    tokens = answer.logprob_tokens
                else:
                    response = await asyncio.wait_for(litellm.acompletion(**request), deadline)
                    tokens = response_logprobs(response)
                usage = _get(response, "usage")
                grant.settle(
                    int(_get(usage, "prompt_tokens") or 0)
                    + int(_get(usage, "completion_tokens") or 0)
                )
                return response, tokens

        response, tokens = await call_with_retries(
            attempt,
            self.spec.retry,
            lambda exc: classify_litellm_error(exc, self.spec),
            describe=self._describe,
            on_retry=self._log_retry,
        )
        usage = _get(response, "usage")
        tokens_in = int(_get(usage, "prompt_tokens") or 0)
        tokens_out = int(_get(usage, "completion_tokens") or 0)
        ledger.attempts += 1
        ledger.tokens_in += tokens_in
        ledger.tokens_out += tokens_out
        ledger.cost += self.cost_of(tokens_in, tokens_out)
        ledger.raw = response_text(response)
        ledger.logprob_tokens = tokens
        return response

    def _log_retry(self, failure: Failure, delay_s: float) -> None:
        log.info("%s: %s; retrying in %.1f s", self._describe, failure.message, delay_s)

    def _request_for(
        self, pair: PairText, order: Order
    ) -> tuple[StructuredRequest, dict[str, Any], int | None]:
        """The structured request, the request asking about ``pair`` in ``order`` and, for a
        conversation, how many earlier turns were dropped to fit ``context_tokens``."""
        first, second = shown_texts(pair.response_a, pair.response_b, order)
        if not pair.messages:
            content = user_message(pair.prompt, first, second)
            return self._structured, self._structured.request([_user(content)]), None
        spec = self.spec
        budget = transcript_budget_chars(
            spec.context_tokens, spec.max_tokens, spec.rubric, first, second
        )
        turns, dropped = fit_turns(pair.messages, budget)
        if self._conversation is None:
            template = build_conversation_messages(spec.rubric, (), "", "")
            self._conversation = StructuredRequest(spec.mode, template, self._call_kwargs())
        content = conversation_user_message(turns, first, second, dropped)
        return self._conversation, self._conversation.request([_user(content)]), dropped

    async def answer(self, pair: PairText, order: Order) -> ProviderAnswer:
        """Ask the model about ``pair`` shown in ``order``; see :class:`ProviderAnswer`.

        Raises :mod:`judge.errors` exceptions for provider failures; an answer that never
        validates comes back unparseable (``winner=None``) with the raw text.
        """
        structured, request, dropped = self._request_for(pair, order)
        ledger = _Ledger(turns_dropped=dropped)
        for reask in range(self.spec.max_reasks + 1):
            response = await self._complete(request, ledger)
            try:
                verdict = structured.parse(response)
            except IncompleteOutputException:
                return self._unparseable(ledger, "answer cut off at max_tokens")
            except _INVALID_ANSWER as exc:
                if reask == self.spec.max_reasks:
                    why = f"no valid verdict after {ledger.attempts} tries: {_short(exc)}"
                    return self._unparseable(ledger, why)
                log.debug("%s: invalid verdict, re-asking: %s", self._describe, _short(exc))
                request = structured.reask(request, response, exc)
                continue
            except AssertionError as exc:  # instructor's parser on a refusal
                return self._unparseable(ledger, f"no verdict: {_short(exc)}")
            return ProviderAnswer(
                winner=verdict.winner,
                raw=ledger.raw,
                confidence=verdict.confidence,
                logprob_confidence=verdict_probability(ledger.logprob_tokens),
                rationale=verdict.rationale,
                injection_flagged=verdict.injection_attempt,
                tokens_in=ledger.tokens_in,
                tokens_out=ledger.tokens_out,
                cost=ledger.cost,
                attempts=ledger.attempts,
                turns_dropped=ledger.turns_dropped,
            )
        raise AssertionError("unreachable: the loop returns on its last re-ask")

    @staticmethod
    def _unparseable(ledger: _Ledger, error: str) -> ProviderAnswer:
        return ProviderAnswer(
            winner=None,
            raw=ledger.raw,
            tokens_in=ledger.tokens_in,
            tokens_out=ledger.tokens_out,
            cost=ledger.cost,
            attempts=ledger.attempts,
            error=error,
            turns_dropped=ledger.turns_dropped,
        )


__all__ = [
    "LiteLLMProvider",
    "StructuredRequest",
    "classify_litellm_error",
    "response_logprobs",
    "response_text",
]
