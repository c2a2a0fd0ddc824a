"""Issue 20/21: a release folder anyone can verify offline, a declared agreement sample size,
and folders made from safe slugs that never overwrite anything."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from formats.release_files import folder_slug
from referee.db.engine import transaction
from referee.db.models import Release
from referee.errors import UserError
from tests.export.release_data import answer, cli_json, routed_dataset
from tests.helpers import run_cli


def _small_dataset(url: str, tmp: Path, dataset: str) -> None:
    """Three pairs of ``dataset`` with gold labels: final labels, no comparable items."""
    pairs, gold = tmp / f"pairs-{len(dataset)}.jsonl", tmp / f"gold-{len(dataset)}.jsonl"
    ids = [f"{hashlib.sha256(dataset.encode()).hexdigest()[:6]}-{i}" for i in range(3)]
    pairs.write_text(
        "".join(
            json.dumps({"id": i, "prompt": f"q {i}", "response_a": "a", "response_b": "b"}) + "\n"
            for i in ids
        )
    )
    gold.write_text(
        "".join(json.dumps({"pair_id": i, "annotator": "g", "label": "A"}) + "\n" for i in ids)
    )
    made = run_cli(url, "ingest", str(pairs), "--dataset", dataset)
    assert made.exit_code == 0, made.output
    assert run_cli(url, "labels", "import", str(gold), "--kind", "gold").exit_code == 0


def _release(url: str, dataset: str, name: str, *extra: str) -> object:
    return run_cli(url, "release", "--dataset", dataset, "--name", name, *extra)


def test_the_gate_states_n_and_refuses_below_the_minimum(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    routed = routed_dataset(sqlite_engine, sqlite_url, tmp_path)
    review = routed.of_kind("human_review")
    answer(
        sqlite_engine,
        [(p, who, routed.truth[p], "review") for p in review[:3] for who in ("ann", "bob")],
    )
    out = tmp_path / "v1"
    refused = run_cli(sqlite_url, "release", "--dataset", "d", "--name", "v1", "--out", str(out))
    assert refused.exit_code == 1
    assert "too_few_agreement_items" in refused.output
    assert "3 comparable item(s)" in refused.output and "--min-agreement-items 50" in refused.output
    assert not out.exists()
    with transaction(sqlite_engine) as s:
        assert s.scalar(select(func.count()).select_from(Release)) == 0
    made = cli_json(
        sqlite_url, "release", "--dataset", "d", "--name", "v1", "--out", str(out),
        "--min-agreement-items", "3",
    )  # fmt: skip
    agreement = made["manifest"]["agreement_report"]
    assert (agreement["comparable_items"], agreement["min_comparable_items"]) == (3, 3)
    low, high = agreement["interval"]
    assert low is not None and high is not None and low <= agreement["krippendorff_alpha"] <= high


def test_a_copied_release_verifies_and_tampering_is_caught(sqlite_url: str, tmp_path: Path) -> None:
    _small_dataset(sqlite_url, tmp_path, "d")
    out = tmp_path / "made" / "v1"
    made = _release(sqlite_url, "d", "v1", "--out", str(out), "--min-agreement-items", "0")
    assert made.exit_code == 0, made.output  # type: ignore[attr-defined]
    assert sorted(p.name for p in out.iterdir()) == ["SHA256SUMS", "manifest.json", "rows.jsonl"]
    manifest = json.loads((out / "manifest.json").read_text())
    rows = (out / "rows.jsonl").read_bytes()
    assert manifest["rows_sha256"] == hashlib.sha256(rows).hexdigest()
    assert manifest["files"] == [
        {"path": "rows.jsonl", "bytes": len(rows), "sha256": manifest["rows_sha256"]}
    ]
    first = json.loads(rows.splitlines()[0])
    assert {"pair_id", "answers", "source", "method", "rubric_version"} <= set(first)
    assert first["policy_version"] is None  # a gold row: no policy made it

    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(out, copy)
    checked = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=copy, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "rows.jsonl: OK" in checked.stdout and "manifest.json: OK" in checked.stdout
    good = run_cli("sqlite:///" + str(tmp_path / "nowhere.db"), "release", "verify", str(copy))
    assert good.exit_code == 0, good.output
    assert "every file verified" in good.output

    data = bytearray((copy / "rows.jsonl").read_bytes())
    data[10] ^= 0x01  # one bit of one byte
    (copy / "rows.jsonl").write_bytes(bytes(data))
    bad = run_cli(sqlite_url, "release", "verify", str(copy), "--json")
    assert bad.exit_code == 1
    problems = json.loads(bad.stdout)["problems"]
    assert any(p.startswith("rows.jsonl: sha256") for p in problems)
    assert subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=copy, capture_output=True
    ).returncode

    (copy / "rows.jsonl").unlink()
    gone = run_cli(sqlite_url, "release", "verify", str(copy), "--json")
    assert gone.exit_code == 1 and "rows.jsonl: missing" in json.loads(gone.stdout)["problems"]

    shutil.rmtree(copy)
    shutil.copytree(out, copy)
    manifest["row_counts"]["rows"] += 1  # a manifest edited without its SHA256SUMS line
    (copy / "manifest.json").write_text(json.dumps(manifest))
    edited = run_cli(sqlite_url, "release", "verify", str(copy))
    assert edited.exit_code == 1 and "manifest.json: sha256" in edited.output


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../escape-ds", "separator"),
        ("..", r"'\.\.'"),
        ("/abs", "separator"),
        ("a\nb", "control character"),
        ("a\\b", "separator"),
        (".hidden", r"starts with '\.'"),
        ("", "empty"),
    ],
)
def test_hostile_names_cannot_name_a_folder(name: str, why: str) -> None:
    with pytest.raises(UserError, match=why):
        folder_slug(name, "dataset name")


def test_slugs_never_collide_and_keep_safe_names() -> None:
    assert folder_slug("llmbar-v1.2_x", "d") == "llmbar-v1.2_x"
    assert folder_slug("a b", "d") != folder_slug("a_b", "d")
    assert folder_slug("a b", "d").startswith("a_b-")


@pytest.mark.parametrize("hostile", ["../../escape-ds", "..", "/abs", "a\nb"])
def test_a_hostile_dataset_or_version_name_writes_nothing_anywhere(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile: str
) -> None:
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    _small_dataset(sqlite_url, tmp_path, "d")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    as_version = _release(sqlite_url, "d", hostile, "--min-agreement-items", "0")
    assert as_version.exit_code == 2, as_version.output  # type: ignore[attr-defined]
    ingest = run_cli(sqlite_url, "ingest", str(tmp_path / "pairs-1.jsonl"), "--dataset", hostile)
    if ingest.exit_code == 0:  # the name was accepted as a dataset: its release must not escape
        as_dataset = _release(sqlite_url, hostile, "v1", "--min-agreement-items", "0")
        assert as_dataset.exit_code == 2, as_dataset.output  # type: ignore[attr-defined]
        assert "cannot name a folder" in as_dataset.output  # type: ignore[attr-defined]
    after = sorted(str(p) for p in tmp_path.rglob("*"))
    assert after == before or set(after) - set(before) <= {str(tmp_path / "second.db")}


def test_a_release_never_overwrites_a_folder_and_records_the_real_name(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _small_dataset(sqlite_url, tmp_path, "team a")
    first = _release(sqlite_url, "team a", "v1", "--min-agreement-items", "0")
    assert first.exit_code == 0, first.output  # type: ignore[attr-defined]
    (folder,) = (tmp_path / "releases").iterdir()
    assert folder.name.startswith("team_a-")
    manifest = json.loads((folder / "v1" / "manifest.json").read_text())
    assert manifest["dataset"] == "team a"
    # a dataset named like that release's folder is refused, never written over it
    _small_dataset(sqlite_url, tmp_path, folder.name)
    second = _release(sqlite_url, folder.name, "v1", "--min-agreement-items", "0")
    assert second.exit_code == 2 and "never overwritten" in second.output  # type: ignore[attr-defined]
    assert json.loads((folder / "v1" / "manifest.json").read_text()) == manifest
    assert cli_json(sqlite_url, "releases", "--dataset", folder.name)["releases"] == []
    # an existing folder with files is refused before anything is stored
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    refused = _release(
        sqlite_url, "team a", "v2", "--out", str(taken), "--min-agreement-items", "0"
    )
    assert refused.exit_code == 2 and "never overwritten" in refused.output  # type: ignore[attr-defined]
    assert sorted(p.name for p in taken.iterdir()) == ["notes.txt"]
    listed = cli_json(sqlite_url, "releases", "--dataset", "team a")["releases"]
    assert [r["name"] for r in listed] == ["v1"]
