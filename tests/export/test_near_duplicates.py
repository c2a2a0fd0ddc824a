"""Issue 20: frozen-evaluation copies altered by trivial edits are caught; distinct pairs of
the shared real data are not flagged."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from formats.near_duplicates import THRESHOLD, FrozenIndex, fold, jaccard, shingles
from tests.helpers import run_cli

DATA = Path("/work/shared/data")
ZWSP = "\u200b"


def _pairs(name: str) -> list[dict[str, str]]:
    path = DATA / name / "pairs.jsonl"
    if not path.is_file():
        pytest.skip(f"shared data {path} is not on this machine")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    return [
        {"id": r["id"], "prompt": r["prompt"], "a": str(r["response_a"]), "b": str(r["response_b"])}
        for r in rows
    ]


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _cyrillic_a(text: str) -> str:
    """One Latin letter replaced by its Cyrillic lookalike (``a``, else ``o``, else ``e``)."""
    for latin, cyrillic in (("a", "\u0430"), ("o", "\u043e"), ("e", "\u0435")):
        at = text.find(latin)
        if at >= 0:
            return text[:at] + cyrillic + text[at + 1 :]
    return text


EDITS = {
    "zero-width space": lambda t: t[: len(t) // 2] + ZWSP + t[len(t) // 2 :],
    "fullwidth": _fullwidth,
    "upper case": str.upper,
    "trailing period": lambda t: t + ".",
    "one Cyrillic a": _cyrillic_a,
}


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("swap", [False, True], ids=["same-order", "swapped"])
def test_each_listed_edit_is_caught_in_either_order(edit: str, swap: bool) -> None:
    pairs = _pairs("llmbar")[:40]
    index = FrozenIndex()
    for p in pairs:
        index.add(p["id"], "frozen", p["prompt"], p["a"], p["b"])
    change = EDITS[edit]
    for p in pairs:
        a, b = change(p["a"]), change(p["b"])
        assert (change(p["prompt"]), a, b) != (p["prompt"], p["a"], p["b"])  # really edited
        found = index.match(change(p["prompt"]), *((b, a) if swap else (a, b)))
        assert found is not None, (edit, p["id"])
        assert found.frozen_pair_id == p["id"] and found.similarity == 1.0


def test_folding_undoes_each_edit_and_keeps_words_apart() -> None:
    text = "Paris is the capital."
    for name, change in EDITS.items():
        assert fold(change(text)) == fold(text) == "paris is the capital", name
    assert fold("A\u00a0B\u2014C") == "a bc"  # no-break space is a space, an em dash goes
    assert fold("e\u0301t\u00e9") == "ete"  # combining and precomposed accents
    assert fold("\u039f\u03bf") == "oo"  # Greek capital and small omicron


def test_a_typo_in_a_long_response_is_caught_but_a_different_answer_is_not() -> None:
    pairs = _pairs("llmbar")
    p = max(pairs[:100], key=lambda r: min(len(r["a"]), len(r["b"])))
    index = FrozenIndex()
    index.add(p["id"], "frozen", p["prompt"], p["a"], p["b"])
    typo = p["a"][:50] + "x" + p["a"][51:]
    found = index.match(p["prompt"], typo, p["b"])
    assert found is not None and THRESHOLD <= found.similarity < 1.0
    assert index.match(p["prompt"], p["a"], "Something else entirely.") is None
    assert index.match("Another question?", p["a"], p["b"]) is None


def test_repeating_a_pattern_more_often_is_a_different_text() -> None:
    short, long = "E7 A7 B7 " * 4, "E7 A7 B7 " * 6
    assert set(shingles(fold(short)).tolist()) != set(shingles(fold(long)).tolist())
    assert jaccard(shingles(fold(short)), shingles(fold(long))) < THRESHOLD


def _false_alarms(name: str) -> tuple[int, list[tuple[str, str]]]:
    """Freeze the even-numbered pairs, look up the odd-numbered ones: a flagged pair is a false
    alarm unless its texts are near-identical by an independent measure (difflib's ratio of the
    folded texts >= 0.9 for the prompt and both responses, best order)."""
    pairs = _pairs(name)
    frozen, training = pairs[0::2], pairs[1::2]
    index = FrozenIndex()
    for p in frozen:
        index.add(p["id"], name, p["prompt"], p["a"], p["b"])
    by_id = {p["id"]: p for p in frozen}
    flagged, alarms = 0, []
    for p in training:
        found = index.match(p["prompt"], p["a"], p["b"])
        if found is None:
            continue
        flagged += 1
        other = by_id[found.frozen_pair_id]

        def ratio(x: str, y: str) -> float:
            return difflib.SequenceMatcher(None, fold(x), fold(y), autojunk=False).ratio()

        straight = min(ratio(p["a"], other["a"]), ratio(p["b"], other["b"]))
        swapped = min(ratio(p["a"], other["b"]), ratio(p["b"], other["a"]))
        if min(ratio(p["prompt"], other["prompt"]), max(straight, swapped)) < 0.9:
            alarms.append((p["id"], other["id"]))
    return flagged, alarms


@pytest.mark.parametrize("name", ["llmbar", "pandalm"])
def test_no_false_alarm_on_distinct_pairs_of_the_shared_data(name: str) -> None:
    flagged, alarms = _false_alarms(name)
    assert alarms == []
    if name == "llmbar":
        assert flagged == 0  # no two LLMBar pairs are near-duplicates


def test_the_release_gate_catches_an_edited_frozen_copy_through_the_cli(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    pairs = _pairs("llmbar")[:6]
    train, frozen = tmp_path / "train.jsonl", tmp_path / "frozen.jsonl"
    train.write_text(
        "".join(
            json.dumps({"id": p["id"], "prompt": p["prompt"], "response_a": p["a"],
                        "response_b": p["b"]}) + "\n"
            for p in pairs
        )
    )  # fmt: skip
    copy = pairs[2]
    frozen.write_text(
        json.dumps(
            {
                "id": "eval-copy",
                "prompt": _cyrillic_a(copy["prompt"]) + ZWSP,
                "response_a": copy["b"].upper() + ".",
                "response_b": _fullwidth(copy["a"]),
            }
        )
        + "\n"
    )
    assert run_cli(sqlite_url, "ingest", str(train), "--dataset", "d").exit_code == 0
    made = run_cli(sqlite_url, "ingest", str(frozen), "--dataset", "held", "--frozen-eval")
    assert made.exit_code == 0, made.output
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        "".join(json.dumps({"pair_id": p["id"], "annotator": "g", "label": "A"}) + "\n"
                for p in pairs)
    )  # fmt: skip
    assert run_cli(sqlite_url, "labels", "import", str(gold), "--kind", "gold").exit_code == 0
    refused = run_cli(
        sqlite_url, "release", "--dataset", "d", "--name", "v1", "--out", str(tmp_path / "v1"),
        "--min-agreement-items", "0",
    )  # fmt: skip
    assert refused.exit_code == 1
    assert "evaluation_leakage" in refused.output
    assert f"{copy['id']}: closest frozen pair eval-copy of held (similarity 1.0)" in (
        refused.output
    )
    out = tmp_path / "train-dpo.jsonl"
    exported = run_cli(sqlite_url, "export", "--dataset", "d", "--format", "dpo", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert copy["prompt"][:40] not in out.read_text(encoding="utf-8")
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(pairs) - 1
