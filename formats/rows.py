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

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

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
    origin: str | None = None  # the labels' database (:func:`label_origin`), next to label_id

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output: every key in every answer, null where missing, so a
        column's type never depends on which rows a reader sees first; ``ratings`` as a list
        of ``{"dimension", "score"}`` (dimensions differ between rubric versions)."""
        return {
            "annotator": self.annotator,
            "label": self.label,
            "kind": self.kind,
            "at": self.at,
            "rationale": self.rationale,
            "reason": self.reason,
            "unsafe": self.unsafe,
            "strength": self.strength,
            "ratings": ratings_list(self.ratings),
            "rubric_version": self.rubric_version,
            "label_id": self.label_id,
            "origin": self.origin,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> HumanAnswer:
        """The inverse of :meth:`to_json`; also reads answers written before it was type-stable
        (optional keys left out, ``ratings`` as a dict)."""
        get = doc.get
        return cls(
            doc["annotator"],
            doc["label"],
            doc["kind"],
            get("at"),
            get("rationale"),
            get("reason"),
            bool(get("unsafe")),
            get("strength"),
            ratings_dict(get("ratings")),
            get("rubric_version"),
            get("label_id"),
            get("origin"),
        )


def ratings_list(ratings: dict[str, int] | None) -> list[dict[str, Any]] | None:
    """``{"helpfulness": 4}`` as ``[{"dimension": "helpfulness", "score": 4}]`` (None stays)."""
    if ratings is None:
        return None
    return [{"dimension": name, "score": score} for name, score in ratings.items()]


def ratings_dict(value: Any) -> dict[str, int] | None:
    """The inverse of :func:`ratings_list`; a dict (rows written before) is taken as it is."""
    if value is None or isinstance(value, dict):
        return value
    return {item["dimension"]: item["score"] for item in value}


def label_origin(dataset_id: int, dataset_name: str, created_at: datetime) -> str:
    """The identity of a database's labels, exported next to each label id.

    Label ids are numbers of one database: an export from another Referee database may carry
    the same numbers for other answers. The origin is a hash of the dataset's id, name and
    creation time (to the microsecond, UTC), which no other database shares by chance; an
    import recognises a label id only when the origin is also its own.
    """
    moment = _as_utc(created_at).isoformat(timespec="microseconds")
    body = f"referee-labels\x00{dataset_id}\x00{dataset_name}\x00{moment}"
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


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
        """Referee's own full export format: every field, in a fixed key order, in every row.

        Type-stable, so ``datasets.load_dataset("json")`` reads any mix of rows: every key is
        present (null where missing) with one type; ``ratings`` is a list of
        ``{"dimension", "score"}`` and ``meta`` a JSON text (``meta_json``), since their keys
        differ from row to row; ``messages`` is a conversation's turns or null (issue 22).
        :meth:`from_json` also reads the rows written before.
        """
        return {
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
            "ratings": ratings_list(self.ratings),
            "meta_json": orjson.dumps(self.meta).decode("utf-8"),
            "messages": self.messages,
            "group_id": self.group_id,
            "response_a_ref": self.response_a_ref,
            "response_b_ref": self.response_b_ref,
        }

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
            tuple(HumanAnswer.from_json(a) for a in answers) if answers else (),
            get("agreement"),
            get("labeled_at"),
            tuple(get("reasons") or ()),
            get("rubric_version"),
            get("redaction_version"),
            get("strength"),
            ratings_dict(get("ratings")),
            _meta(doc),
            get("messages"),
            get("group_id"),
            get("response_a_ref"),
            get("response_b_ref"),
        )


def _meta(doc: dict[str, Any]) -> dict[str, Any]:
    """A row's meta: ``meta_json`` (type-stable rows) or ``meta`` (rows written before)."""
    text = doc.get("meta_json")
    if text is not None:
        meta: dict[str, Any] = orjson.loads(text)
        return meta
    return doc.get("meta") or {}


__all__ = [
    "LABELS",
    "HumanAnswer",
    "JudgeRef",
    "LabelSource",
    "LabeledPair",
    "label_origin",
    "ratings_dict",
    "ratings_list",
]


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
