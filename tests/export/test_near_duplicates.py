"""Issue 20: frozen-evaluation copies altered by trivial edits are caught; distinct pairs of
the shared real data are not flagged."""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from formats.near_duplicates import FrozenIndex, canonical, fold
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


def _replace_first(text: str, old: str, new: str) -> str:
    return text.replace(old, new, 1)


#: The edits the issue lists.
EDITS: dict[str, Callable[[str], str]] = {
    "zero-width space": lambda t: t[: len(t) // 2] + ZWSP + t[len(t) // 2 :],
    "fullwidth": _fullwidth,
    "upper case": str.upper,
    "trailing period": lambda t: t + ".",
    "one Cyrillic a": _cyrillic_a,
}
#: More edits of the same kind (invisible, typographic or lookalike; no letter changed).
MORE_EDITS: dict[str, Callable[[str], str]] = {
    "no-break spaces": lambda t: t.replace(" ", "\u00a0"),
    "double spaces and a tab": lambda t: t.replace(" ", "  ", 3).replace(" ", "\t", 1),
    "CRLF and trailing newline": lambda t: t.replace("\n", "\r\n") + "\n",
    "smart quotes": lambda t: t.replace('"', "\u201c").replace("'", "\u2019"),
    "soft hyphen and word joiner": lambda t: t[:5] + "\u00ad" + t[5:9] + "\u2060" + t[9:],
    "Greek omicron": lambda t: _replace_first(t, "o", "\u03bf"),
    "mathematical bold": lambda t: "".join(
        chr(0x1D41A + ord(c) - 97) if "a" <= c <= "z" else c for c in t
    ),
    "title case": str.title,
    "combining accent": lambda t: _replace_first(t, "e", "e\u0301"),
    "HTML entities": lambda t: t.replace("&", "&amp;").replace(" ", "&nbsp;", 2),
    "space removed after a period": lambda t: t.replace(". ", ".", 1),
    "emoji appended": lambda t: t + " \U0001f642",
}


@pytest.mark.parametrize("edit", sorted(EDITS) + sorted(MORE_EDITS))
@pytest.mark.parametrize("swap", [False, True], ids=["same-order", "swapped"])
def test_each_edit_is_caught_in_either_order(edit: str, swap: bool) -> None:
    pairs = _pairs("llmbar")[:40]
    index = FrozenIndex()
    for p in pairs:
        index.add(p["id"], "frozen", p["prompt"], p["a"], p["b"])
    change = {**EDITS, **MORE_EDITS}[edit]
    edited = 0
    for p in pairs:
        a, b = change(p["a"]), change(p["b"])
        edited += (change(p["prompt"]), a, b) != (p["prompt"], p["a"], p["b"])
        found = index.match(change(p["prompt"]), *((b, a) if swap else (a, b)))
        assert found is not None, (edit, p["id"])
        assert found.frozen_pair_id == p["id"] and found.similarity == 1.0
    assert edited >= 10  # really edited


def test_folding_undoes_each_edit_and_keeps_words_apart() -> None:
    text = "Paris is the capital."
    for name, change in EDITS.items():
        assert fold(change(text)) == fold(text) == "paris is the capital", name
    assert fold("A\u00a0B\u2014C") == "a bc"  # no-break space is a space, an em dash goes
    assert fold("e\u0301t\u00e9") == "ete"  # combining and precomposed accents
    assert fold("\u039f\u03bf") == "oo"  # Greek capital and small omicron
    assert canonical("a b\n\tc") == "abc"


def test_a_different_word_is_a_different_pair() -> None:
    """What the shared data's distinct pairs differ by (one word, a model's end-of-text tag):
    never a match, however long the texts."""
    p = max(_pairs("llmbar")[:100], key=lambda r: min(len(r["a"]), len(r["b"])))
    index = FrozenIndex()
    index.add(p["id"], "frozen", p["prompt"], p["a"], p["b"])
    assert index.match(p["prompt"], p["a"] + "</s>", p["b"]) is None
    assert index.match(p["prompt"], p["a"][:50] + "x" + p["a"][51:], p["b"]) is None
    assert index.match(p["prompt"], p["a"], "Something else entirely.") is None
    assert index.match("Another question?", p["a"], p["b"]) is None


def _invisible_difference(x: str, y: str) -> bool:
    """Whether ``x`` and ``y`` differ only in whitespace, punctuation, symbols, case or
    invisible characters (an independent check: difflib on the raw texts, NFKC only)."""
    x, y = unicodedata.normalize("NFKC", x), unicodedata.normalize("NFKC", y)
    matcher = difflib.SequenceMatcher(None, x, y, autojunk=False)

    def visible(segment: str) -> str:
        return "".join(c for c in segment if unicodedata.category(c)[0] not in "ZPSC").lower()

    return all(
        visible(x[i1:i2]) == visible(y[j1:j2]) for _, i1, i2, j1, j2 in matcher.get_opcodes()
    )


def _same_content(p: dict[str, str], q: dict[str, str]) -> bool:
    if not _invisible_difference(p["prompt"], q["prompt"]):
        return False
    straight = _invisible_difference(p["a"], q["a"]) and _invisible_difference(p["b"], q["b"])
    return straight or (
        _invisible_difference(p["a"], q["b"]) and _invisible_difference(p["b"], q["a"])
    )


def test_every_shared_pair_as_training_data_flags_only_altered_copies_and_their_twins() -> None:
    """Every pair of LLMBar, PandaLM and LLMFAO is training data; frozen copies of every 7th,
    each altered by one of the edits above, are the evaluation set. Every copy catches its
    pair, and every other flagged pair has the same content as the copied one (it differs only
    in whitespace, punctuation, case or invisible characters: a duplicate inside the data)."""
    pairs = _pairs("llmbar") + _pairs("pandalm") + _pairs("llmfao")
    edits = list({**EDITS, **MORE_EDITS}.values())
    index = FrozenIndex()
    sample = pairs[::7]
    for n, p in enumerate(sample):
        change = edits[n % len(edits)]
        a, b = change(p["a"]), change(p["b"])
        index.add(p["id"], "frozen", change(p["prompt"]), *((b, a) if n % 2 else (a, b)))
    copied = {p["id"]: p for p in sample}
    caught, twins, alarms = set(), 0, []
    for p in pairs:
        found = index.match(p["prompt"], p["a"], p["b"])
        if found is None:
            continue
        if p["id"] in copied:
            caught.add(p["id"])  # by its own copy, or by an earlier copy of its twin
        if found.frozen_pair_id == p["id"]:
            continue
        if _same_content(p, copied[found.frozen_pair_id]):
            twins += 1  # a duplicate inside the shared data (see docs/export.md)
        else:
            alarms.append((p["id"], found.frozen_pair_id))
    assert caught == set(copied)  # every altered copy caught
    assert alarms == []  # no distinct pair flagged
    assert twins > 0  # LLMFAO does hold answers equal but for whitespace or case


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
