"""Running judge coroutines from synchronous code (Celery tasks, the CLI) on one long-lived loop.

``asyncio.run`` per task works but builds a new event loop each time, so HTTP connections,
per-model concurrency semaphores and litellm's logging worker are rebuilt per task.
:class:`LoopThread` keeps one event loop alive in a daemon thread: :meth:`LoopThread.submit`
schedules a coroutine from any thread, :meth:`LoopThread.run` also waits for its result, and
:meth:`LoopThread.close` (called at interpreter exit too) shuts the loop down cleanly, closing
the HTTP sessions that live on it. :func:`run_blocking` uses one process-wide loop.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
CLOSE_TIMEOUT_S = 5.0


class LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self, name: str = "referee-judge-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()
        # before interpreter teardown, while the loop can still close its connections
        atexit.register(self.close)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop (for ``call_soon_threadsafe``)."""
        return self._loop

    @property
    def alive(self) -> bool:
        """True while the loop's thread runs (False after :meth:`close`, or in a forked child)."""
        return self._thread.is_alive()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule ``coro`` on the loop; the returned future is safe to wait on from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and block until it finishes (or ``timeout`` seconds)."""
        if threading.current_thread() is self._thread:
            raise RuntimeError("LoopThread.run called from its own loop; await the coroutine")
        return self.submit(coro).result(timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Finish the loop's async generators (closing its HTTP sessions), stop it, join it."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        if self._loop.is_running() and self._thread.is_alive():
            # a stuck generator must not keep the process from stopping
            with contextlib.suppress(Exception):
                self.submit(self._loop.shutdown_asyncgens()).result(timeout)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        if not self._loop.is_running() and not self._loop.is_closed():
            self._loop.close()


_SHARED: LoopThread | None = None
_SHARED_LOCK = threading.Lock()


def shared_loop() -> LoopThread:
    """The process-wide loop thread (started on first use; after fork a new one is made)."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None or not _SHARED.alive:
            _SHARED = LoopThread()
        return _SHARED


def run_blocking(coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
    """Run a judge coroutine from synchronous code on the shared loop; return its result."""
    return shared_loop().run(coro, timeout)


__all__ = ["LoopThread", "run_blocking", "shared_loop"]
