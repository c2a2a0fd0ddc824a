"""What ``referee jobs`` and ``referee job ID`` show, as plain values: a job's status, progress,
spend and, for its failed pairs, the reasons (the commonest first); what its judge calls did.

The queries that fill them live with the storage, in :mod:`referee.jobs.summaries`; the worker
reads them through :class:`workers.ports.JobStore`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workers.outcomes import FINISHED


@dataclass(frozen=True)
class JobSummary:
    """A job's state and progress, as ``referee jobs`` / ``referee job ID`` show it."""

    id: int
    dataset: str
    kind: str
    status: str
    judges: list[str]
    total: int
    done: int
    failed: int
    pending: int
    cost: float
    error: str | None
    created_at: datetime
    updated_at: datetime
    failures: list[dict[str, str]] = field(default_factory=list)
    reasons: list[tuple[str, int]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """True when the job will not change any more without ``--resume``."""
        return self.status in FINISHED

    @property
    def succeeded(self) -> bool:
        """True when the job finished with a verdict for every pair."""
        return self.status == "done"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "id": self.id,
            "dataset": self.dataset,
            "kind": self.kind,
            "status": self.status,
            "judges": self.judges,
            "total": self.total,
            "done": self.done,
            "failed": self.failed,
            "pending": self.pending,
            "cost": round(self.cost, 6),
            "error": self.error,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "failures": self.failures,
            "failure_reasons": [{"reason": r, "pairs": n} for r, n in self.reasons],
        }


@dataclass(frozen=True)
class JobCalls:
    """What a job's judge calls did, from the verdicts it stored and its items' claims.

    ``verdicts`` paid for by this job (reused ones are not counted), ``unparseable`` of them;
    ``latency_ms`` percentiles (``p50``, ``p90``, ``p99``, ``max``; nearest rank) of one verdict,
    re-asks and retries included; ``deliveries``: claims of the job's pairs by chunks (one per
    pair unless a worker was lost), ``redelivered``: pairs claimed more than once. How many HTTP
    retries and re-asks the calls took is not stored (the worker logs it: ``--log-level INFO``).
    """

    verdicts: int
    unparseable: int
    tokens_in: int
    tokens_out: int
    latency_ms: dict[str, float]
    deliveries: int
    redelivered: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "verdicts": self.verdicts,
            "unparseable": self.unparseable,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "latency_ms": {k: round(v, 1) for k, v in self.latency_ms.items()},
            "deliveries": self.deliveries,
            "redelivered": self.redelivered,
        }


def percentiles(values: Sequence[float], ranks: Sequence[int] = (50, 90, 99)) -> dict[str, float]:
    """Nearest-rank percentiles ``p50``... and ``max`` of ``values`` (empty: no keys)."""
    ordered = sorted(values)
    if not ordered:
        return {}
    found = {f"p{r}": ordered[max(0, math.ceil(r / 100 * len(ordered)) - 1)] for r in ranks}
    return {**found, "max": ordered[-1]}


__all__ = ["JobCalls", "JobSummary", "percentiles"]
