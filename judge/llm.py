"""Live judges: litellm (any model string, optional api_base) + instructor structured verdicts.

Every HTTP attempt goes through :meth:`LiteLLMProvider._complete`, which holds a per-model slot
(:mod:`judge.limits`), retries transient failures (:mod:`judge.retry`) and records usage, cost,
the raw text and log-probabilities in a per-answer ledger. instructor sits above it and re-asks
up to ``max_reasks`` times when the verdict does not validate; after that the answer is
unparseable with the raw text kept -- never a tie.
"""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import asyncio
import contextvars
import re
from dataclasses import dataclass, field
from typing import Any

import instructor
import litellm
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from litellm import exceptions as llm_errors

from judge.errors import JudgeError
from judge.labels import Order
from judge.limits import ModelLimiter
from judge.logprobs import verdict_probability
from judge.mapping import shown_texts
from judge.prompts import build_messages
from judge.provider import ProviderAnswer
from judge.retry import Failure, call_with_retries, parse_retry_after
from judge.schema import JudgeVerdict
from judge.spec import JudgeSpec
from judge.types import PairText

litellm.suppress_debug_info = True  # no "Give Feedback" banner on every provider error

_CHARS_PER_TOKEN = 4
_MISSING_KEY = re.compile(
    r"missing credentials|api_key client option must be set|no api key|api key (is )?missing",
    re.IGNORECASE,
)
# Wrapped once: instructor would otherwise build a new pydantic model class on every call.
_RESPONSE_MODEL: type[JudgeVerdict] = instructor.openai_schema(JudgeVerdict)


@dataclass
class _Ledger:
    """What the HTTP attempts behind one answer cost and returned."""

    attempts: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    raw: str | None = None
    logprob_tokens: list[tuple[str, float]] = field(default_factory=list)


_LEDGER: contextvars.ContextVar[_Ledger] = contextvars.ContextVar("judge_ledger")


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
    found = getattr(exc, "litellm_response_headers", None)
    if not found:
        found = getattr(getattr(exc, "response", None), "headers", None)
    try:
        return {str(k): str(v) for k, v in dict(found or {}).items()}
    except (TypeError, ValueError):
        return {}


def classify_litellm_error(exc: BaseException, spec: JudgeSpec) -> Failure | None:
    """Translate a litellm/openai/asyncio exception into a transient or permanent failure."""
    where = f"at {spec.api_base}" if spec.api_base else "at the provider"
    if isinstance(exc, asyncio.TimeoutError | llm_errors.Timeout):
        return Failure(True, f"no answer within {spec.timeout_s:g}s {where} (timeout)", 408)
    if isinstance(exc, llm_errors.APIConnectionError):
        return Failure(True, f"cannot connect {where}: {_short(exc)}", None)
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


class LiteLLMProvider:
    """Answers through ``litellm.acompletion`` with instructor-validated verdicts."""

    def __init__(self, spec: JudgeSpec, limiter: ModelLimiter) -> None:
        self.spec = spec
        self.limiter = limiter
        mode = instructor.Mode.JSON if spec.mode == "json" else instructor.Mode.TOOLS
        # typed as Any: instructor's stubs do not model an async litellm-style create function
        self._client: Any = instructor.from_litellm(self._complete, mode=mode)
        self._describe = f"judge {spec.name!r} ({spec.model})"

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
        try:
            cost_in, cost_out = litellm.cost_per_token(
                model=spec.model, prompt_tokens=tokens_in, completion_tokens=tokens_out
            )
        except Exception:  # litellm raises a bare Exception for models it has no price for
            return 0.0
        return float(cost_in) + float(cost_out)

    async def _complete(self, **kwargs: Any) -> Any:
        """One validated-or-not completion: slot, transient retries, ledger bookkeeping."""
        ledger = _LEDGER.get()
        request = {**kwargs, **self._call_kwargs()}
        chars = sum(len(str(m.get("content") or "")) for m in request.get("messages", []))
        estimate = chars // _CHARS_PER_TOKEN + self.spec.max_tokens

        async def attempt() -> Any:
            async with self.limiter.slot(estimate) as grant:
                response = await asyncio.wait_for(
                    litellm.acompletion(**request), timeout=self.spec.timeout_s + 5.0
                )
                usage = _get(response, "usage")
                tokens_in = int(_get(usage, "prompt_tokens") or 0)
                tokens_out = int(_get(usage, "completion_tokens") or 0)
                grant.settle(tokens_in + tokens_out)
                return response

        response = await call_with_retries(
            attempt,
            self.spec.retry,
            lambda exc: classify_litellm_error(exc, self.spec),
            describe=self._describe,
        )
        usage = _get(response, "usage")
        tokens_in = int(_get(usage, "prompt_tokens") or 0)
        tokens_out = int(_get(usage, "completion_tokens") or 0)
        ledger.attempts += 1
        ledger.tokens_in += tokens_in
        ledger.tokens_out += tokens_out
        ledger.cost += self.cost_of(tokens_in, tokens_out)
        ledger.raw = response_text(response)
        ledger.logprob_tokens = response_logprobs(response)
        return response

    async def answer(self, pair: PairText, order: Order) -> ProviderAnswer:
        """Ask the model about ``pair`` shown in ``order``; see :class:`ProviderAnswer`."""
        first, second = shown_texts(pair.response_a, pair.response_b, order)
        messages = build_messages(self.spec.rubric, pair.prompt, first, second)
        ledger = _Ledger()
        token = _LEDGER.set(ledger)
        try:
            verdict: JudgeVerdict = await self._client.chat.completions.create(
                response_model=_RESPONSE_MODEL,
                messages=messages,
                max_retries=self.spec.max_reasks,
            )
        except InstructorRetryException as exc:
            if isinstance(exc.__cause__, JudgeError):
                raise exc.__cause__ from None
            why = f"no valid verdict after {ledger.attempts} tries: {_short(exc)}"
            return self._unparseable(ledger, why)
        except IncompleteOutputException:
            return self._unparseable(ledger, "answer cut off at max_tokens")
        finally:
            _LEDGER.reset(token)
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
        )

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
        )


__all__ = ["LiteLLMProvider", "classify_litellm_error", "response_logprobs", "response_text"]
