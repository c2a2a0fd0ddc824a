"""Per-model limits on concurrent calls and on requests and tokens per minute.

One :class:`LimitsRegistry` is shared by every judge of a process; judges on the same model
(and API base) share one :class:`ModelLimiter`. Rates are token buckets (capacity = the
per-minute limit, refilled continuously) guarded by a thread lock, so they hold across event
loops and threads; a caller that overdraws a bucket waits until the debt is repaid. Concurrency
is an ``asyncio.Semaphore`` per event loop (asyncio primitives cannot cross loops).
Limits are per process; several worker processes each get their own.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelLimits:
    """Limits for one model. ``None`` means unlimited."""

    concurrency: int | None = 16
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None


class TokenBucket:
    """A thread-safe token bucket of ``per_minute`` capacity that allows debt.

    :meth:`reserve` takes ``amount`` now and returns how long the caller must wait before the
    bucket is non-negative again: ``max(0, -level / rate)`` with ``rate = per_minute / 60``.
    """

    def __init__(self, per_minute: int) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._level = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, amount: float) -> float:
        """Take ``amount``; return the seconds to wait before using it."""
        with self._lock:
            self._refill(time.monotonic())
            self._level -= amount
            return 0.0 if self._level >= 0 else -self._level / self.rate

    def adjust(self, delta: float) -> None:
        """Correct an earlier reservation by ``delta`` (positive: took too little)."""
        with self._lock:
            self._refill(time.monotonic())
            self._level -= delta


class ModelLimiter:
    """Concurrency and rate limits of one model, shared by every judge using it."""

    def __init__(self, limits: ModelLimits) -> None:
        self.limits = limits
        self._requests = (
            TokenBucket(limits.requests_per_minute) if limits.requests_per_minute else None
        )
        self._tokens = TokenBucket(limits.tokens_per_minute) if limits.tokens_per_minute else None
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._semaphores = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def _semaphore(self) -> asyncio.Semaphore | None:
        if not self.limits.concurrency:
            return None
        loop = asyncio.get_running_loop()
        with self._lock:
            sem = self._semaphores.get(loop)
            if sem is None:
                sem = asyncio.Semaphore(self.limits.concurrency)
                self._semaphores[loop] = sem
            return sem

    @asynccontextmanager
    async def slot(self, estimated_tokens: int) -> AsyncIterator[TokenGrant]:
        """Hold one call slot: wait for the rate buckets, then for a concurrency permit."""
        wait = 0.0
        if self._requests is not None:
            wait = max(wait, self._requests.reserve(1))
        if self._tokens is not None:
            wait = max(wait, self._tokens.reserve(estimated_tokens))
        if wait > 0:
            await asyncio.sleep(wait)
        grant = TokenGrant(self._tokens, estimated_tokens)
        sem = self._semaphore()
        if sem is None:
            yield grant
            return
        async with sem:
            yield grant


class TokenGrant:
    """Lets a caller report the tokens a call really used, correcting the estimate."""

    def __init__(self, bucket: TokenBucket | None, estimated: int) -> None:
        self._bucket = bucket
        self._estimated = estimated

    def settle(self, actual_tokens: int) -> None:
        """Charge (or refund) the difference between actual and estimated tokens."""
        if self._bucket is not None and actual_tokens > 0:
            self._bucket.adjust(actual_tokens - self._estimated)
            self._estimated = actual_tokens


class LimitsRegistry:
    """Limiters per (model, api_base); ``default`` applies to models without their own limits."""

    def __init__(
        self,
        default: ModelLimits | None = None,
        per_model: dict[str, ModelLimits] | None = None,
    ) -> None:
        self.default = default or ModelLimits()
        self.per_model = dict(per_model or {})
        self._limiters: dict[tuple[str, str | None], ModelLimiter] = {}
        self._lock = threading.Lock()

    def limiter(self, model: str, api_base: str | None = None) -> ModelLimiter:
        """The shared limiter of ``model`` at ``api_base`` (created on first use)."""
        key = (model, api_base)
        with self._lock:
            found = self._limiters.get(key)
            if found is None:
                found = ModelLimiter(self.per_model.get(model, self.default))
                self._limiters[key] = found
            return found


DEFAULT_LIMITS = LimitsRegistry()

__all__ = [
    "DEFAULT_LIMITS",
    "LimitsRegistry",
    "ModelLimiter",
    "ModelLimits",
    "TokenBucket",
    "TokenGrant",
]
