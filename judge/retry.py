"""The one place transient failures are retried: exponential backoff, full jitter, Retry-After.

Delay before retry ``k`` (0-based): the provider's Retry-After when it sent one (capped at
``max_retry_after_s``), else ``uniform(0, min(max_delay_s, base_delay_s * 2**k))`` -- "full
jitter" from M. Brooker, *Exponential Backoff and Jitter*, AWS Architecture Blog (2015).
Permanent failures are raised at once, never retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from judge.errors import JudgeError, PermanentProviderError, TransientProviderError
from judge.spec import RetryPolicy

T = TypeVar("T")


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


__all__ = ["Failure", "backoff_delay", "call_with_retries", "parse_retry_after"]
