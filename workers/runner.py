"""Where chunks run: on Celery workers (:class:`CeleryRunner`) or in this process
(:class:`InProcessRunner`, the in-memory stand-in used without a broker and in tests).

Both run the same :func:`workers.chunk.process_chunk`; a runner only decides where and when.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any, Protocol

from workers.chunk import ChunkReport, process_chunk
from workers.context import WorkerContext
from workers.errors import BrokerUnavailableError

CHUNK_TASK = "referee.prelabel_chunk"


class TaskRunner(Protocol):
    """Something that runs chunks of a job."""

    def enqueue(self, job_id: int, pair_ids: Sequence[str], enqueued_at: datetime) -> None:
        """Arrange for ``process_chunk(job_id, pair_ids, enqueued_at)`` to run."""
        ...

    def check(self) -> None:
        """Raise the first unexpected error a chunk hit (in-process only); else do nothing."""
        ...


class InProcessRunner:
    """Runs chunks on a thread pool in this process; every chunk shares one event loop."""

    def __init__(self, context: WorkerContext, threads: int | None = None) -> None:
        self.context = context
        self._pool = ThreadPoolExecutor(
            max_workers=threads or context.config.chunk_threads,
            thread_name_prefix="referee-chunk",
        )
        self._futures: list[Future[ChunkReport]] = []
        self._lock = threading.Lock()

    def enqueue(self, job_id: int, pair_ids: Sequence[str], enqueued_at: datetime) -> None:
        """Submit the chunk to the thread pool."""
        future = self._pool.submit(process_chunk, self.context, job_id, list(pair_ids), enqueued_at)
        with self._lock:
            self._futures.append(future)

    def check(self) -> None:
        """Re-raise the first error of a finished chunk (a bug or a database failure)."""
        with self._lock:
            finished = [f for f in self._futures if f.done()]
            self._futures = [f for f in self._futures if not f.done()]
        for future in finished:
            if not future.cancelled():
                future.result()

    def reports(self) -> list[ChunkReport]:
        """Wait for every submitted chunk and return their reports."""
        with self._lock:
            futures = list(self._futures)
            self._futures.clear()
        return [f.result() for f in futures]

    def interrupt(self, *, grace_s: float = 2.0, abort_wait_s: float = 8.0) -> bool:
        """Stop the chunks: none starts any more, and no chunk sends a new judge call.

        Calls in flight get ``grace_s`` seconds to be answered, then are cancelled; waits up
        to ``abort_wait_s`` more for the chunks to store what they have. True when every chunk
        ended in time.
        """
        self.context.gate.close()
        with self._lock:
            futures = list(self._futures)
        for future in futures:
            future.cancel()  # those not started yet
        running = [f for f in futures if not f.cancelled()]
        if wait(running, timeout=grace_s).not_done:
            self.context.gate.abort()
            return not wait(running, timeout=abort_wait_s).not_done
        return True

    def close(self) -> None:
        """Wait for running chunks and stop the pool."""
        self._pool.shutdown(wait=True, cancel_futures=self.context.gate.closed)


class CeleryRunner:
    """Enqueues chunks as Celery tasks on the broker; workers run them."""

    def __init__(self, app: Any, queue: str | None = None) -> None:
        self.app = app
        self.queue = queue

    def ping(self) -> None:
        """Raise :class:`BrokerUnavailableError` unless the broker accepts a connection."""
        try:
            with self.app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=5)
        except Exception as exc:
            raise BrokerUnavailableError(
                f"cannot reach the broker {self.app.conf.broker_url}: {exc} "
                "(check REFEREE_BROKER_URL and that Redis is running)"
            ) from exc

    def enqueue(self, job_id: int, pair_ids: Sequence[str], enqueued_at: datetime) -> None:
        """Send one chunk task."""
        options: dict[str, Any] = {"queue": self.queue} if self.queue else {}
        try:
            self.app.send_task(
                CHUNK_TASK,
                args=[job_id, list(pair_ids), enqueued_at.isoformat()],
                **options,
            )
        except Exception as exc:
            raise BrokerUnavailableError(
                f"cannot enqueue on {self.app.conf.broker_url}: {exc}"
            ) from exc

    def check(self) -> None:
        """Nothing to check here: workers report through the database."""


__all__ = ["CHUNK_TASK", "CeleryRunner", "InProcessRunner", "TaskRunner"]
