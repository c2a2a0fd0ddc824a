"""Direct HTTP to OpenAI-compatible chat endpoints, with the request built by litellm once.

``litellm.acompletion`` spends about 4 ms of CPU on every call outside the HTTP exchange: a hop
through a thread pool to build the request, a ``ModelResponse`` built field by field, a cost
calculation and a logging payload we never read. At bulk pre-labelling rates (hundreds of calls a
second on two cores) that CPU, not the provider, sets the pace. For models litellm routes to the
OpenAI chat API (``openai/...``, with or without ``api_base``: OpenAI itself, vLLM, llama.cpp,
LM Studio, Ollama's ``/v1``, any OpenAI-compatible gateway) :class:`OpenAIChatRoute` therefore

- asks litellm, once per judge, for what it would send: the endpoint URL and headers
  (``validate_environment``/``get_complete_url`` of its OpenAI config), the optional parameters
  mapped for the model (``get_optional_params``: ``max_completion_tokens`` for reasoning models,
  unsupported parameters dropped) and the request body (``transform_request``);
- per call, swaps in the messages, POSTs the JSON with one pooled ``aiohttp`` session per event
  loop, and validates the answer as the openai SDK's ``ChatCompletion`` -- the object instructor's
  parsers and re-ask handlers are written for.

Every other provider (Anthropic, Gemini, Bedrock, Azure, ...) goes through ``litellm.acompletion``
(:mod:`judge.llm`), as does any judge whose spec says ``transport=litellm``, and any OpenAI model
for which litellm's own request building fails (see :func:`route_for`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
import urllib.request
import weakref
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import litellm
import pydantic
from litellm.secret_managers.main import get_secret_str
from litellm.types.utils import LlmProviders
from litellm.utils import ProviderConfigManager, get_optional_params
from openai.types.chat import ChatCompletion

from kernel.errors import RefereeError

#: litellm providers whose chat endpoint is the OpenAI wire format, served by this module.
DIRECT_PROVIDERS: Final = frozenset({"openai"})
_FINISH_REASONS: Final = frozenset(
    {"stop", "length", "tool_calls", "content_filter", "function_call"}
)
# Parameters litellm's get_optional_params understands and instructor's request may carry.
_OPTIONAL: Final = (
    "temperature", "max_tokens", "response_format", "tools", "tool_choice", "logprobs",
)  # fmt: skip
_ERROR_TEXT_LIMIT: Final = 2000
log = logging.getLogger("referee.judge")


class ProviderHTTPError(RefereeError):
    """The endpoint answered with an HTTP error status (``status_code``, ``headers`` kept)."""

    def __init__(self, status_code: int, message: str, headers: Mapping[str, str]) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code
        self.headers = dict(headers)


class ProviderConnectionError(RefereeError):
    """No HTTP answer: connection refused or reset, DNS failure, the server hung up."""


class ProviderResponseError(RefereeError):
    """An HTTP 200 whose body is not a chat completion (not JSON, or no choices)."""


def _error_message(status: int, text: str) -> str:
    """The provider's own error message when the body is OpenAI's error JSON, else the text."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str):
            return error
    text = " ".join(text.split())
    return text[:300] if text else f"status {status}"


@dataclass(frozen=True)
class RouteAnswer:
    """One chat completion (without its log-probabilities) and the content tokens' logprobs."""

    completion: ChatCompletion
    logprob_tokens: list[tuple[str, float]]


def _content_logprobs(choice: Mapping[str, Any]) -> list[tuple[str, float]]:
    logprobs = choice.get("logprobs")
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return []
    return [
        (item["token"], float(item["logprob"]))
        for item in content
        if isinstance(item, dict)
        and isinstance(item.get("token"), str)
        and isinstance(item.get("logprob"), int | float)
    ]


def parse_completion(raw: bytes, model: str) -> RouteAnswer:
    """The answer body as a ``ChatCompletion`` plus the first choice's content logprobs.

    The logprobs are read from the JSON directly and left out of the validated object (they are
    most of the body and all we need of them is ``(token, logprob)``). Lenient where
    OpenAI-compatible servers differ: missing ``id``/``created``/``object``/``index`` get neutral
    values and a finish reason outside OpenAI's set (``eos``, ``null``) reads as ``stop``
    (``length`` is kept, so cut-off answers are still seen). Raises
    :class:`ProviderResponseError` when the body is not a completion at all.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        snippet = raw[:120].decode("utf-8", "replace")
        raise ProviderResponseError(f"the answer is not JSON: {snippet!r}") from None
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices:
        raise ProviderResponseError("the answer has no choices")
    if not all(isinstance(c, dict) and isinstance(c.get("message"), dict) for c in choices):
        raise ProviderResponseError("a choice of the answer has no message")
    tokens = _content_logprobs(choices[0])
    for index, choice in enumerate(choices):
        choice.pop("logprobs", None)
        choice.setdefault("index", index)
        if choice.get("finish_reason") not in _FINISH_REASONS:
            choice["finish_reason"] = "stop"
        choice["message"].setdefault("role", "assistant")
    data.setdefault("id", "")
    data.setdefault("created", 0)
    data["object"] = "chat.completion"
    if not isinstance(data.get("model"), str):
        data["model"] = model
    try:
        return RouteAnswer(ChatCompletion.model_validate(data), tokens)
    except pydantic.ValidationError as exc:
        raise ProviderResponseError(f"the answer is not a chat completion: {exc}") from None


class _Sessions:
    """One pooled ``aiohttp.ClientSession`` per event loop (sessions cannot cross loops).

    Each session is closed when its loop shuts down its async generators -- ``asyncio.run`` does
    on exit, and so does :meth:`judge.runtime.LoopThread.close` -- through a one-step async
    generator parked in the loop's set of live generators.
    """

    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, AsyncIterator[None]]
        ] = weakref.WeakKeyDictionary()

    @staticmethod
    async def _closed_at_shutdown(session: aiohttp.ClientSession) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await session.close()

    async def get(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        found = self._by_loop.get(loop)
        if found is not None and not found[0].closed:
            return found[0]
        # limit=0: concurrency is bounded by the per-model limits (judge.limits), not here
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        # no trust_env: it re-reads ~/.netrc and the proxy variables on every request; the
        # route resolves its proxy once instead (env_proxy)
        session = aiohttp.ClientSession(connector=connector)
        holder = self._closed_at_shutdown(session)
        self._by_loop[loop] = (session, holder)
        await anext(holder)  # the first step registers it with the loop's shutdown_asyncgens
        return session

    async def close_current(self) -> None:
        """Close this loop's session now, if any."""
        found = self._by_loop.pop(asyncio.get_running_loop(), None)
        if found is not None and not found[0].closed:
            await found[0].close()


SESSIONS: Final = _Sessions()


def env_proxy(url: str) -> str | None:
    """The proxy the environment (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``...) sets for
    ``url``, as the standard library reads it; ``None`` for a direct connection."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme) or None


class OpenAIChatRoute:
    """POST chat completions to one endpoint with a body litellm built (see module docstring)."""

    def __init__(self, url: str, headers: Mapping[str, str], body: Mapping[str, Any]) -> None:
        self.url = url
        self.proxy = env_proxy(url)
        self.headers = dict(headers)
        self._body = dict(body)
        self._model = str(body.get("model", ""))

    def body(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The JSON body asking about ``messages``."""
        return {**self._body, "messages": list(messages)}

    async def complete(
        self, messages: Sequence[Mapping[str, Any]], timeout_s: float
    ) -> RouteAnswer:
        """One HTTP exchange; raises the ``Provider*Error`` classes above or a timeout."""
        payload = json.dumps(self.body(messages), ensure_ascii=False).encode()
        session = await SESSIONS.get()
        try:
            async with session.post(
                self.url,
                data=payload,
                headers=self.headers,
                proxy=self.proxy,
                timeout=aiohttp.ClientTimeout(total=timeout_s),
            ) as response:
                raw = await response.read()
                if response.status >= 400:
                    text = raw[:_ERROR_TEXT_LIMIT].decode("utf-8", "replace")
                    raise ProviderHTTPError(
                        response.status,
                        _error_message(response.status, text),
                        {k: v for k, v in response.headers.items()},
                    )
        except TimeoutError:  # aiohttp's timeouts are TimeoutErrors (and some ClientErrors too)
            raise
        except aiohttp.ClientResponseError as exc:  # malformed status line or headers
            raise ProviderConnectionError(f"bad HTTP answer: {exc.message}") from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            raise ProviderConnectionError(str(exc) or type(exc).__name__) from None
        return parse_completion(raw, self._model)


_FALLBACKS_LOGGED: set[tuple[str, str]] = set()


def _fall_back(model: str, reason: str, *, exc: BaseException | None = None) -> None:
    """Log, once per model and reason, why ``model`` goes through ``litellm.acompletion``."""
    key = (model, reason)
    if key in _FALLBACKS_LOGGED:
        return
    _FALLBACKS_LOGGED.add(key)
    if exc is None:
        log.info("judge model %s: calls go through litellm.acompletion (%s)", model, reason)
    else:
        log.warning(
            "judge model %s: calls go through litellm.acompletion, which is slower (%s: %s: %s)",
            model, reason, type(exc).__name__, exc,
        )  # fmt: skip


def _resolved(
    spec_value: str | None, settings: tuple[str, ...], variables: tuple[str, ...]
) -> str | None:
    """``spec_value``, else the first of litellm's module ``settings`` set, else the first of the
    provider's own ``variables`` litellm would read (through its secret lookup, as
    ``litellm.completion`` does: which variables a provider reads is litellm's configuration)."""
    if spec_value:
        return spec_value
    for setting in settings:
        value = getattr(litellm, setting, None)
        if value:
            return str(value)
    for name in variables:
        found = get_secret_str(name)
        if found:
            return str(found)
    return None


def route_for(
    model: str, api_base: str | None, api_key: str | None, prepared: Mapping[str, Any]
) -> OpenAIChatRoute | None:
    """The direct route for ``model``, or ``None`` when litellm should make the call.

    ``prepared`` is the judge's ``litellm.acompletion`` keyword arguments as instructor prepared
    them (``temperature``, ``max_tokens``, ``response_format`` or ``tools``, ...). ``None`` for
    providers outside :data:`DIRECT_PROVIDERS` and whenever litellm's request building raises
    (a litellm release that changed it): the judge then uses ``litellm.acompletion``, which is
    slower but never wrong. Every such fallback is logged once per model with its reason
    (``referee.judge``: INFO for another provider, WARNING when something failed).
    """
    try:
        name, provider, _, _ = litellm.get_llm_provider(model, api_base=api_base)
    except Exception as exc:  # litellm raises BadRequestError for model strings it cannot route
        _fall_back(model, "litellm cannot tell its provider", exc=exc)
        return None
    if provider not in DIRECT_PROVIDERS:
        _fall_back(model, f"provider {provider!r} has no direct route")
        return None
    # the same fallbacks litellm.main.completion applies for the openai provider
    base = _resolved(api_base, ("api_base",), ("OPENAI_BASE_URL", "OPENAI_API_BASE"))
    base = base or "https://api.openai.com/v1"
    key = _resolved(api_key, ("api_key", "openai_key"), ("OPENAI_API_KEY",))
    try:
        config = ProviderConfigManager.get_provider_chat_config(
            model=name, provider=LlmProviders(provider)
        )
        if config is None:
            _fall_back(model, f"litellm has no chat config for provider {provider!r}")
            return None
        url, headers, body = _build_request(config, name, provider, base, key, prepared)
    except Exception as exc:  # any change in litellm's request building: let litellm make the call
        _fall_back(model, "litellm's request building failed", exc=exc)
        return None
    body.pop("stream", None)
    return OpenAIChatRoute(url, headers, body)


def _build_request(
    config: Any, name: str, provider: str, base: str, key: str | None, prepared: Mapping[str, Any]
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """URL, headers and body of the request litellm would send for ``prepared`` (litellm's own
    request building, which may raise when a litellm release changed it)."""
    wanted = {k: prepared[k] for k in _OPTIONAL if prepared.get(k) is not None}
    optional: dict[str, Any] = get_optional_params(
        model=name, custom_llm_provider=provider, drop_params=True, **wanted
    )
    optional.pop("json_mode", None)
    extra_body = optional.pop("extra_body", None)
    litellm_params = {"custom_llm_provider": provider, "api_base": base}
    headers = config.validate_environment(
        headers=dict(getattr(litellm, "headers", None) or {}),
        model=name,
        messages=[],
        optional_params=optional,
        litellm_params=litellm_params,
        api_key=key,
        api_base=base,
    )
    url = config.get_complete_url(
        api_base=base, api_key=key, model=name, optional_params=optional,
        litellm_params=litellm_params, stream=False,
    )  # fmt: skip
    body = config.transform_request(
        model=name, messages=[], optional_params=dict(optional),
        litellm_params=litellm_params, headers=headers,
    )  # fmt: skip
    if extra_body:
        body.update(
            config.transform_extra_body(
                extra_body=extra_body, request=body, model=name, litellm_params=litellm_params
            )
        )
    return url, headers, body


async def close_sessions() -> None:
    """Close the running loop's HTTP session (for loop shutdown)."""
    await SESSIONS.close_current()


__all__ = [
    "DIRECT_PROVIDERS",
    "OpenAIChatRoute",
    "ProviderConnectionError",
    "ProviderHTTPError",
    "ProviderResponseError",
    "RouteAnswer",
    "close_sessions",
    "parse_completion",
    "route_for",
]
