"""Which labeled pairs an export may carry, and why the others were left out.

Every export obeys the same rules, each exclusion counted by reason:

* ``frozen_eval`` — an evaluation pair never leaves (it is not even a final-label row);
* ``leaked_frozen_content`` — a pair that is a near-duplicate of a frozen-evaluation pair, in
  any dataset (:mod:`formats.near_duplicates`);
* ``pending`` / ``unresolved`` — no final label yet (waiting for people; a tied vote);
* ``both_bad`` — never a chosen/rejected preference (``dpo``); the pair goes to ``incidents``;
* ``incident`` — an A/B/tie label on a pair that a person answered both-bad or marked unsafe
  is never a preference either (``dpo``): the pair is an incident, whatever the majority said;
* ``tie`` — left out of ``dpo`` unless ties are asked for, and then flagged, never a preference;
* ``below_min_agreement`` — the people's agreement share on the pair is under the floor (AI
  labels, which have no human answers, are not subject to it).

Labeling-tool exports (Label Studio, Argilla) also carry pending pairs, so they can be labeled
there; ``incidents`` carries exactly the both-bad and unsafe pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from formats.near_duplicates import FrozenIndex
from formats.rows import LabeledPair

RowPolicy = Literal["preferences", "labels", "tasks", "incidents"]
EXCLUSION_REASONS: tuple[str, ...] = (
    "frozen_eval",
    "leaked_frozen_content",
    "pending",
    "unresolved",
    "both_bad",
    "incident",
    "tie",
    "below_min_agreement",
    "not_an_incident",
    "not_k_wise",  # ranking: the pair came from no k-wise record (no group_id)
)
UNSAFE_REASONS: frozenset[str] = frozenset({"both_bad", "judge_injection_suspected"})

__all__ = [
    "EXCLUSION_REASONS",
    "UNSAFE_REASONS",
    "Exclusions",
    "ExportRules",
    "RowPolicy",
    "filter_rows",
    "incident_reasons",
]


@dataclass(frozen=True)
class ExportRules:
    """What a format keeps.

    ``policy``: ``preferences`` (A/B only; ties too when ``include_ties``), ``labels`` (every
    final label: A, B, tie, both_bad), ``tasks`` (every pair, labeled or not) or ``incidents``
    (both-bad and unsafe pairs only). ``min_agreement``: floor on the human agreement share.
    """

    policy: RowPolicy
    include_ties: bool = False
    min_agreement: float | None = None


@dataclass
class Exclusions:
    """Counts of left-out rows by reason, with the first few pair ids of each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    max_examples: int = 20

    def add(self, reason: str, pair_id: str) -> None:
        """Count one exclusion."""
        self.counts[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < self.max_examples:
            shown.append(pair_id)

    @property
    def total(self) -> int:
        """Rows left out in all."""
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        """``{reason: {"count": n, "examples": [ids]}}`` in the order of EXCLUSION_REASONS."""
        return {
            reason: {"count": self.counts[reason], "examples": self.examples.get(reason, [])}
            for reason in EXCLUSION_REASONS
            if self.counts[reason]
        }


def incident_reasons(row: LabeledPair) -> list[str]:
    """Why a pair is an incident: a both-bad label or answer, an answer marked unsafe, or an
    unsafe routing reason."""
    reasons: list[str] = []
    if row.label == "both_bad" or any(a.label == "both_bad" for a in row.answers):
        reasons.append("both_bad")
    if any(a.unsafe for a in row.answers):
        reasons.append("unsafe")
    reasons.extend(r for r in row.reasons if r in UNSAFE_REASONS and r not in reasons)
    return reasons


def _exclusion(row: LabeledPair, rules: ExportRules) -> str | None:
    """The reason ``row`` is left out under ``rules`` (leakage is checked by the caller)."""
    if rules.policy == "incidents":
        return None if incident_reasons(row) else "not_an_incident"
    if rules.policy == "tasks":
        return None
    if row.label is None:
        return "unresolved" if row.method == "unresolved" else "pending"
    if rules.policy == "preferences":
        if row.label == "both_bad":
            return "both_bad"
        if any(a.label == "both_bad" or a.unsafe for a in row.answers):
            return "incident"
        if row.label == "tie" and not rules.include_ties:
            return "tie"
    if (
        rules.min_agreement is not None
        and row.agreement is not None
        and row.agreement < rules.min_agreement
    ):
        return "below_min_agreement"
    return None


def filter_rows(
    rows: Iterable[LabeledPair],
    rules: ExportRules,
    exclusions: Exclusions,
    *,
    frozen: FrozenIndex | None = None,
) -> Iterator[LabeledPair]:
    """The rows ``rules`` keep, lazily; every other row is counted in ``exclusions``.

    ``frozen``: every frozen-evaluation pair; a row that is a near-duplicate of one
    (:mod:`formats.near_duplicates`) is ``leaked_frozen_content`` whatever the format.
    """
    for row in rows:
        if frozen and frozen.match(row.prompt, row.response_a, row.response_b) is not None:
            exclusions.add("leaked_frozen_content", row.pair_id)
            continue
        reason = _exclusion(row, rules)
        if reason is not None:
            exclusions.add(reason, row.pair_id)
            continue
        yield row
