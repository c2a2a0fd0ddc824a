"""What a pre-labeling job and its pairs can end as: the job statuses, one pair's outcome in a
chunk, and the rule that turns item counts into a finished job's status.

Pure: no database, no wiring. :class:`workers.ports.JobStore` stores these; :mod:`workers.chunk`
makes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from judge.types import OrderVerdict

ACTIVE = ("pending", "running")
#: a job's statuses once nothing more will happen without ``--resume``: ``done`` (every pair
#: judged), ``partial`` (some pairs failed), ``failed`` (every pair failed, or the job's
#: configuration is wrong: ``error`` says which), ``cancelled`` and ``interrupted`` (Ctrl-C)
FINISHED = ("done", "partial", "failed", "cancelled", "interrupted")
#: the finished statuses that mean some pairs have no verdicts (exit 1 at the CLI)
UNSUCCESSFUL = ("partial", "failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class JudgeKey:
    """What identifies a judge's stored judgments: its name and prompt versions (single-turn,
    and conversation when the judge renders conversations with a prompt of their own)."""

    name: str
    prompt_version: str
    conversation_version: str | None = None

    @property
    def versions(self) -> tuple[str, ...]:
        """Every prompt version this judge's stored verdicts may carry."""
        other = self.conversation_version
        if other is None or other == self.prompt_version:
            return (self.prompt_version,)
        return (self.prompt_version, other)


@dataclass(frozen=True)
class PairOutcome:
    """What happened to one pair in a chunk.

    ``status`` is ``done`` (every judge answered both orders), ``failed`` (given up, ``error`` says
    why) or ``pending`` (a transient failure; another attempt will follow). ``new_verdicts`` are
    the verdicts paid for now, stored whatever the status, so they are never paid for twice.
    """

    pair_id: str
    status: str
    new_verdicts: tuple[tuple[str, OrderVerdict], ...] = ()
    error: str | None = None

    @property
    def cost(self) -> float:
        """Dollars spent on this pair in this attempt."""
        return sum(v.cost for _, v in self.new_verdicts)


def final_status(counts: Mapping[str, int]) -> str:
    """A finished job's status from its items' counts: ``done``, ``partial`` or ``failed``."""
    failed = counts.get("failed", 0)
    if not failed:
        return "done"
    return "failed" if not counts.get("done", 0) else "partial"


__all__ = ["ACTIVE", "FINISHED", "UNSUCCESSFUL", "JudgeKey", "PairOutcome", "final_status"]
