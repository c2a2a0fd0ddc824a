"""``referee demo`` (the README's first command) ends with a release and a DPO file that loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import run_cli


def test_demo_writes_a_release_and_a_loadable_dpo_file(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFEREE_")}
    done = subprocess.run(
        # TF-IDF orders the review queue: loading MiniLM (torch) took half the demo's time here,
        # and the order changes none of what is checked (every queue item gets answered)
        [
            sys.executable,
            "-m",
            "referee.cli.main",
            "demo",
            "--workdir",
            str(workdir),
            "--embedder",
            "tfidf",
        ],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    manifest = json.loads((workdir / "releases" / "v1" / "manifest.json").read_text())
    lines = (workdir / "train_dpo.jsonl").read_text().splitlines()
    assert manifest["dataset_version"] == "v1" and manifest["leakage_check_passed"] is True
    assert len(lines) == manifest["row_counts"]["preferences"] > 300
    assert manifest["row_counts"]["by_source"]["ai"] > 100
    from datasets import load_dataset

    ds = load_dataset("json", data_files=str(workdir / "train_dpo.jsonl"), split="train")
    assert ds.num_rows == len(lines)
    assert ds[0]["chosen"][0]["role"] == "assistant"
    assert "release v1 of llmbar-demo" in done.stdout


def test_demo_refuses_an_unknown_embedder_before_writing_anything(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    result = run_cli(f"sqlite:///{tmp_path / 'x.db'}", "demo", "--workdir", str(workdir),
                     "--embedder", "word2vec")  # fmt: skip
    assert result.exit_code == 2
    assert "unknown embedder 'word2vec'; choose auto, minilm or tfidf" in result.stderr
    assert not workdir.exists()
