"""Releases: immutable versions of a dataset's final labels, their manifest and the gate.

:func:`create_release` freezes the current final labels (every labeled, non-frozen pair) into
``release_rows`` in pair-id order (except that the rows first giving a column a value come
first: :func:`formats.typed_jsonl.witness_order`), with a manifest that says where the labels
came from and how good they are. The promotion gate refuses the release — nothing written,
every reason listed with the offending pair ids — for:

* ``evaluation_leakage``: a labeled pair that is a near-duplicate of a frozen-evaluation pair,
  in any dataset and either response order (:mod:`formats.near_duplicates`; the
  refusal and, with ``drop_leaked``, the manifest list each pair with its closest frozen match);
* ``too_few_agreement_items``: agreement measured on fewer comparable items than declared;
* ``agreement_below_gate``: Krippendorff's alpha among the people's answers (every label kind,
  as ``referee agreement`` computes it) below the declared gate;
* ``unsafe_preference``: an AI label A or B on a pair that routing flagged both-bad or unsafe,
  or that a person answered both-bad;
* ``redaction_not_applied``: the dataset requires redaction (``ingest --redact``) but a
  labeled pair was stored without it;
* ``pii_in_exported_text``: the dataset requires redaction but an exported text field (a
  reason, a rationale, a ``meta`` string, the pair's texts) holds personal data
  (:mod:`referee.export.pii_gate`);
* ``spot_check_below_bound``: with ``min_spot_check_bound`` set, the spot-check accuracy's lower
  bound (or the lack of any answered spot check) under that bound.

Store functions take an open session; the caller owns the transaction.
"""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import orjson
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from formats.near_duplicates import FrozenIndex
from formats.rows import LabeledPair
from formats.rules import Exclusions
from referee.db.models import AuditEntry, Dataset, Pair, Policy, Release, ReleaseRow
from referee.db.routing import decision_counts, label_counts
from referee.export.build import annotator_pseudonyms, frozen_index, labeled_pairs
from referee.export.release_gate import (
    GateFailure,
    GateResult,
    ReleaseRefused,
    gate_failures,
)
from referee.export.release_tally import KeptRows
from referee.review.final_labels import Aggregation
from referee.review.quality import annotator_quality, gold_labels
from referee.review.service import as_utc

__all__ = [
    "GateFailure",
    "ReleaseOptions",
    "ReleaseRefused",
    "create_release",
    "find_release",
    "list_releases",
    "record_refusal",
    "release_bodies",
    "release_rows",
]

ROW_BATCH = 1_000


@dataclass(frozen=True)
class ReleaseOptions:
    """What the release is and which gates it must pass."""

    name: str
    parent: str | None = None
    agreement_gate: float = 0.65
    min_agreement_items: int = 50
    min_spot_check_bound: float | None = None
    drop_leaked: bool = False
    aggregate: Aggregation = "majority"
    cost_summary: dict[str, Any] | None = None


def _referee_version() -> str:
    try:
        return version("referee")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # pragma: no cover - no user database in some containers
        return "cli:unknown"


def find_release(session: Session, dataset: Dataset, name: str) -> Release | None:
    """The release called ``name`` of ``dataset``, or None."""
    return session.scalar(
        select(Release).where(Release.dataset_id == dataset.id, Release.name == name)
    )


def list_releases(session: Session, dataset: Dataset | None = None) -> list[dict[str, Any]]:
    """Every release (of ``dataset``, or of all datasets), oldest first, as summaries."""
    query = select(Release, Dataset.name).join(Dataset, Dataset.id == Release.dataset_id)
    if dataset is not None:
        query = query.where(Release.dataset_id == dataset.id)
    out: list[dict[str, Any]] = []
    for release, dataset_name in session.execute(query.order_by(Release.created_at, Release.id)):
        manifest = release.manifest
        out.append(
            {
                "dataset": dataset_name,
                "name": release.name,
                "parent": (manifest.get("parent_dataset") or {}).get("version"),
                "created_at": manifest.get("created_at"),
                "rows": release.row_count,
                "rows_sha256": release.rows_sha256,
                "row_counts": manifest.get("row_counts", {}),
                "leakage_check_passed": manifest.get("leakage_check_passed"),
            }
        )
    return out


def release_rows(
    session: Session, release: Release, *, batch: int = 5_000
) -> Iterator[LabeledPair]:
    """The release's rows in their frozen order, streamed ``batch`` rows at a time."""
    for body in release_bodies(session, release, batch=batch):
        yield LabeledPair.from_json(orjson.loads(body))


def release_bodies(session: Session, release: Release, *, batch: int = 1_000) -> Iterator[str]:
    """The release's canonical rows as frozen (JSON text, one per row), in order."""
    last = -1
    while True:
        found = session.execute(
            select(ReleaseRow.seq, ReleaseRow.body)
            .where(ReleaseRow.release_id == release.id, ReleaseRow.seq > last)
            .order_by(ReleaseRow.seq)
            .limit(batch)
        ).all()
        if not found:
            return
        for seq, body in found:
            yield body
            last = seq


def _scan_rows(
    session: Session,
    dataset: Dataset,
    options: ReleaseOptions,
    frozen: FrozenIndex,
    exclusions: Exclusions,
    kept: KeptRows,
) -> list[dict[str, Any]]:
    """Stream the labeled rows into ``kept``; return the near-duplicates of frozen pairs.

    Pending and unresolved pairs are counted in ``exclusions``; a near-duplicate of a frozen
    pair is listed with its closest frozen match and left out.
    """
    leaked: list[dict[str, Any]] = []
    for row in labeled_pairs(session, dataset, method=options.aggregate):
        if row.label is None:
            exclusions.add("unresolved" if row.method == "unresolved" else "pending", row.pair_id)
            continue
        found = frozen.match(row.prompt, row.response_a, row.response_b) if frozen else None
        if found is not None:
            leaked.append({"pair_id": row.pair_id, "closest_frozen": found.to_json()})
            exclusions.add("leaked_frozen_content", row.pair_id)
            continue
        kept.add(row)
    return leaked


def _source_window(session: Session, dataset: Dataset, kept: KeptRows) -> dict[str, Any]:
    first, last = session.execute(
        select(func.min(Pair.created_at), func.max(Pair.created_at)).where(
            Pair.dataset_id == dataset.id
        )
    ).one()
    first = as_utc(first) if first is not None else None
    last = as_utc(last) if last is not None else None
    return {
        "pairs_ingested_from": first.isoformat() if first else None,
        "pairs_ingested_to": last.isoformat() if last else None,
        "labels_from": kept.labeled_from,
        "labels_to": kept.labeled_to,
    }


def _reviewer_training_set(session: Session, dataset: Dataset) -> dict[str, Any]:
    gold = gold_labels(session, dataset.id)
    names = annotator_pseudonyms(session, dataset.id)
    digest = hashlib.sha256(
        "".join(f"{pid}\t{label}\n" for pid, label in sorted(gold.items())).encode("utf-8")
    ).hexdigest()
    return {
        "gold_items": len(gold),
        "gold_sha256": digest,
        "reviewers": [
            {**q.to_json(), "annotator": names.get(name, "annotator-?")}
            for name, q in annotator_quality(session, dataset.id, gold).items()
        ],
    }


def _frozen_set(session: Session, frozen: FrozenIndex) -> dict[str, Any]:
    datasets = session.execute(
        select(Dataset.name, func.count())
        .join(Pair, Pair.dataset_id == Dataset.id)
        .where(Pair.frozen_eval.is_(True))
        .group_by(Dataset.name)
        .order_by(Dataset.name)
    ).all()
    return {
        "pairs": len(frozen),
        "content_sha256": frozen.digest(),
        "datasets": {name: int(n) for name, n in datasets},
        "match": "near-duplicate: prompt and both responses, in either order",
        **frozen.describe(),
    }


def _row_counts(kept: KeptRows, exclusions: Exclusions) -> dict[str, Any]:
    labels = kept.labels
    return {
        "rows": kept.rows,
        "preferences": labels["A"] + labels["B"],
        "ties": labels["tie"],
        "both_bad_escalated": labels["both_bad"],
        "by_label": {k: labels[k] for k in ("A", "B", "tie", "both_bad") if labels[k]},
        "by_source": dict(sorted(kept.sources.items())),
        "excluded": {reason: v["count"] for reason, v in exclusions.to_json().items()},
    }


def _policy_summary(session: Session, dataset: Dataset, kept: KeptRows) -> dict[str, Any]:
    versions = sorted(kept.policy_versions)
    latest = versions[-1] if versions else None
    body: dict[str, Any] = {}
    if latest is not None:
        policy = session.scalar(
            select(Policy).where(Policy.dataset_id == dataset.id, Policy.version == latest)
        )
        body = policy.body if policy is not None else {}
    return {
        "version": latest,
        "versions_used": versions,
        "target_agreement": body.get("target_agreement"),
        "delta": body.get("delta"),
        "judges": body.get("judges"),
    }


def _rubric_version(session: Session, dataset: Dataset, kept: KeptRows) -> str | None:
    """The guidelines people answered under and the judges' prompt versions, in one string:
    ``reviewers v2 (sha256 1a2b3c4d5e6f); judges recorded``; None when there is neither."""
    from referee.review.schema import schema_for_dataset_id

    parts: list[str] = []
    if kept.people:
        schema = schema_for_dataset_id(session, dataset.id)
        digest = (schema.sha256 or schema.digest())[:12]
        parts.append(f"reviewers {schema.rubric_version} (sha256 {digest})")
    if kept.judge_versions:
        parts.append("judges " + ",".join(sorted(kept.judge_versions)))
    return "; ".join(parts) or None


def _parent_release(session: Session, dataset: Dataset, options: ReleaseOptions) -> Release | None:
    """The declared parent release (None without one); refuse a taken name or unknown parent."""
    if find_release(session, dataset, options.name) is not None:
        raise ValueError(
            f"dataset {dataset.name!r} already has a release {options.name!r}; releases are "
            "immutable: choose a new name (e.g. a higher version)"
        )
    if options.parent is None:
        return None
    parent = find_release(session, dataset, options.parent)
    if parent is None:
        known = ", ".join(r["name"] for r in list_releases(session, dataset)) or "none yet"
        raise ValueError(
            f"--parent {options.parent!r}: dataset {dataset.name!r} has no such release "
            f"(releases: {known})"
        )
    return parent


@dataclass(frozen=True)
class _Scanned:
    """What one pass over the rows found: the exclusions, leaked pairs, frozen set, the gate."""

    exclusions: Exclusions
    leaked: list[dict[str, Any]]
    frozen: FrozenIndex
    gate: GateResult


def _manifest(
    session: Session,
    dataset: Dataset,
    options: ReleaseOptions,
    parent: Release | None,
    kept: KeptRows,
    scanned: _Scanned,
) -> dict[str, Any]:
    """The release manifest: provenance, quality, counts and the rows file's checksum."""
    policy = _policy_summary(session, dataset, kept)
    return {
        "dataset": dataset.name,
        "dataset_version": options.name,
        "parent_dataset": (
            {"dataset": dataset.name, "version": parent.name, "rows_sha256": parent.rows_sha256}
            if parent is not None
            else None
        ),
        "created_at": datetime.now(UTC).isoformat(),
        "created_by": _actor(),
        "referee_version": _referee_version(),
        "aggregation": options.aggregate,
        "source_window": _source_window(session, dataset, kept),
        "selection_policy_version": policy["version"],
        "selection_policy": policy,
        "redaction_version": ",".join(sorted(kept.redaction_versions)) or None,
        "redaction_required": bool(dataset.redaction_required),
        "rubric_version": _rubric_version(session, dataset, kept),
        "reviewer_training_set": _reviewer_training_set(session, dataset),
        "agreement_report": scanned.gate.agreement,
        "row_counts": _row_counts(kept, scanned.exclusions),
        "decisions": decision_counts(session, dataset.id),
        "labels_collected": label_counts(session, dataset.id),
        "frozen_evaluation_set": _frozen_set(session, scanned.frozen),
        "leakage_check_passed": not scanned.leaked,
        "leaked_pairs_dropped": scanned.leaked,
        "spot_check": scanned.gate.spot_check,
        "cost": options.cost_summary,
        "rows_sha256": kept.rows_sha256,
        # the files of the release folder (formats.release_files): the canonical rows
        "files": [{"path": "rows.jsonl", "bytes": kept.size, "sha256": kept.rows_sha256}],
    }


def _scan_and_gate(
    session: Session, dataset: Dataset, options: ReleaseOptions, kept: KeptRows
) -> _Scanned:
    """Stream the rows into ``kept`` and run the gate; raise ReleaseRefused when it refuses."""
    exclusions = Exclusions()
    frozen = frozen_index(session)
    leaked = _scan_rows(session, dataset, options, frozen, exclusions, kept)
    gate = gate_failures(
        session,
        dataset,
        kept,
        leaked,
        frozen,
        agreement_gate=options.agreement_gate,
        min_agreement_items=options.min_agreement_items,
        drop_leaked=options.drop_leaked,
        min_spot_check_bound=options.min_spot_check_bound,
    )
    if gate.failures:
        raise ReleaseRefused(dataset.name, options.name, gate.failures)
    return _Scanned(exclusions, leaked, frozen, gate)


def _store_rows(session: Session, release: Release, kept: KeptRows) -> None:
    """Insert the spooled rows, :data:`ROW_BATCH` per executemany statement."""
    seq = 0
    for chunk in kept.bodies(ROW_BATCH):
        session.execute(
            insert(ReleaseRow),
            [
                {"release_id": release.id, "seq": seq + i, "pair_id": pair_id, "body": body}
                for i, (pair_id, body) in enumerate(chunk)
            ],
        )
        seq += len(chunk)


def create_release(session: Session, dataset: Dataset, options: ReleaseOptions) -> Release:
    """Freeze ``dataset``'s final labels as release ``options.name``, or raise ReleaseRefused.

    Steps: check the name and parent; stream the labeled rows once, counting them and spooling
    their bodies to a temporary file (:class:`KeptRows`); run the gate; write the manifest
    and insert the rows in batches. Memory holds a batch of rows, not the dataset.

    Nothing is written when the gate refuses (the caller should :func:`record_refusal` in a
    transaction of its own, so the refusal is audited).
    """
    parent = _parent_release(session, dataset, options)
    with KeptRows(check_pii=bool(dataset.redaction_required)) as kept:
        scanned = _scan_and_gate(session, dataset, options, kept)
        manifest = _manifest(session, dataset, options, parent, kept, scanned)
        release = Release(
            dataset_id=dataset.id,
            name=options.name,
            parent_id=parent.id if parent is not None else None,
            row_count=kept.rows,
            rows_sha256=kept.rows_sha256,
            manifest=manifest,
        )
        session.add(release)
        session.flush()
        _store_rows(session, release, kept)
    _audit(session, "release_created", dataset.name, options.name, {
        "rows": kept.rows, "rows_sha256": kept.rows_sha256
    })  # fmt: skip
    return release


def record_refusal(session: Session, refused: ReleaseRefused) -> None:
    """Audit a refused release (in its own transaction: the release itself wrote nothing)."""
    _audit(session, "release_refused", refused.dataset, refused.name, {
        "failures": [f.to_json() for f in refused.failures]
    })  # fmt: skip


def _audit(session: Session, action: str, dataset: str, name: str, detail: dict[str, Any]) -> None:
    session.add(
        AuditEntry(
            actor=_actor(),
            action=action,
            entity="release",
            entity_id=f"{dataset}@{name}"[-200:],
            detail=detail,
        )
    )
