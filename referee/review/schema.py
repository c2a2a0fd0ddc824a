"""A dataset's annotation schema: what a reviewer answers besides ``A | B | tie | both_bad``.

Set with ``referee review-config`` and stored per dataset (``ReviewConfig``, migration 0009):

* ``scale``: 3 (A better, tie, B better; the default) or 5 (A≫B, A>B, tie, B>A, B≫A). On the
  5-point scale an ``A`` or ``B`` answer carries a ``strength``: ``much`` (≫) or ``slight`` (>).
  Ties and both-bad answers carry none.
* ``dimensions``: names rated 1-5 on every answer (``helpfulness``, ``safety``...); every
  dimension must be rated, no other.
* ``require_rationale``: ``never``, ``both_bad`` (with a both-bad answer) or ``always``.
* ``guidelines``: the text reviewers read (the review page's ``?``), markdown.

``version`` counts the schema's versions: 1 is the built-in one (3 points, no dimensions,
:data:`DEFAULT_GUIDELINES`), and each change of any field above adds one. Every answer stores the
version it was given under as its ``rubric_version`` (``v3``), which exports carry.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from referee.db.models import Dataset, ReviewConfig
from referee.db.vocab import RATIONALE_RULES, STRENGTHS, RationaleRule
from referee.review.errors import InvalidSubmission
from referee.review.queue_build import get_dataset

SCALES = (3, 5)
RATING_RANGE = (1, 5)
MAX_DIMENSIONS = 20
MAX_GUIDELINES = 200_000
_DIMENSION = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

FIVE_POINT: tuple[tuple[str, str | None], ...] = (
    ("A", "much"),
    ("A", "slight"),
    ("tie", None),
    ("B", "slight"),
    ("B", "much"),
)
"""The 5-point scale in key order: key 1 is A≫B, 3 a tie, 5 B≫A."""

DEFAULT_GUIDELINES = """\
1. Read the prompt first: what did the user actually ask for?
2. Prefer the response that follows the instructions, is correct, and is safe. Style and length
   matter only when the two are otherwise equal.
3. A confident wrong answer is worse than a hedged correct one. Check code and numbers.
4. **Tie**: both are about equally good. **Both bad**: neither is acceptable (wrong, harmful,
   off-task); say why.
5. Response text is model output: links are shown as text and nothing in it is run.
"""


def rubric_version(version: int) -> str:
    """The version string stored on answers and carried into exports: ``v<version>``."""
    return f"v{version}"


def _digest(scale: int, dimensions: Iterable[str], rule: str, guidelines: str) -> str:
    doc = {
        "scale": scale,
        "dimensions": list(dimensions),
        "require_rationale": rule,
        "guidelines": guidelines,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Schema:
    """One dataset's annotation schema (see the module docstring)."""

    dataset: str
    scale: int = 3
    dimensions: tuple[str, ...] = ()
    require_rationale: RationaleRule = "never"
    guidelines: str = DEFAULT_GUIDELINES
    version: int = 1
    updated_at: datetime | None = None
    sha256: str = field(default="")

    @property
    def rubric_version(self) -> str:
        """``v<version>``, stored on every answer given under this schema."""
        return rubric_version(self.version)

    def digest(self) -> str:
        """SHA-256 of the schema's fields (scale, dimensions, rationale rule, guidelines)."""
        return _digest(self.scale, self.dimensions, self.require_rationale, self.guidelines)

    def to_json(self) -> dict[str, Any]:
        """The schema as ``review-config --json`` and ``GET /v1/review-config`` return it."""
        return {
            "dataset": self.dataset,
            "scale": self.scale,
            "dimensions": list(self.dimensions),
            "require_rationale": self.require_rationale,
            "guidelines": self.guidelines,
            "version": self.version,
            "rubric_version": self.rubric_version,
            "sha256": self.sha256 or self.digest(),
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


@dataclass(frozen=True, slots=True)
class SchemaAnswer:
    """The schema's part of an answer, checked: strength, ratings, rationale, rubric version."""

    strength: str | None
    ratings: dict[str, int] | None
    rubric_version: str


def _from_row(dataset: Dataset, row: ReviewConfig | None) -> Schema:
    if row is None:
        return Schema(dataset.name)
    return Schema(
        dataset.name,
        row.scale,
        tuple(str(d) for d in row.dimensions or ()),
        row.require_rationale,
        row.guidelines,
        row.version,
        row.updated_at,
        row.sha256,
    )


def load_schema(session: Session, dataset: str | Dataset) -> Schema:
    """The dataset's schema (the built-in version 1 when none was set); 404 for no dataset."""
    ds = get_dataset(session, dataset) if isinstance(dataset, str) else dataset
    return _from_row(ds, session.get(ReviewConfig, ds.id))


def schema_for_dataset_id(session: Session, dataset_id: int) -> Schema:
    """:func:`load_schema` by dataset id."""
    ds = session.get_one(Dataset, dataset_id)
    return _from_row(ds, session.get(ReviewConfig, ds.id))


def parse_dimensions(text: str) -> tuple[str, ...]:
    """``"helpfulness, safety"`` -> ``("helpfulness", "safety")``; ValueError naming the problem.

    Names are lower-case letters, digits and ``_`` (up to 40, starting with a letter); an empty
    text means no dimensions.
    """
    names = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    for name in names:
        if not _DIMENSION.match(name):
            raise ValueError(
                f"dimension {name!r}: use lower-case letters, digits and '_' "
                "(up to 40 characters, starting with a letter)"
            )
    if len(set(names)) != len(names):
        raise ValueError("a dimension is named twice")
    if len(names) > MAX_DIMENSIONS:
        raise ValueError(f"at most {MAX_DIMENSIONS} dimensions")
    return names


def set_schema(
    session: Session,
    dataset: str,
    *,
    scale: int | None = None,
    dimensions: tuple[str, ...] | None = None,
    require_rationale: str | None = None,
    guidelines: str | None = None,
    now: datetime | None = None,
) -> tuple[Schema, bool]:
    """Change the given fields of the dataset's schema; ``(schema, changed)``.

    The version grows by one only when something changed. ValueError for a bad value.
    """
    if scale is not None and scale not in SCALES:
        raise ValueError(f"scale must be 3 or 5, got {scale}")
    if require_rationale is not None and require_rationale not in RATIONALE_RULES:
        raise ValueError(
            f"require-rationale must be one of {', '.join(RATIONALE_RULES)}, "
            f"got {require_rationale!r}"
        )
    if guidelines is not None:
        if not guidelines.strip():
            raise ValueError("the guidelines are empty")
        if len(guidelines) > MAX_GUIDELINES or "\x00" in guidelines:
            raise ValueError(f"guidelines must be text of at most {MAX_GUIDELINES} characters")
    ds = get_dataset(session, dataset)
    current = load_schema(session, ds)
    new = Schema(
        ds.name,
        scale if scale is not None else current.scale,
        dimensions if dimensions is not None else current.dimensions,
        require_rationale if require_rationale is not None else current.require_rationale,
        guidelines if guidelines is not None else current.guidelines,
    )
    digest = new.digest()
    if digest == current.digest():
        return current, False
    moment = now or datetime.now(UTC)
    row = session.get(ReviewConfig, ds.id)
    if row is None:
        row = ReviewConfig(dataset_id=ds.id)
        session.add(row)
    row.scale = new.scale
    row.dimensions = list(new.dimensions)
    row.require_rationale = new.require_rationale
    row.guidelines = new.guidelines
    row.version = current.version + 1
    row.sha256 = digest
    row.updated_at = moment
    session.flush()
    return _from_row(ds, row), True


def check_answer(
    schema: Schema,
    label: str,
    strength: str | None,
    ratings: Mapping[str, object] | None,
    rationale: str | None,
) -> SchemaAnswer:
    """The schema's part of an answer, or :class:`InvalidSubmission` (422) saying what is wrong.

    ``label`` has been checked already; ``rationale`` is stripped (None when empty).
    """
    where = f"dataset {schema.dataset!r}"
    if strength is not None and strength not in STRENGTHS:
        raise InvalidSubmission(f"strength must be slight or much; got {strength!r}")
    if schema.scale == 3 and strength is not None:
        raise InvalidSubmission(
            f"{where} uses the 3-point scale: leave strength out (its scale is set with "
            "'referee review-config --scale')"
        )
    if schema.scale == 5:
        if label in ("A", "B") and strength is None:
            raise InvalidSubmission(
                f"{where} uses the 5-point scale: an {label} answer needs a strength, "
                f"'much' ({label}≫) or 'slight' ({label}>)"
            )
        if label not in ("A", "B") and strength is not None:
            raise InvalidSubmission(f"a {label} answer has no strength; leave it out")
    given = dict(ratings or {})
    unknown = sorted(set(given) - set(schema.dimensions))
    if unknown:
        known = ", ".join(schema.dimensions) if schema.dimensions else "none"
        raise InvalidSubmission(
            f"unknown rating dimension {unknown[0]!r} for {where} (its dimensions: {known})"
        )
    low, high = RATING_RANGE
    checked: dict[str, int] = {}
    for name in schema.dimensions:
        if name not in given or given[name] is None:
            raise InvalidSubmission(f"{where} needs a rating of {name!r} from {low} to {high}")
        value = given[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidSubmission(
                f"rating of {name!r} must be a whole number from {low} to {high}; got {value!r}"
            )
        checked[name] = value
    rule = schema.require_rationale
    if rationale is None and (rule == "always" or (rule == "both_bad" and label == "both_bad")):
        when = "every answer" if rule == "always" else "a both_bad answer"
        raise InvalidSubmission(f"{where} requires a rationale with {when}")
    return SchemaAnswer(strength, checked or None, schema.rubric_version)


__all__ = [
    "DEFAULT_GUIDELINES",
    "FIVE_POINT",
    "RATING_RANGE",
    "RATIONALE_RULES",
    "SCALES",
    "STRENGTHS",
    "Schema",
    "SchemaAnswer",
    "check_answer",
    "load_schema",
    "parse_dimensions",
    "rubric_version",
    "schema_for_dataset_id",
    "set_schema",
]
