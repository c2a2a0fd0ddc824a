"""One labeled pair with its texts and provenance: the unit every export format writes.

A :class:`LabeledPair` is plain data built from a pair's final label
(:mod:`referee.review.final_labels`) and frozen into releases as its JSON form (``to_json``).
Format writers take an iterable of them, so a release and a live export share one code path.

``label``: ``A``, ``B``, ``tie``, ``both_bad`` or ``None`` (pending or unresolved).
``source``: ``ai`` (an auto-accepted judge label), ``human`` (reviewers' answers, aggregated),
``gold`` (a reference label imported with ``--kind gold``) or ``None`` while pending.
``agreement``: the share of the human answers on the pair that equal the final label
(``None`` for AI labels and pairs without answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

LabelSource = Literal["ai", "human", "gold"]
LABELS: tuple[str, ...] = ("A", "B", "tie", "both_bad")


@dataclass(frozen=True, slots=True)
class JudgeRef:
    """A judge whose verdicts stood behind an AI label, and its prompt version."""

    judge: str
    prompt_version: str

    def to_json(self) -> dict[str, str]:
        """A plain dict for JSON output."""
        return {"judge": self.judge, "prompt_version": self.prompt_version}


@dataclass(frozen=True, slots=True)
class HumanAnswer:
    """One person's answer on the pair, under a pseudonym (never the reviewer's name)."""

    annotator: str
    label: str
    kind: str
    at: str | None
    rationale: str | None = None
    reason: str | None = None
    unsafe: bool = False
    strength: str | None = None  # the dataset's schema (referee.review.schema), when given
    ratings: dict[str, int] | None = None
    rubric_version: str | None = None
    label_id: int | None = None  # the stored label's id: imports recognise their own answers

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output; ``unsafe`` only when the person marked the pair (so
        rows frozen before the flag existed read and write back byte for byte)."""
        doc: dict[str, Any] = {
            "annotator": self.annotator,
            "label": self.label,
            "kind": self.kind,
            "at": self.at,
            "rationale": self.rationale,
            "reason": self.reason,
        }
        if self.unsafe:
            doc["unsafe"] = True
        for key in ("strength", "ratings", "rubric_version", "label_id"):  # only when given
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        return doc


@dataclass(slots=True)
class LabeledPair:
    """A pair, its final label and where the label came from.

    Not frozen on purpose: a frozen dataclass sets each of these 26 fields through
    ``object.__setattr__``, which was a fifth of the export's time. Treat it as read-only.
    """

    pair_id: str
    dataset: str
    prompt: str
    response_a: str
    response_b: str
    label: str | None
    source: LabelSource | None
    method: str
    decision: str | None = None
    policy_version: int | None = None
    judges: tuple[JudgeRef, ...] = ()
    ai_label: str | None = None
    ai_confidence: float | None = None
    answers: tuple[HumanAnswer, ...] = ()
    agreement: float | None = None
    labeled_at: str | None = None
    reasons: tuple[str, ...] = ()
    rubric_version: str | None = None
    redaction_version: str | None = None
    strength: str | None = None
    ratings: dict[str, int] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # issue 22: a conversation's turns before the two replies ([{role, content}], see
    # judge.conversation; ``prompt`` is then their flat text), and for k-wise responses the
    # source record (``group_id``) and which of its responses A and B are
    messages: list[dict[str, str]] | None = None
    group_id: str | None = None
    response_a_ref: str | None = None
    response_b_ref: str | None = None

    @property
    def annotators(self) -> tuple[str, ...]:
        """Distinct pseudonyms of the people who answered, in answer order."""
        return tuple(dict.fromkeys(a.annotator for a in self.answers))

    @property
    def n_answers(self) -> int:
        """How many human answers the pair has (gold included)."""
        return len(self.answers)

    def to_json(self) -> dict[str, Any]:
        """Referee's own full export format: every field, in a fixed key order.

        ``messages``, ``group_id`` and the response refs come last and only when set, so a
        single-turn row (and every release frozen before them) reads and writes byte for byte.
        """
        doc: dict[str, Any] = {
            "pair_id": self.pair_id,
            "dataset": self.dataset,
            "prompt": self.prompt,
            "response_a": self.response_a,
            "response_b": self.response_b,
            "label": self.label,
            "source": self.source,
            "method": self.method,
            "decision": self.decision,
            "policy_version": self.policy_version,
            "judges": [j.to_json() for j in self.judges],
            "ai_label": self.ai_label,
            "ai_confidence": self.ai_confidence,
            "annotators": list(self.annotators),
            "n_answers": self.n_answers,
            "agreement": self.agreement,
            "answers": [a.to_json() for a in self.answers],
            "labeled_at": self.labeled_at,
            "reasons": list(self.reasons),
            "rubric_version": self.rubric_version,
            "redaction_version": self.redaction_version,
            "strength": self.strength,
            "ratings": self.ratings,
            "meta": self.meta,
        }
        for key in _CONVERSATION_KEYS:
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LabeledPair:
        """The inverse of :meth:`to_json` (releases store rows as JSON)."""
        get = doc.get
        judges = get("judges")
        answers = get("answers")
        return cls(
            doc["pair_id"],
            doc["dataset"],
            doc["prompt"],
            doc["response_a"],
            doc["response_b"],
            doc["label"],
            doc["source"],
            doc["method"],
            get("decision"),
            get("policy_version"),
            tuple(JudgeRef(j["judge"], j["prompt_version"]) for j in judges) if judges else (),
            get("ai_label"),
            get("ai_confidence"),
            tuple(HumanAnswer(**a) for a in answers) if answers else (),
            get("agreement"),
            get("labeled_at"),
            tuple(get("reasons") or ()),
            get("rubric_version"),
            get("redaction_version"),
            get("strength"),
            get("ratings"),
            get("meta") or {},
            get("messages"),
            get("group_id"),
            get("response_a_ref"),
            get("response_b_ref"),
        )


_CONVERSATION_KEYS = ("messages", "group_id", "response_a_ref", "response_b_ref")


__all__ = ["LABELS", "HumanAnswer", "JudgeRef", "LabelSource", "LabeledPair"]


@dataclass(frozen=True, slots=True)
class Vote:
    """One person's label on a pair: who, what, when, under which policy."""

    annotator: str
    label: str
    kind: str
    created_at: datetime
    policy_version: int | None
    reason: str | None = None
    rationale: str | None = None
    unsafe: bool = False
    strength: str | None = None  # the dataset's schema (referee.review.schema)
    ratings: dict[str, Any] | None = None
    rubric_version: str | None = None
    label_id: int | None = None  # the stored human label's id

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output (``unsafe`` only when the voter marked the pair)."""
        doc: dict[str, Any] = {
            "annotator": self.annotator,
            "label": self.label,
            "kind": self.kind,
            "at": _as_utc(self.created_at).isoformat(),
            "policy_version": self.policy_version,
            "reason": self.reason,
            "rationale": self.rationale,
        }
        if self.unsafe:
            doc["unsafe"] = True
        for key in ("strength", "ratings", "rubric_version"):  # only when the schema gave one
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        return doc


def _as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime (SQLite hands back naive UTC values)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
