"""The aggregation benchmark's protocol on data small enough to check by hand."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def _bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "aggregation_methods.py"
    spec = importlib.util.spec_from_file_location("aggregation_methods", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["aggregation_methods"] = module
    spec.loader.exec_module(module)
    return module


def test_held_out_gold_votes_are_never_seen() -> None:
    bench = _bench()
    votes = [(f"p{i}", f"w{j}", "A") for i in range(4) for j in range(5)]
    votes += [("q", f"w{j}", "B") for j in range(3)] + [("r", "w0", "A")]
    s = bench.split(votes, seed=0)
    assert s.held_out == {f"p{i}": "A" for i in range(4)}  # 5 votes, 3 agreeing references
    assert s.calibration == {"q": "B"}  # 3 votes, 100% agreement; r has one vote only
    assert sum(v[0] == "p0" for v in s.votes) == 2  # the 3 reference votes are gone
    assert len(s.votes) == 4 * 2 + 3 + 1


def test_noise_turns_a_share_of_workers() -> None:
    bench = _bench()
    votes = [(f"p{i}", f"w{j}", "A") for i in range(10) for j in range(10)]
    flipped = bench.add_noise(votes, 0.3, "flip", seed=1)
    changed = {w for (_, w, a), (_, _, b) in zip(votes, flipped, strict=True) if a != b}
    assert len(changed) == 3
    assert all(lab == "B" for _, w, lab in flipped if w in changed)
    assert bench.add_noise(votes, 0.0, "random", seed=1) == votes


def test_gold_aware_methods_outvote_saboteurs() -> None:
    bench = _bench()
    # two saboteurs outvote one careful worker on every pair; gold shows who is who
    truth = {f"p{i}": "AB"[i % 2] for i in range(40)}
    votes = []
    for p, t in truth.items():
        other = "B" if t == "A" else "A"
        votes += [(p, "careful", t), (p, "s1", other), (p, "s2", other)]
    gold = {p: t for p, t in list(truth.items())[:20]}
    held = {p: t for p, t in list(truth.items())[20:]}
    majority, _ = bench.score(bench.aggregate("majority", votes, gold), held)
    weighted, _ = bench.score(bench.aggregate("weighted", votes, gold), held)
    ds, _ = bench.score(bench.aggregate("dawid-skene", votes, gold), held)
    assert majority == 0.0
    assert weighted == 1.0  # weight 21/22 against 2 * 1/22
    assert ds == 1.0  # Dawid-Skene learns the saboteurs' confusion matrices from gold
    tied = [(p, "careful", t) for p, t in truth.items()] + [(p, "s1", "B" if t == "A" else "A")
                                                          for p, t in truth.items()]  # fmt: skip
    tb, abstained = bench.score(bench.aggregate("majority+tb", tied, gold), held)
    assert tb == 1.0 and abstained == 0.0  # ties go to the voter right on gold
    plain, abstained = bench.score(bench.aggregate("majority", tied, gold), held)
    assert plain == 0.0 and abstained == 1.0
