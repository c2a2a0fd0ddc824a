"""How review queues behave: lease length, reviewers per item, gold rate, ordering weight."""

from __future__ import annotations

from dataclasses import dataclass

from calibration.annotators import PauseRule
from referee.db.vocab import REVIEW_QUEUES, AssignmentQueue
from referee.settings import Settings

QUEUES: tuple[str, ...] = REVIEW_QUEUES
"""Queue names stored in ``ReviewAssignment.queue``; gold checks use ``"gold"``."""

GOLD_QUEUE: AssignmentQueue = "gold"
DECISION_QUEUE = {"human_review": "review", "spot_check": "spot_check"}
"""Routing decision -> review queue."""

DEFAULT_PAUSE_RULE = PauseRule()
"""The pause rule applied after each label unless a config says otherwise."""


@dataclass(frozen=True, slots=True)
class QueueConfig:
    """Knobs of the review queues; entry points build one (``from_settings``) and pass it down.

    ``review_k`` / ``spot_check_k``: labels (distinct reviewers) that complete an item of each
    queue; they are written onto the queue items when a queue is (re)built, so every process
    serving the dataset agrees. ``gold_rate``: share of served items that are hidden gold checks
    (0 disables them). ``weight``: w of the hybrid score w·uncertainty + (1 - w)·diversity.
    ``hybrid_budget``: how many items the hybrid selection orders; the rest follow by
    uncertainty. ``reveal_ai_label``: show reviewers the AI label (off by default), on the
    ``reveal_share`` of items only, with ``trap_rate`` of served items traps (gold pairs shown
    with a wrong pre-label; :mod:`referee.review.bias`).
    ``pause_rule``: applied to a reviewer after each label (:mod:`referee.review.pause`);
    ``None`` turns automatic pausing off (a lead can still pause by hand).
    """

    lease_seconds: int = 900
    review_k: int = 1
    spot_check_k: int = 1
    gold_rate: float = 0.1
    weight: float = 0.6
    hybrid_budget: int = 1000
    reveal_ai_label: bool = False
    reveal_share: float = 0.5
    trap_rate: float = 0.05
    pause_rule: PauseRule | None = DEFAULT_PAUSE_RULE

    def __post_init__(self) -> None:
        if self.lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {self.lease_seconds}")
        if self.review_k < 1 or self.spot_check_k < 1:
            raise ValueError("reviewers per item (review_k, spot_check_k) must be at least 1")
        if not 0.0 <= self.gold_rate < 1.0:
            raise ValueError(f"gold_rate must be in [0, 1), got {self.gold_rate}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"weight must be in [0, 1], got {self.weight}")
        if not 0.0 <= self.reveal_share <= 1.0:
            raise ValueError(f"reveal_share must be in [0, 1], got {self.reveal_share}")
        if not 0.0 <= self.trap_rate < 1.0:
            raise ValueError(f"trap_rate must be in [0, 1), got {self.trap_rate}")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> QueueConfig:
        """A config whose lease length comes from ``settings.lease_seconds``."""
        values: dict[str, object] = {"lease_seconds": settings.lease_seconds}
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    def k_for(self, queue: str) -> int:
        """Reviewers per item of ``queue``."""
        return self.spot_check_k if queue == "spot_check" else self.review_k


__all__ = ["DECISION_QUEUE", "GOLD_QUEUE", "QUEUES", "QueueConfig"]
