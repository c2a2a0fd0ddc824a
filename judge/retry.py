"""Retries: the one budget (:class:`RetryBudget`) and the one loop that retries a call.

:class:`RetryBudget` holds every retry limit of a pre-labeling job -- HTTP retries, re-asks,
pair attempts, deliveries -- and states the worst case in calls per pair. The code that obeys
each limit is named in its docstring; nothing else retries.

:func:`call_with_retries` retries transient provider failures: exponential backoff, full
jitter, Retry-After. Delay before retry ``k`` (0-based): the provider's Retry-After when it sent
one (capped at ``max_retry_after_s``), else ``uniform(0, min(max_delay_s, base_delay_s * 2**k))``
-- "full jitter" from M. Brooker, *Exponential Backoff and Jitter*, AWS Architecture Blog
(2015). Permanent failures are raised at once, never retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final, TypeVar

from judge.errors import JudgeError, PermanentProviderError, TransientProviderError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Transient-failure retries of one HTTP call: exponential backoff with full jitter,
    honouring Retry-After.

    Attempt ``k`` (0-based) waits ``uniform(0, min(max_delay_s, base_delay_s * 2**k))``, unless
    the provider sent Retry-After, which is waited instead (up to ``max_retry_after_s``).
    """

    max_retries: int = 4
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_retry_after_s: float = 120.0


@dataclass(frozen=True)
class RetryBudget:
    """Every retry limit of a pre-labeling job, configured here and nowhere else.

    Four layers, innermost first; each multiplies the calls of the one inside it:

    1. ``http`` -- one HTTP call failing transiently (429, 5xx, timeout, lost connection) is
       retried up to ``http.max_retries`` times with backoff (:func:`call_with_retries`):
       ``max_retries + 1`` calls.
    2. ``max_reasks`` -- an answer that is not a valid verdict is re-asked with the correction
       appended, up to ``max_reasks`` times, each a new call with its own HTTP retries
       (:meth:`judge.llm.LiteLLMProvider.answer`); then the verdict is stored ``unparseable``.
    3. ``pair_attempts`` -- a judge still failing transiently on a pair after layers 1-2 is
       tried again in the same chunk, ``pair_attempts`` times in all, after
       ``pair_pause_s * attempt`` seconds (:func:`workers.chunk.process_chunk`); an order that
       was answered is kept, not asked again. Then the pair is marked failed with the reason.
    4. ``max_claims`` -- a pair is handed to at most ``max_claims`` deliveries of its chunk (a
       chunk is delivered again when its worker died); the next claim marks it failed as
       abandoned (:func:`workers.store.claim_items`). Stored verdicts are never asked again.

    Every pair is asked in two orders, so the worst case, per judge and pair, is
    ``2 * (max_reasks + 1) * (max_retries + 1) * pair_attempts * max_claims`` calls
    (:meth:`calls_per_pair`): 2 * 3 * 5 * 2 * 5 = 300 with the defaults, against 2 when nothing
    fails. Permanent failures (400/401/403/404) are never retried. ``referee prelabel --resume``
    starts a new budget for the pairs it re-opens.

    >>> RetryBudget().calls_per_pair()
    300
    >>> RetryBudget(http=RetryPolicy(max_retries=0), max_reasks=0, max_claims=1).calls_per_pair()
    4
    """

    http: RetryPolicy = RetryPolicy()
    max_reasks: int = 2
    pair_attempts: int = 2
    pair_pause_s: float = 1.0
    max_claims: int = 5

    def __post_init__(self) -> None:
        if self.http.max_retries < 0 or self.max_reasks < 0:
            raise ValueError("max_retries and max_reasks must be >= 0")
        if self.pair_attempts < 1 or self.max_claims < 1:
            raise ValueError("pair_attempts and max_claims must be >= 1")

    @property
    def max_retries(self) -> int:
        """Retries of one HTTP call's transient failures (layer 1)."""
        return self.http.max_retries

    def calls_per_order(self) -> int:
        """Most HTTP calls one answer (one pair, one order, one attempt) can make: layers 1-2."""
        return (self.max_reasks + 1) * (self.http.max_retries + 1)

    def calls_per_pair(self, judges: int = 1) -> int:
        """Most HTTP calls one pair can cost with ``judges`` judges: every layer, both orders."""
        return judges * 2 * self.calls_per_order() * self.pair_attempts * self.max_claims


#: the budget every entry point starts from (``REFEREE_MAX_RETRIES`` and ``REFEREE_MAX_REASKS``
#: override its first two layers)
DEFAULT_BUDGET: Final = RetryBudget()


@dataclass(frozen=True)
class Failure:
    """A provider failure translated at the seam."""

    transient: bool
    message: str
    status_code: int | None = None
    retry_after_s: float | None = None


def parse_retry_after(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    if "retry-after-ms" in lowered:
        try:
            return max(0.0, float(lowered["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """Full-jitter delay before retry ``attempt`` (0-based)."""
    ceiling = min(policy.max_delay_s, policy.base_delay_s * (2**attempt))
    return (rng or random).uniform(0.0, ceiling)


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    classify: Callable[[BaseException], Failure | None],
    *,
    describe: str,
    on_retry: Callable[[Failure, float], None] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Await ``call()``, retrying transient failures up to ``policy.max_retries`` times.

    ``classify`` maps an exception to a :class:`Failure`, or ``None`` to let it propagate as is.
    Raises :class:`PermanentProviderError` at once for permanent failures and
    :class:`TransientProviderError` once retries are exhausted; ``describe`` names the judge.
    """
    attempt = 0
    while True:
        try:
            return await call()
        except JudgeError:
            raise
        except Exception as exc:
            failure = classify(exc)
            if failure is None:
                raise
            if not failure.transient:
                raise PermanentProviderError(
                    f"{describe}: {failure.message}", status_code=failure.status_code
                ) from exc
            if attempt >= policy.max_retries:
                raise TransientProviderError(
                    f"{describe}: {failure.message} (still failing after "
                    f"{policy.max_retries} retries; try again later or lower the request rate)",
                    status_code=failure.status_code,
                ) from exc
            if failure.retry_after_s is not None:
                delay = min(failure.retry_after_s, policy.max_retry_after_s)
            else:
                delay = backoff_delay(attempt, policy)
            if on_retry is not None:
                on_retry(failure, delay)
            attempt += 1
            await sleep(delay)


__all__ = [
    "DEFAULT_BUDGET",
    "Failure",
    "RetryBudget",
    "RetryPolicy",
    "backoff_delay",
    "call_with_retries",
    "parse_retry_after",
]
