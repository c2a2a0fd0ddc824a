"""The Celery application: Redis broker and result backend, and the one chunk task.

Reliability settings: ``task_acks_late`` with ``task_reject_on_worker_lost`` (a chunk whose worker
dies is delivered again), ``worker_prefetch_multiplier=1`` (a worker holds only what it works on),
JSON only, and broker connections retried forever (a worker outlives a Redis restart). Chunks
are idempotent (:class:`workers.ports.JobStore`), so redelivery is safe. Messages lost with a
Redis that kept no data are recovered by the stall sweeper (:func:`workers.jobs.sweep_stalled`),
which every worker runs in a background thread.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from celery import Celery

from workers.chunk import process_chunk
from workers.context import StoreOpener, WorkerConfig, WorkerContext
from workers.errors import BrokerUnavailableError
from workers.heap import freeze_startup_heap
from workers.jobs import sweep_stalled
from workers.runner import CHUNK_TASK, CeleryRunner

DEFAULT_QUEUE = "referee"
DEFAULT_VISIBILITY_TIMEOUT_S = 900
log = logging.getLogger("referee.workers")

_config: WorkerConfig | None = None
_open_store: StoreOpener | None = None
_context: WorkerContext | None = None
_context_pid: int | None = None
_context_lock = threading.Lock()


def configure_process(config: WorkerConfig, open_store: StoreOpener) -> None:
    """Set the configuration and the store opener this process's chunk tasks use (called at
    worker start)."""
    global _config, _open_store
    _config = config
    _open_store = open_store


def process_context() -> WorkerContext:
    """This process's :class:`WorkerContext`, built on first use (again after a fork)."""
    global _context, _context_pid
    with _context_lock:
        if _context is None or _context_pid != os.getpid():
            if _config is None or _open_store is None:
                raise RuntimeError("worker not configured: start it with `referee worker`")
            _context = WorkerContext(_config, open_store=_open_store)
            _context_pid = os.getpid()
        return _context


def run_chunk(job_id: int, pair_ids: Sequence[str], enqueued_at: str) -> dict[str, Any]:
    """The chunk task's body: plain arguments in, a JSON-ready report out."""
    report = process_chunk(
        process_context(), int(job_id), list(pair_ids), datetime.fromisoformat(enqueued_at)
    )
    return report.to_json()


def make_celery_app(
    broker_url: str,
    result_backend: str | None = None,
    *,
    queue: str = DEFAULT_QUEUE,
    visibility_timeout_s: int = DEFAULT_VISIBILITY_TIMEOUT_S,
) -> Celery:
    """A Celery app on ``broker_url`` with the chunk task registered.

    ``visibility_timeout_s``: how long Redis waits before redelivering a chunk whose worker
    vanished without acknowledging it; keep it above the longest chunk's run time.
    """
    if not broker_url:
        raise BrokerUnavailableError("no broker: set REFEREE_BROKER_URL=redis://host:6379/0")
    app = Celery("referee", broker=broker_url, backend=result_backend or broker_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_default_queue=queue,
        result_expires=24 * 3600,
        broker_transport_options={"visibility_timeout": visibility_timeout_s},
        result_backend_transport_options={"retry_policy": {"timeout": 5.0}},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_track_started=False,
        worker_hijack_root_logger=False,
        broker_pool_limit=None,
    )
    app.task(name=CHUNK_TASK, bind=False, acks_late=True, reject_on_worker_lost=True)(run_chunk)
    return app


def _sweep_forever(
    app: Celery, context: WorkerContext, every_s: float, stop: threading.Event
) -> None:
    runner = CeleryRunner(app)
    while not stop.wait(every_s):
        try:
            moved = sweep_stalled(context.store, runner)
            if moved:
                log.warning("re-enqueued %d pending pair(s) of stalled job(s)", moved)
        except Exception as exc:  # broker or database briefly away: try again later
            log.warning("stall sweep failed: %s", exc)


def start_sweeper(
    app: Celery, config: WorkerConfig, open_store: StoreOpener, every_s: float = 10.0
) -> threading.Event:
    """Run :func:`workers.jobs.sweep_stalled` every ``every_s`` in a daemon thread.

    Returns the event that stops it.
    """
    stop = threading.Event()
    threading.Thread(
        target=_sweep_forever,
        args=(app, WorkerContext(config, open_store=open_store), every_s, stop),
        name="referee-sweeper",
        daemon=True,
    ).start()
    return stop


def worker_argv(
    *,
    concurrency: int,
    pool: str = "threads",
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    loglevel: str = "INFO",
    hostname: str | None = None,
) -> list[str]:
    """The ``celery worker`` arguments ``referee worker`` uses (prefetch 1 is in the app)."""
    argv = [
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        f"--queues={','.join(queues)}",
        f"--loglevel={loglevel}",
        "--prefetch-multiplier=1",
        "--without-gossip",
        "--without-mingle",
    ]
    if hostname:
        argv.append(f"--hostname={hostname}")
    return argv


def run_worker(
    config: WorkerConfig,
    open_store: StoreOpener,
    broker_url: str,
    result_backend: str | None = None,
    *,
    queues: Sequence[str] = (DEFAULT_QUEUE,),
    pool: str = "threads",
    loglevel: str = "INFO",
    hostname: str | None = None,
    sweep_every_s: float = 10.0,
    visibility_timeout_s: int = DEFAULT_VISIBILITY_TIMEOUT_S,
) -> None:
    """Start a Celery worker in this process (blocks until it stops).

    ``config.chunk_threads`` chunks run at once, sharing ``config.concurrency`` calls per model.
    """
    configure_process(config, open_store)
    # The live judge stack (litellm, instructor) is imported when the first judge is built;
    # import it now so that the heap frozen below holds it. The entry point has configured
    # litellm already (judge.setup.configure_litellm).
    import judge.llm  # noqa: F401

    freeze_startup_heap()
    app = make_celery_app(
        broker_url, result_backend, queue=queues[0], visibility_timeout_s=visibility_timeout_s
    )
    stop = start_sweeper(app, config, open_store, sweep_every_s)
    try:
        app.worker_main(
            worker_argv(
                concurrency=config.chunk_threads,
                pool=pool,
                queues=queues,
                loglevel=loglevel,
                hostname=hostname,
            )
        )
    finally:
        stop.set()


__all__ = [
    "DEFAULT_QUEUE",
    "configure_process",
    "make_celery_app",
    "process_context",
    "run_chunk",
    "run_worker",
    "start_sweeper",
    "worker_argv",
]
