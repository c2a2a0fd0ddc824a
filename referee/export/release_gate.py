"""The promotion gate of a release: every reason to refuse it, each with the pairs that cause it.

:func:`gate_failures` runs every check on the rows a release would freeze and returns the
failures (an empty list passes) with the agreement and spot-check documents the manifest
carries. The reasons are listed in :mod:`referee.export.release`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from formats.near_duplicates import FrozenIndex
from kernel.errors import RefereeError
from referee.db.models import Dataset
from referee.export.release_tally import KeptRows
from referee.reports.human_agreement import agreement_report, load_human_labels
from referee.review.final_labels import spot_check_report

GATE_METRIC = "krippendorff_alpha"
MAX_IDS = 50

__all__ = ["GATE_METRIC", "MAX_IDS", "GateFailure", "GateResult", "ReleaseRefused", "gate_failures"]


@dataclass(frozen=True)
class GateFailure:
    """One reason the gate refused a release, with the pairs that caused it."""

    reason: str
    message: str
    pair_ids: tuple[str, ...] = ()
    details: tuple[dict[str, Any], ...] = ()  # per pair, e.g. its closest frozen match

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output (at most :data:`MAX_IDS` ids, then a count)."""
        doc: dict[str, Any] = {
            "reason": self.reason,
            "message": self.message,
            "pairs": len(self.pair_ids),
            "pair_ids": list(self.pair_ids[:MAX_IDS]),
        }
        if self.details:
            doc["details"] = list(self.details[:MAX_IDS])
        return doc


@dataclass
class ReleaseRefused(RefereeError):
    """The promotion gate refused the release; nothing was written."""

    dataset: str
    name: str
    failures: list[GateFailure] = field(default_factory=list)

    def __str__(self) -> str:
        return f"release {self.name!r} of {self.dataset!r} refused: " + "; ".join(
            f.message for f in self.failures
        )


@dataclass
class GateResult:
    """The gate's verdict: failures (none = pass), and the documents the manifest carries."""

    failures: list[GateFailure]
    agreement: dict[str, Any]
    spot_check: dict[str, Any]


def _agreement(
    session: Session, dataset: Dataset, gate: float, min_items: int
) -> tuple[dict[str, Any], list[str]]:
    """The agreement document with the gate, and the pairs whose answers disagree."""
    rows = load_human_labels(session, dataset.id)
    doc = agreement_report(rows) if rows else {"comparable_items": 0, GATE_METRIC: None}
    value = doc.get(GATE_METRIC)
    by_pair: dict[str, set[str]] = {}
    for r in rows:
        by_pair.setdefault(r.pair_id, set()).add(r.label)
    disagreeing = sorted(pid for pid, labels in by_pair.items() if len(labels) > 1)
    passed = None if value is None else bool(value >= gate)
    summary: dict[str, Any] = {
        "kind": "all",
        "gate": gate,
        "gate_metric": GATE_METRIC,
        "gate_passed": passed,
        "measured": value is not None,
        "note": None
        if value is not None
        else "no pair has two or more human answers, so agreement cannot be measured yet",
        "comparable_items": doc.get("comparable_items", 0),
        "min_comparable_items": min_items,
        "annotators": doc.get("annotators", 0),
        "percent_agreement": doc.get("percent_agreement"),
        "krippendorff_alpha": doc.get("krippendorff_alpha"),
        "fleiss_kappa": doc.get("fleiss_kappa"),
        "cohen_kappa": doc.get("cohen_kappa"),
        # the gate metric's 95% bootstrap interval, [low, high] (None when not measurable)
        "interval": _interval(doc.get("ci")),
        "ci": doc.get("ci", {}),
        "ci_method": doc.get("ci_method"),
    }
    return summary, disagreeing


def _interval(ci: Any) -> list[float | None] | None:
    """``[low, high]`` of the gate metric in the agreement report's ``ci``, or None."""
    found = ci.get(GATE_METRIC) if isinstance(ci, dict) else None
    if not isinstance(found, dict):
        return None
    return [found.get("low"), found.get("high")]


def _too_few_items(agreement: dict[str, Any]) -> GateFailure | None:
    """Refuse a gate measured on fewer comparable items than the declared minimum.

    With n items the interval of alpha is roughly +-1/sqrt(n) wide: 3 items at alpha = 1.0 say
    almost nothing, 50 give an interval of about +-0.14.
    """
    n, least = agreement["comparable_items"], agreement["min_comparable_items"]
    if n >= least:
        return None
    return GateFailure(
        "too_few_agreement_items",
        f"human agreement is measured on {n} comparable item(s) (pairs with two or more "
        f"answers), fewer than --min-agreement-items {least}; have more pairs answered by "
        "two or more people (a second reviewer on review items, or another annotator's "
        "labels through `referee labels import`), or declare a smaller minimum with "
        "--min-agreement-items (the manifest states it)",
    )


def _leakage(leaked: list[dict[str, Any]], drop: bool, threshold: float) -> list[GateFailure]:
    if not leaked or drop:
        return []
    return [
        GateFailure(
            "evaluation_leakage",
            f"{len(leaked)} labeled pair(s) are near-duplicates of frozen-evaluation pairs "
            f"(threshold {threshold}; each with its closest frozen match below; use "
            "--drop-leaked to leave them out and list them in the manifest)",
            tuple(m["pair_id"] for m in leaked),
            tuple(leaked),
        )
    ]


def _agreement_failures(
    agreement: dict[str, Any], disagreeing: list[str], gate: float
) -> list[GateFailure]:
    failures = [f for f in (_too_few_items(agreement),) if f is not None]
    if agreement["gate_passed"] is False:
        failures.append(
            GateFailure(
                "agreement_below_gate",
                f"human agreement {GATE_METRIC} = {agreement[GATE_METRIC]:.3f} is below the "
                f"declared gate {gate:.2f} ({agreement['comparable_items']} "
                "items with two or more answers); the pairs below have disagreeing answers",
                tuple(disagreeing),
            )
        )
    return failures


def _safety_failures(dataset: Dataset, kept: KeptRows) -> list[GateFailure]:
    """Unsafe AI preferences; for a redacted dataset, unredacted pairs and personal data."""
    failures: list[GateFailure] = []
    unsafe = kept.unsafe
    if unsafe:
        failures.append(
            GateFailure(
                "unsafe_preference",
                f"{len(unsafe)} pair(s) flagged both-bad or unsafe carry an AI preference; "
                "send them to review (referee route) or answer their review items first",
                tuple(unsafe),
            )
        )
    if not dataset.redaction_required:
        return failures
    unredacted = kept.unredacted
    if unredacted:
        failures.append(
            GateFailure(
                "redaction_not_applied",
                f"dataset {dataset.name!r} requires redaction but {len(unredacted)} labeled "
                "pair(s) were stored unredacted; re-ingest them into a redacted dataset",
                tuple(unredacted),
            )
        )
    leaked_pii = kept.pii
    if leaked_pii:
        kinds = sorted({k for f in leaked_pii for k in f["kinds"]})
        failures.append(
            GateFailure(
                "pii_in_exported_text",
                f"dataset {dataset.name!r} requires redaction but {len(leaked_pii)} exported "
                f"text field(s) hold personal data ({', '.join(kinds)}), e.g. reviewers' "
                "reasons or rationales; remove or redact that text and release again",
                tuple(dict.fromkeys(f["pair_id"] for f in leaked_pii)),
                tuple(leaked_pii),
            )
        )
    return failures


def _spot_check(
    session: Session, dataset: Dataset, kept: KeptRows, bound: float | None
) -> tuple[list[GateFailure], dict[str, Any]]:
    spot = spot_check_report(session, dataset.id)
    est = spot.estimate
    doc: dict[str, Any] = {**spot.to_json(), "bound": bound, "gate_passed": None}
    if bound is None or not kept.ai:
        return [], doc
    if est.lower is not None and est.lower >= bound:
        doc["gate_passed"] = True
        return [], doc
    doc["gate_passed"] = False
    shown = "no answered spot check" if est.lower is None else f"{est.lower:.3f}"
    failure = GateFailure(
        "spot_check_below_bound",
        f"spot-check accuracy lower bound ({shown}, {est.n} checks) is below "
        f"--min-spot-check-bound {bound:.2f}; answer more spot checks or "
        "tighten the policy (referee route --recalibrate)",
        tuple(kept.spot_checked),
    )
    return [failure], doc


def gate_failures(
    session: Session,
    dataset: Dataset,
    kept: KeptRows,
    leaked: list[dict[str, Any]],
    frozen: FrozenIndex,
    *,
    agreement_gate: float,
    min_agreement_items: int,
    drop_leaked: bool,
    min_spot_check_bound: float | None,
) -> GateResult:
    """Every check of the gate on the rows ``kept`` (and the near-duplicates ``leaked``).

    ``kept`` is the summary the release gathered while streaming its rows
    (:class:`referee.export.release_tally.KeptRows`): the offending ids, not the rows.
    """
    agreement, disagreeing = _agreement(session, dataset, agreement_gate, min_agreement_items)
    spot_failures, spot_doc = _spot_check(session, dataset, kept, min_spot_check_bound)
    failures = [
        *_leakage(leaked, drop_leaked, frozen.threshold),
        *_agreement_failures(agreement, disagreeing, agreement_gate),
        *_safety_failures(dataset, kept),
        *spot_failures,
    ]
    return GateResult(failures, agreement, spot_doc)
