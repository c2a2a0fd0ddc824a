"""One asyncio event loop per process, run in a daemon thread, shared by every chunk.

Celery runs chunk tasks in worker threads; each hands its coroutine to this loop and waits for
it. Sharing one loop means every chunk in the process shares the per-model concurrency limits
(``asyncio.Semaphore`` cannot cross loops) and the next chunk's calls start while the previous
chunk's last calls are still in flight, which keeps the provider busy across chunk boundaries.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """A running event loop in a daemon thread; :meth:`submit` schedules a coroutine on it."""

    def __init__(self, name: str = "referee-judge-loop") -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop (for ``call_soon_threadsafe``)."""
        return self._loop

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule ``coro`` on the loop; the returned future is safe to wait on from any thread."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def stop(self) -> None:
        """Stop the loop and join its thread."""
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


__all__ = ["LoopThread"]
