"""``referee release`` / ``releases`` / ``export --release``: frozen versions, the manifest, and
the promotion gate (leakage by content, agreement, unsafe preferences, spot-check bound)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from formats.near_duplicates import MAX_EDITS, THRESHOLD
from referee.db.engine import transaction
from referee.db.models import AuditEntry, Release, ReleaseIsImmutable, ReleaseRow, RoutingDecision
from tests.export.release_data import answer, cli_json, routed_dataset
from tests.helpers import run_cli


def _release(url: str, tmp: Path, name: str, *extra: str) -> object:
    """``referee release``; these tests are about the other gates, so unless a test declares
    its own --min-agreement-items, a sample of any size is accepted (issue 20's minimum is
    tested in tests/export/test_release_folder.py)."""
    minimum = () if "--min-agreement-items" in extra else ("--min-agreement-items", "0")
    return run_cli(
        url, "release", "--dataset", "d", "--name", name, "--out", str(tmp / name),
        *minimum, *extra,
    )  # fmt: skip


def _export(url: str, out: Path, *extra: str) -> None:
    result = run_cli(url, "export", "--dataset", "d", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output


def test_release_is_frozen_and_exports_are_byte_identical(
    engine: Engine, db_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(engine, db_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(engine, [(review[0], "alice", "A", "review")])
    made = _release(db_url, tmp_path, "v1")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    manifest = json.loads((tmp_path / "v1" / "manifest.json").read_text())
    first, second, live = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "live.jsonl"
    _export(db_url, first, "--release", "v1", "--format", "dpo")
    # later answers change the live labels, never the release
    answer(engine, [(review[1], "bob", "B", "review"), (review[2], "bob", "A", "review")])
    _export(db_url, second, "--release", "v1", "--format", "dpo")
    _export(db_url, live, "--format", "dpo")
    assert first.read_bytes() == second.read_bytes()
    assert live.read_bytes() != first.read_bytes()
    full = tmp_path / "full.jsonl"
    _export(db_url, full, "--release", "v1", "--format", "jsonl")
    rows = [json.loads(x) for x in full.read_text().splitlines()]
    assert len(rows) == manifest["row_counts"]["rows"]
    assert review[1] not in {r["pair_id"] for r in rows}
    listed = cli_json(db_url, "releases", "--dataset", "d")["releases"]
    assert [(r["name"], r["rows"]) for r in listed] == [("v1", manifest["row_counts"]["rows"])]
    again = _release(db_url, tmp_path, "v1")
    assert again.exit_code == 2 and "never overwritten" in again.output  # type: ignore[attr-defined]
    elsewhere = run_cli(
        db_url, "release", "--dataset", "d", "--name", "v1", "--out", str(tmp_path / "v1b"),
        "--min-agreement-items", "0",
    )  # fmt: skip
    assert elsewhere.exit_code == 2 and "already has a release 'v1'" in elsewhere.output
    assert not (tmp_path / "v1b").exists()
    v2 = _release(db_url, tmp_path, "v2", "--parent", "v1")
    assert v2.exit_code == 0, v2.output  # type: ignore[attr-defined]
    m2 = json.loads((tmp_path / "v2" / "manifest.json").read_text())
    assert m2["parent_dataset"]["version"] == "v1"
    assert m2["row_counts"]["rows"] == manifest["row_counts"]["rows"] + 2
    orphan = _release(db_url, tmp_path, "v3", "--parent", "v0")
    assert orphan.exit_code == 2 and "no such release" in orphan.output  # type: ignore[attr-defined]
    with pytest.raises(ReleaseIsImmutable), transaction(engine) as s:
        row = s.scalars(select(ReleaseRow).limit(1)).one()
        row.body = "{}"
    with pytest.raises(ReleaseIsImmutable), transaction(engine) as s:
        s.delete(s.scalars(select(Release).limit(1)).one())


def test_frozen_duplicate_under_new_id_blocks_the_release(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    copied = sorted(routed.gold)[0]
    # the same texts, responses swapped and blanks added, under a new id in another dataset
    evaluation = tmp_path / "eval.jsonl"
    evaluation.write_text(
        json.dumps(
            {"id": "eval-1", "prompt": f" q{copied}\n", "response_a": "b", "response_b": "a"}
        )
        + "\n"
    )
    ingested = run_cli(
        sqlite_url, "ingest", str(evaluation), "--dataset", "heldout", "--frozen-eval"
    )
    assert ingested.exit_code == 0, ingested.output
    refused = _release(sqlite_url, tmp_path, "v1")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert "evaluation_leakage" in refused.output and copied in refused.output  # type: ignore[attr-defined]
    assert not (tmp_path / "v1").exists()
    with transaction(sqlite_engine) as s:
        assert s.scalar(select(func.count()).select_from(Release)) == 0
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "release_refused")).one()
        assert audit.detail["failures"][0]["pair_ids"] == [copied]
    dropped = _release(sqlite_url, tmp_path, "v1", "--drop-leaked")
    assert dropped.exit_code == 0, dropped.output  # type: ignore[attr-defined]
    manifest = json.loads((tmp_path / "v1" / "manifest.json").read_text())
    assert manifest["leaked_pairs_dropped"] == [  # issue 20: each with its closest frozen match
        {
            "pair_id": copied,
            "closest_frozen": {
                "frozen_pair_id": "eval-1", "frozen_dataset": "heldout", "similarity": 1.0
            },
        }
    ]  # fmt: skip
    assert manifest["frozen_evaluation_set"]["threshold"] == THRESHOLD  # stated (0.98)
    assert manifest["frozen_evaluation_set"]["max_changed_words"] == MAX_EDITS
    assert manifest["leakage_check_passed"] is False
    assert manifest["row_counts"]["excluded"]["leaked_frozen_content"] == 1
    assert manifest["frozen_evaluation_set"]["datasets"] == {"d": 5, "heldout": 1}
    out = tmp_path / "train.jsonl"
    live = cli_json(sqlite_url, "export", "--dataset", "d", "--format", "dpo", "--out", str(out))
    assert live["excluded"]["leaked_frozen_content"]["examples"] == [copied]
    assert copied not in out.read_text()


def test_gate_refuses_low_agreement_unsafe_preferences_and_weak_spot_checks(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")[:6]
    answer(
        sqlite_engine,
        [(p, "alice", "A", "review") for p in review] + [(p, "bob", "B", "review") for p in review],
    )
    accepted = routed.of_kind("auto_accept")[0]
    with transaction(sqlite_engine) as s:  # routing flagged it unsafe, yet it was accepted
        decision = s.scalars(
            select(RoutingDecision).where(
                RoutingDecision.pair_id == accepted, RoutingDecision.current
            )
        ).one()
        decision.reasons = ["judge_injection_suspected"]
    refused = _release(sqlite_url, tmp_path, "v1", "--min-spot-check-bound", "0.99", "--json")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    doc = json.loads(refused.stdout)  # type: ignore[attr-defined]
    reasons = {f["reason"]: f for f in doc["failures"]}
    assert set(reasons) == {"agreement_below_gate", "unsafe_preference", "spot_check_below_bound"}
    assert sorted(reasons["agreement_below_gate"]["pair_ids"]) == sorted(review)
    assert reasons["unsafe_preference"]["pair_ids"] == [accepted]
    with transaction(sqlite_engine) as s:
        assert s.scalar(select(func.count()).select_from(ReleaseRow)) == 0
    lowered = _release(sqlite_url, tmp_path, "v1", "--agreement-gate", "-1")
    assert lowered.exit_code == 1 and "unsafe_preference" in lowered.output  # type: ignore[attr-defined]
    assert "agreement_below_gate" not in lowered.output  # type: ignore[attr-defined]


def test_manifest_agrees_with_agreement_status_and_cost(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")[:4]
    spot = routed.of_kind("spot_check")
    ai = {p: lab for p, (_, lab) in routed.decisions.items()}
    answer(
        sqlite_engine,
        [(p, "alice", routed.truth[p], "review") for p in review]
        + [(p, "bob", routed.truth[p], "review") for p in review[:3]]
        + [(p, "carol", ai[p] or "A", "spot_check") for p in spot],
    )
    made = _release(sqlite_url, tmp_path, "v1")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    manifest = json.loads((tmp_path / "v1" / "manifest.json").read_text())
    agreement = cli_json(sqlite_url, "agreement", "--dataset", "d")
    for key in ("krippendorff_alpha", "percent_agreement", "comparable_items"):
        assert manifest["agreement_report"][key] == agreement[key]
    cost = cli_json(sqlite_url, "report", "cost", "--dataset", "d")
    spot_doc = cost["quality"]["spot_check"]
    for key in ("n", "correct", "accuracy", "lower", "upper"):
        assert manifest["spot_check"][key] == spot_doc[key]
    assert manifest["spot_check"]["n"] == len(spot)
    assert manifest["cost"]["hybrid_total"] == cost["cost"]["hybrid_total"]
    status = cli_json(sqlite_url, "status", "--dataset", "d")
    assert manifest["decisions"] == status["decisions"]
    finals = cli_json(sqlite_url, "labels", "final", "--dataset", "d")
    labeled = [r for r in finals["rows"] if r["label"] is not None]
    assert manifest["row_counts"]["rows"] == len(labeled)
    assert manifest["row_counts"]["preferences"] == sum(r["label"] in ("A", "B") for r in labeled)
    for field in (
        "dataset_version", "parent_dataset", "source_window", "selection_policy_version",
        "redaction_version", "rubric_version", "reviewer_training_set", "agreement_report",
        "row_counts", "frozen_evaluation_set", "leakage_check_passed", "spot_check", "cost",
    ):  # fmt: skip
        assert field in manifest
    assert manifest["selection_policy_version"] == 1
    # people answered under the built-in guidelines (v1); the judges' prompts were recorded
    assert manifest["rubric_version"].startswith("reviewers v1 (sha256 ")
    assert manifest["rubric_version"].endswith("; judges recorded")
    assert manifest["frozen_evaluation_set"]["pairs"] == len(routed.frozen)
    assert manifest["reviewer_training_set"]["gold_items"] == len(routed.gold)
