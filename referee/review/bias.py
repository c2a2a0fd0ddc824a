"""Automation-bias controls: show AI pre-labels on a share of items only, plant traps, measure.

People shown a machine's answer tend to accept it (automation bias). When a queue reveals AI
pre-labels (``QueueConfig.reveal_ai_label``):

* **Partial reveal.** An item shows its AI label only when a hash of (reviewer, pair) falls
  under ``QueueConfig.reveal_share`` (default 0.5). The draw is deterministic, so a reload or a
  resumed lease shows the same thing, and the other items are the reviewer's own baseline.
* **Traps.** A served position whose hash of (reviewer, dataset, position) falls under
  ``QueueConfig.trap_rate`` (default 0.05) is a gold pair shown with a deliberately wrong
  pre-label (gold ``A`` shows ``B`` and back; a gold tie or both-bad shows ``A`` or ``B``). The
  payload is the one of any revealed item; the answer is a hidden gold check (never a vote).

Every assignment stores the pair's AI label at lease time (``ai_label``), the label shown
(``ai_shown``, None when hidden) and ``trap``, so :func:`bias_report` can give per reviewer:

* the **override rate** (answer ≠ the AI label) on revealed and on hidden items of the regular
  queues (gold checks and traps apart). A reviewer who reads the pair overrides about as often
  either way; one who copies the shown label overrides far less when it is shown;
* the **trap catch rate**: share of traps whose answer is not the wrong label shown.

A reviewer is **flagged** when they accepted ``FLAG_ACCEPTED_TRAPS`` (2) or more traps, or when
their override rate on revealed items is lower than on hidden ones by a one-sided Fisher exact
test at ``FLAG_ALPHA`` (0.05): both say they follow the shown label rather than the pair.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from referee.db.models import HumanLabel, Pair, ReviewAssignment, Reviewer, RoutingDecision
from referee.db.vocab import Label
from referee.review.config import GOLD_QUEUE, QueueConfig

FLAG_ACCEPTED_TRAPS = 2
FLAG_ALPHA = 0.05


def _unit(*parts: object) -> float:
    """A uniform number in [0, 1) from a hash of ``parts``."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def revealed(reviewer_id: int, pair_id: str, share: float) -> bool:
    """Whether ``reviewer_id`` sees the AI label of ``pair_id`` (same answer every time)."""
    return _unit("reveal", reviewer_id, pair_id) < share


def is_trap_slot(reviewer_id: int, dataset_id: int, served: int, config: QueueConfig) -> bool:
    """Whether the reviewer's ``served``-th item of the dataset is a trap (reveal on only)."""
    if not config.reveal_ai_label or config.trap_rate <= 0:
        return False
    return _unit("trap", reviewer_id, dataset_id, served) < config.trap_rate


def wrong_label(gold: str, reviewer_id: int, pair_id: str) -> Label:
    """A deliberately wrong pre-label for a pair whose gold label is ``gold``."""
    if gold == "A":
        return "B"
    if gold == "B":
        return "A"
    return "A" if _unit("trap-side", reviewer_id, pair_id) < 0.5 else "B"


def gold_label_of(session: Session, pair_id: str) -> str | None:
    """The pair's gold label (majority of its gold labels), None without a clear one."""
    counts = Counter(
        session.scalars(
            select(HumanLabel.label).where(HumanLabel.pair_id == pair_id, HumanLabel.kind == "gold")
        )
    ).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def current_ai_label(session: Session, pair_id: str) -> Label | None:
    """The label of the pair's current routing decision (None without one)."""
    label: Label | None = session.scalar(
        select(RoutingDecision.label)
        .where(RoutingDecision.pair_id == pair_id, RoutingDecision.current.is_(True))
        .order_by(RoutingDecision.id.desc())
        .limit(1)
    )
    return label


def mark_assignment(
    session: Session,
    assignment: ReviewAssignment,
    reviewer_id: int,
    config: QueueConfig,
    *,
    trap: bool = False,
) -> Label | None:
    """Record on a new assignment the pair's AI label and what is shown; returns the label to
    show (None: hidden). A trap whose pair has no clear gold label is an ordinary gold check."""
    pair_id = assignment.pair_id
    assignment.ai_label = current_ai_label(session, pair_id)
    shown: Label | None = None
    if trap:
        gold = gold_label_of(session, pair_id)
        if gold is not None:
            shown = wrong_label(gold, reviewer_id, pair_id)
            assignment.trap = True
    elif (  # hidden gold checks too: an item without a shown label must not mark a check
        config.reveal_ai_label
        and assignment.ai_label is not None
        and revealed(reviewer_id, pair_id, config.reveal_share)
    ):
        shown = assignment.ai_label
    assignment.ai_shown = shown
    return shown


@dataclass(frozen=True, slots=True)
class ReviewerBias:
    """One reviewer's answers under partial reveal and traps (see the module docstring)."""

    reviewer: str
    revealed: int
    revealed_overrides: int
    hidden: int
    hidden_overrides: int
    traps: int
    traps_caught: int
    p_value: float | None

    @property
    def override_revealed(self) -> float | None:
        """Share of answers on revealed items that differ from the AI label."""
        return self.revealed_overrides / self.revealed if self.revealed else None

    @property
    def override_hidden(self) -> float | None:
        """Share of answers on hidden items that differ from the (unseen) AI label."""
        return self.hidden_overrides / self.hidden if self.hidden else None

    @property
    def trap_catch_rate(self) -> float | None:
        """Share of traps answered with anything but the wrong label shown."""
        return self.traps_caught / self.traps if self.traps else None

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the reviewer is flagged (empty: not flagged)."""
        out = []
        accepted = self.traps - self.traps_caught
        if accepted >= FLAG_ACCEPTED_TRAPS:
            out.append(f"accepted {accepted} of {self.traps} wrong pre-labels (traps)")
        if self.p_value is not None and self.p_value < FLAG_ALPHA:
            out.append(
                f"overrides the AI less when it is shown ({self.override_revealed:.0%} vs "
                f"{self.override_hidden:.0%} hidden, Fisher p={self.p_value:.3f})"
            )
        return tuple(out)

    @property
    def flagged(self) -> bool:
        """True when any flag rule fired."""
        return bool(self.reasons)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "reviewer": self.reviewer,
            "revealed": self.revealed,
            "revealed_overrides": self.revealed_overrides,
            "override_rate_revealed": self.override_revealed,
            "hidden": self.hidden,
            "hidden_overrides": self.hidden_overrides,
            "override_rate_hidden": self.override_hidden,
            "traps": self.traps,
            "traps_caught": self.traps_caught,
            "trap_catch_rate": self.trap_catch_rate,
            "p_value": self.p_value,
            "flagged": self.flagged,
            "reasons": list(self.reasons),
        }


def _fisher_less(a: int, b: int, c: int, d: int) -> float | None:
    """One-sided Fisher exact p that row 1's override share (a of a+b) is below row 2's."""
    if (a + b) == 0 or (c + d) == 0 or (a + c) == 0:
        return None
    from scipy.stats import fisher_exact  # lazy: only reports need it

    _, p = fisher_exact([[a, b], [c, d]], alternative="less")
    return float(p)


def bias_report(session: Session, dataset_id: int) -> dict[str, ReviewerBias]:
    """Reviewer name -> :class:`ReviewerBias` over their answered assignments in the dataset."""
    a = ReviewAssignment
    rows = session.execute(
        select(Reviewer.name, a.queue, a.ai_label, a.ai_shown, a.trap, HumanLabel.label)
        .select_from(a)
        .join(Reviewer, Reviewer.id == a.reviewer_id)
        .join(Pair, Pair.id == a.pair_id)
        .join(
            HumanLabel,
            and_(
                HumanLabel.pair_id == a.pair_id,
                HumanLabel.annotator == Reviewer.name,
                HumanLabel.kind != "gold",
            ),
        )
        .where(Pair.dataset_id == dataset_id, a.completed_at.is_not(None))
    )
    tally: dict[str, Counter[str]] = {}
    for name, queue, ai_label, shown, trap, answer in rows:
        t = tally.setdefault(name, Counter())
        if trap:
            t["traps"] += 1
            t["caught"] += int(answer != shown)
        elif queue != GOLD_QUEUE and ai_label is not None:
            group = "revealed" if shown is not None else "hidden"
            t[group] += 1
            t[f"{group}_over"] += int(answer != ai_label)
    out = {}
    for name in sorted(tally):
        t = tally[name]
        rev_over, rev = t["revealed_over"], t["revealed"]
        hid_over, hid = t["hidden_over"], t["hidden"]
        p = _fisher_less(rev_over, rev - rev_over, hid_over, hid - hid_over)
        out[name] = ReviewerBias(name, rev, rev_over, hid, hid_over, t["traps"], t["caught"], p)
    return out


__all__ = [
    "FLAG_ACCEPTED_TRAPS",
    "FLAG_ALPHA",
    "ReviewerBias",
    "bias_report",
    "current_ai_label",
    "gold_label_of",
    "is_trap_slot",
    "mark_assignment",
    "revealed",
    "wrong_label",
]
