"""Dawid-Skene on the llmfao crowd votes (8,931 votes, 124 workers): ours vs crowd-kit.

Prints the best-of-N fit time of ``calibration.dawid_skene.DawidSkene`` and of crowd-kit's
``DawidSkene`` (same n_iter and tol), the speed ratio (crowd-kit / ours), the iterations each
ran, the share of items with the same label and the largest probability difference. With
``--scale N`` the votes are replicated N times under fresh item ids (a larger workload with
the same workers). Run:

    .venv/bin/python bench/dawid_skene_speed.py [--repeats 3] [--scale 10]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from crowdkit.aggregation import DawidSkene as CrowdKitDawidSkene

from calibration.dawid_skene import DawidSkene

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "llmfao" / "labels.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=DATA)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scale", type=int, default=1)
    args = parser.parse_args()

    rows = [json.loads(line) for line in args.labels.read_text().splitlines() if line.strip()]
    frame = pd.DataFrame(
        {
            "task": [f"{r['pair_id']}#{s}" for s in range(args.scale) for r in rows],
            "worker": [r["annotator"] for _ in range(args.scale) for r in rows],
            "label": [r["label"] for _ in range(args.scale) for r in rows],
        }
    )
    tasks, workers, labels = (frame[c].tolist() for c in ("task", "worker", "label"))
    print(
        f"{len(frame):,} votes, {frame.task.nunique():,} items, {frame.worker.nunique()} workers; "
        f"best of {args.repeats}"
    )

    ours_s = theirs_s = float("inf")
    ours: DawidSkene | None = None
    theirs: Any = None
    for _ in range(args.repeats):
        start = time.perf_counter()
        ours = DawidSkene(n_iter=100, tol=1e-5).fit(tasks, workers, labels)
        ours_s = min(ours_s, time.perf_counter() - start)
        start = time.perf_counter()
        theirs = CrowdKitDawidSkene(n_iter=100, tol=1e-5).fit(frame)
        theirs_s = min(theirs_s, time.perf_counter() - start)
    assert ours is not None and theirs is not None
    same = sum(theirs.labels_[t] == label for t, label in ours.labels_.items())
    their_probas = theirs.probas_.loc[ours.tasks_, ours.classes_].to_numpy()
    print(f"ours      {ours_s:8.3f} s  ({ours.n_iter_} iterations)")
    print(f"crowd-kit {theirs_s:8.3f} s  ({len(theirs.loss_history_)} iterations)")
    print(f"speed ratio (crowd-kit / ours): {theirs_s / ours_s:.1f}x")
    print(
        f"same label on {same:,} of {len(ours.labels_):,} items "
        f"({same / len(ours.labels_):.2%}); max |probability difference| "
        f"{np.abs(their_probas - ours.probas_).max():.1e}"
    )


if __name__ == "__main__":
    main()
