"""Running judge coroutines from synchronous code (Celery tasks, the CLI) on one shared loop.

``asyncio.run`` per task works but builds a new event loop each time, so HTTP clients, per-model
concurrency semaphores and litellm's logging worker are rebuilt per task. :class:`LoopThread`
keeps one event loop alive in a daemon thread; :func:`run_blocking` submits a coroutine to the
process-wide one and waits for its result (exceptions propagate unchanged).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self, name: str = "judge-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it finishes (or ``timeout`` seconds)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("LoopThread.run called from its own loop; await the coroutine")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def close(self) -> None:
        """Stop the loop and join the thread."""
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()


_SHARED: LoopThread | None = None
_SHARED_LOCK = threading.Lock()


def shared_loop() -> LoopThread:
    """The process-wide loop thread (started on first use; after fork a new one is made)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or not _SHARED._thread.is_alive():
            _SHARED = LoopThread()
        return _SHARED


def run_blocking(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run a judge coroutine from synchronous code on the shared loop; return its result."""
    return shared_loop().run(coro, timeout)


__all__ = ["LoopThread", "run_blocking", "shared_loop"]
