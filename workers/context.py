"""What a process needs to run chunks: its configuration, job store, event loop and judges.

:class:`WorkerConfig` is plain data built at an entry point (``referee worker``, ``referee
prelabel``: :func:`referee.jobs.config.worker_config` reads it from the settings);
:class:`WorkerContext` opens the store (through the ``open_store`` the entry point gives), the
loop thread and the judges lazily, once per process (so it is safe across ``fork``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from judge.limits import LimitsRegistry, ModelLimits
from judge.pipeline import Judge, build_judge
from judge.retry import DEFAULT_BUDGET, RetryBudget
from judge.runtime import LoopThread
from judge.spec import parse_judge_spec
from workers.gate import CallGate, GatedRegistry
from workers.ports import JobStore

#: how an entry point opens a store on ``WorkerConfig.database_url`` (once per process)
StoreOpener = Callable[[str], JobStore]


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process needs, as plain values.

    ``concurrency`` is the number of concurrent calls per model in one process;
    ``chunk_threads`` the number of chunks one process works on at once; ``retry`` every retry
    limit (HTTP retries, re-asks, pair attempts, deliveries: see :class:`judge.retry.RetryBudget`).
    """

    database_url: str
    api_base: str | None = None
    api_key: str | None = None
    request_timeout_s: float = 60.0
    retry: RetryBudget = DEFAULT_BUDGET
    concurrency: int = 16
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    chunk_threads: int = 4


class WorkerContext:
    """A process's job store, event loop and judges, created on first use and then reused.

    Give the ``store`` itself, or ``open_store`` to open one on ``config.database_url`` when
    first used (after a fork, in the process that uses it). ``gate`` stops every judge call of
    this context at once (see :mod:`workers.gate`).
    """

    def __init__(
        self,
        config: WorkerConfig,
        store: JobStore | None = None,
        *,
        open_store: StoreOpener | None = None,
    ) -> None:
        if store is None and open_store is None:
            raise ValueError("WorkerContext needs a store or open_store")
        self.config = config
        self._store = store
        self._open_store = open_store
        self._loop: LoopThread | None = None
        self._judges: dict[tuple[Any, ...], Judge] = {}
        self._limits: dict[tuple[int | None, int | None, int | None], LimitsRegistry] = {}
        self._lock = threading.Lock()
        self.gate = CallGate()

    @property
    def store(self) -> JobStore:
        """The job store (opened on first use)."""
        with self._lock:
            if self._store is None:
                assert self._open_store is not None  # checked in __init__
                self._store = self._open_store(self.config.database_url)
            return self._store

    @property
    def loop(self) -> LoopThread:
        """The process's shared event loop thread (started on first use)."""
        with self._lock:
            if self._loop is None:
                self._loop = LoopThread()
            return self._loop

    def _registry(self, concurrency: int | None) -> LimitsRegistry:
        key = (
            concurrency or self.config.concurrency,
            self.config.requests_per_minute,
            self.config.tokens_per_minute,
        )
        found = self._limits.get(key)
        if found is None:
            found = GatedRegistry(ModelLimits(*key), self.gate)
            self._limits[key] = found
        return found

    def judges_for(self, params: dict[str, Any]) -> list[Judge]:
        """The judges a job's parameters name, built once per process and reused.

        Raises :class:`judge.errors.JudgeConfigError` when a spec is wrong.
        """
        specs: Sequence[str] = params.get("judges", [])
        api_base = params.get("api_base") or self.config.api_base
        concurrency = params.get("concurrency")
        judges: list[Judge] = []
        with self._lock:
            for text in specs:
                key = (text, api_base, concurrency)
                judge = self._judges.get(key)
                if judge is None:
                    spec = parse_judge_spec(
                        text,
                        api_base=api_base,
                        api_key=self.config.api_key,
                        timeout_s=self.config.request_timeout_s,
                        retry=self.config.retry,
                    )
                    judge = build_judge(spec, limits=self._registry(concurrency))
                    self._judges[key] = judge
                judges.append(judge)
        return judges

    def close(self) -> None:
        """Stop the loop and close the store."""
        if self._loop is not None:
            self._loop.close()
            self._loop = None
        if self._store is not None:
            self._store.close()


__all__ = ["StoreOpener", "WorkerConfig", "WorkerContext"]
