"""Issue 20: frozen-evaluation copies altered by trivial edits, and by a typo or a changed word
in a long text, markdown or re-wrapped lines, are caught; distinct pairs of the shared real
data are not flagged."""

from __future__ import annotations

import difflib
import json
import re
import textwrap
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from formats.near_duplicates import WORDS_PER_EDIT, FrozenIndex, canonical, fold
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
    "tokenizer artefact": lambda t: t + "</s>",
}
WORD = re.compile(r"(?<!\S)[A-Za-z]{4,}(?=[ \n])")


def _middle_word(text: str) -> tuple[int, int]:
    found = WORD.search(text, len(text) // 2) or WORD.search(text)
    assert found is not None
    return found.start(), found.end()


def _typo(text: str) -> str:
    start, _ = _middle_word(text)
    return text[:start] + text[start + 1] + text[start] + text[start + 2 :]


def _insert_word(text: str) -> str:
    start, _ = _middle_word(text)
    return text[:start] + "really " + text[start:]


def _replace_word(text: str) -> str:
    start, end = _middle_word(text)
    return text[:start] + "something" + text[end:]


def _delete_word(text: str) -> str:
    start, end = _middle_word(text)
    return text[:start] + text[end + 1 :]


def _markdown(text: str) -> str:
    """Bullets numbered, numbers made bullets, a heading mark, the last paragraph a code block
    with a language tag, the first emphasised: no word changed."""
    lines, n = text.split("\n"), 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("- ", "* ")):
            n += 1
            lines[i] = f"{n}. {stripped[2:]}"
        elif re.match(r"\d+\. ", stripped):
            lines[i] = "* " + stripped.split(" ", 1)[1]
    lines[0] = "## **" + lines[0] + "**"
    head, _, last = "\n".join(lines).rpartition("\n\n")
    return f"{head}\n\n```python\n{last}\n```" if head else "\n".join(lines)


def _rewrap(text: str) -> str:
    return "\n\n".join(
        textwrap.fill(part, 50, break_long_words=False, break_on_hyphens=False)
        for part in text.split("\n\n")
    )


#: Edits of one long response that change a word (caught when it has >= 50 words), or only its
#: layout (caught at any length).
WORD_EDITS: dict[str, Callable[[str], str]] = {
    "typo": _typo,
    "word inserted": _insert_word,
    "word replaced": _replace_word,
    "word deleted": _delete_word,
}
LAYOUT_EDITS: dict[str, Callable[[str], str]] = {
    "markdown reformatted": _markdown,
    "re-wrapped lines": _rewrap,
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


def _long_pairs(least: int = 100, count: int = 12) -> list[dict[str, str]]:
    """Shared pairs whose longer response has at least ``least`` words."""
    return [p for p in _pairs("llmbar") if max(len(p["a"].split()), len(p["b"].split())) >= least][
        :count
    ]


def _edit_longer(p: dict[str, str], change: Callable[[str], str]) -> dict[str, str]:
    longer = "a" if len(p["a"].split()) >= len(p["b"].split()) else "b"
    return {**p, longer: change(p[longer])}


@pytest.mark.parametrize("edit", sorted(WORD_EDITS) + sorted(LAYOUT_EDITS))
@pytest.mark.parametrize("swap", [False, True], ids=["same-order", "swapped"])
def test_a_changed_word_markdown_or_rewrapping_in_a_long_response_is_caught(
    edit: str, swap: bool
) -> None:
    pairs = _long_pairs()
    index = FrozenIndex()
    for p in pairs:
        index.add(p["id"], "frozen", p["prompt"], p["a"], p["b"])
    assert len(pairs) >= 10
    for p in pairs:
        copy = _edit_longer(p, {**WORD_EDITS, **LAYOUT_EDITS}[edit])
        assert copy != p
        found = index.match(
            copy["prompt"], *((copy["b"], copy["a"]) if swap else (copy["a"], copy["b"]))
        )
        assert found is not None, (edit, p["id"])
        assert found.frozen_pair_id == p["id"]
        if edit in WORD_EDITS:  # one word of >= 100 changed: 0.98 <= similarity < 1
            assert found.changed_words == 1 and 0.98 <= found.similarity < 1.0
            assert index.match("Another question?", copy["a"], copy["b"]) is None


def test_the_threshold_is_one_changed_word_per_50_words_of_a_field() -> None:
    """A field of 50 words may differ by one word, one of 49 may not; at most 5 in all."""
    long = " ".join(f"word{i}" for i in range(WORDS_PER_EDIT))
    short = " ".join(f"word{i}" for i in range(WORDS_PER_EDIT - 1))
    index = FrozenIndex()
    index.add("p50", "frozen", "Question one?", long, "No.")
    index.add("p49", "frozen", "Question two?", short, "No.")
    found = index.match("Question one?", long.replace("word7", "wrod7"), "No.")
    assert found is not None and found.frozen_pair_id == "p50"
    assert found.similarity == pytest.approx(0.98) and found.changed_words == 1
    assert index.match("Question one?", long.replace("word7 ", ""), "No.") is not None
    assert index.match("Question two?", short.replace("word7", "wrod7"), "No.") is None
    assert index.match("Question one?", long, "Yes.") is None  # a short answer: equal or not
    long300 = " ".join(f"w{i}" for i in range(300))
    index.add("p300", "frozen", "Question three?", long300, "No.")
    five = long300.replace("w1 ", "x1 ").replace("w3 ", "x3 ").replace("w5 ", "x5 ")
    five = five.replace("w7 ", "x7 ").replace("w9 ", "x9 ")
    assert index.match("Question three?", five, "No.").changed_words == 5  # type: ignore[union-attr]
    assert index.match("Question three?", five.replace("w11 ", "x11 "), "No.") is None


def test_folding_undoes_each_edit_and_keeps_words_apart() -> None:
    text = "Paris is the capital."
    for name, change in EDITS.items():
        assert fold(change(text)) == fold(text) == "paris is the capital", name
    assert fold("A\u00a0B\u2014C") == "a b c"  # no-break space and em dash separate words
    assert fold("e\u0301t\u00e9") == "ete"  # combining and precomposed accents
    assert fold("\u039f\u03bf") == "oo"  # Greek capital and small omicron
    assert fold("don\u2019t") == fold("don't") == "dont"
    assert canonical("a b\n\tc") == "abc"


def test_folding_strips_tokenizer_artefacts_and_markdown_but_keeps_numbers() -> None:
    plain = "Steps:\nboil water\nadd pasta"
    assert fold("Steps:\n1. boil water\n2. add pasta</s>") == fold(plain)
    assert fold("Steps:\n- boil water\n- add pasta<|endoftext|>") == fold(plain)
    assert fold("Steps: 1. boil water 2. add pasta") == fold(plain)  # a re-wrapped list
    assert fold("```python\nprint(1)\n```") == fold("print(1)") == "print 1"
    assert fold("## **Steps**") == "steps"
    assert fold("The answer is 42.") == "the answer is 42"
    assert fold("11 - 1 = 10. 10 apples") == "11 1 10 10 apples"


def test_a_different_word_in_a_short_text_is_a_different_pair() -> None:
    """What the shared data's distinct pairs differ by (one word of 45 or fewer, 'needs' for
    'need', '2' for '20'): never a match; a model's end-of-text tag is formatting."""
    p = _pairs("pandalm")[0]
    assert len(p["a"].split()) < 45
    index = FrozenIndex()
    index.add(p["id"], "frozen", p["prompt"], p["a"], p["b"])
    assert index.match(p["prompt"], p["a"] + "</s>", p["b"]) is not None
    assert index.match(p["prompt"], _replace_word(p["a"]), p["b"]) is None
    assert index.match(p["prompt"], _typo(p["a"]), p["b"]) is None
    assert index.match(p["prompt"], p["a"], "Something else entirely.") is None
    assert index.match("Another question?", p["a"], p["b"]) is None


#: What the fold counts as formatting, removed before the independent check below: end-of-text
#: tokens, code fences, list numbers (also inside a line: "1. Earth 2. Mars" is "Earth, Mars").
MARKUP = re.compile(r"</?s>|<\|[a-z_]+\|>|```\w*|(?<![^\s*_#>])\d{1,3}[.)](?=\s)")


def _invisible_difference(x: str, y: str) -> bool:
    """Whether ``x`` and ``y`` differ only in whitespace, punctuation, symbols, case,
    invisible characters or markup (an independent check: difflib on the raw texts, NFKC and
    :data:`MARKUP` removed only)."""
    x, y = (unicodedata.normalize("NFKC", MARKUP.sub(" ", t)).casefold() for t in (x, y))
    matcher = difflib.SequenceMatcher(None, x, y, autojunk=False)

    def visible(segment: str) -> str:
        return "".join(c for c in segment if unicodedata.category(c)[0] not in "ZPSC")

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


def _frozen_copies(
    pairs: list[dict[str, str]],
) -> tuple[FrozenIndex, dict[str, dict[str, str]], set[str]]:
    """Copies of every 7th pair, each altered by one edit (every other one swapped): the index,
    the copied pairs, and those whose copy must be caught (a word edit only in >= 50 words)."""
    everywhere = list({**EDITS, **MORE_EDITS}.values())
    longer = list({**WORD_EDITS, **LAYOUT_EDITS}.items())
    index, copied, catchable = FrozenIndex(), {}, set()
    for n, p in enumerate(pairs[::7]):
        if n % 3:
            change = everywhere[n % len(everywhere)]
            copy = {"prompt": change(p["prompt"]), "a": change(p["a"]), "b": change(p["b"])}
            catchable.add(p["id"])
        else:
            name, change = longer[n // 3 % len(longer)]
            if not WORD.search(p["a"]) or not WORD.search(p["b"]):
                continue
            copy = _edit_longer(p, change)
            if name in LAYOUT_EDITS or max(len(fold(p[k]).split()) for k in "ab") >= 51:
                catchable.add(p["id"])
        a, b = (copy["b"], copy["a"]) if n % 2 else (copy["a"], copy["b"])
        index.add(p["id"], "frozen", copy["prompt"], a, b)
        copied[p["id"]] = p
    return index, copied, catchable


def test_every_shared_pair_as_training_data_flags_only_altered_copies_and_their_twins() -> None:
    """Every pair of LLMBar, PandaLM and LLMFAO is training data; frozen copies of every 7th,
    altered by one of the edits above, are the evaluation set. Every copy is caught (word
    edits: when the edited response has 50 words or more), and every other flagged pair has the
    same content as the copied one (it differs only in whitespace, punctuation, case, invisible
    characters or markup: a duplicate inside the data); no distinct pair is flagged."""
    pairs = _pairs("llmbar") + _pairs("pandalm") + _pairs("llmfao")
    index, copied, catchable = _frozen_copies(pairs)
    caught, twins, near, alarms = set(), 0, 0, []
    for p in pairs:
        found = index.match(p["prompt"], p["a"], p["b"])
        if found is None:
            continue
        if p["id"] in copied:
            caught.add(p["id"])  # by its own copy, or by an earlier copy of its twin
        if found.frozen_pair_id == p["id"]:
            near += found.similarity < 1.0
            continue
        if _same_content(p, copied[found.frozen_pair_id]):
            twins += 1  # a duplicate inside the shared data (see docs/export.md)
        else:
            alarms.append((p["id"], found.frozen_pair_id, found.similarity))
    assert alarms == []  # no distinct pair flagged
    assert catchable <= caught  # every altered copy caught
    assert len(catchable) > 400 and near > 50, (len(catchable), near)  # near: similarity < 1
    assert twins > 0  # LLMFAO does hold answers equal but for whitespace or case


def _frozen_rows(copy: dict[str, str], long: dict[str, str]) -> str:
    """Two frozen copies: ``copy`` with the issue's edits, ``long`` with a typo and a word
    inserted in its longer response, re-wrapped and re-formatted as markdown, swapped."""
    edited = _edit_longer(long, lambda t: _markdown(_rewrap(_insert_word(_typo(t)))))
    rows = [
        {
            "id": "eval-copy",
            "prompt": _cyrillic_a(copy["prompt"]) + ZWSP,
            "response_a": copy["b"].upper() + ".",
            "response_b": _fullwidth(copy["a"]),
        },
        {"id": "eval-typo", "prompt": long["prompt"], "response_a": edited["b"],
         "response_b": edited["a"]},
    ]  # fmt: skip
    return "".join(json.dumps(row) + "\n" for row in rows)


def test_the_release_gate_catches_edited_frozen_copies_through_the_cli(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    long = _long_pairs(least=150, count=1)[0]
    pairs = [*_pairs("llmbar")[:5], long]
    train, frozen = tmp_path / "train.jsonl", tmp_path / "frozen.jsonl"
    train.write_text(
        "".join(
            json.dumps({"id": p["id"], "prompt": p["prompt"], "response_a": p["a"],
                        "response_b": p["b"]}) + "\n"
            for p in pairs
        )
    )  # fmt: skip
    copy = pairs[2]
    frozen.write_text(_frozen_rows(copy, long))
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
    assert "evaluation_leakage" in refused.output and "2 labeled pair(s)" in refused.output
    assert "threshold 0.98" in refused.output
    assert f"{copy['id']}: closest frozen pair eval-copy of held (similarity 1.0)" in (
        refused.output
    )
    typo = re.search(
        rf"{long['id']}: closest frozen pair eval-typo of held \(similarity (0\.\d+)\)",
        refused.output,
    )
    assert typo is not None and 0.98 <= float(typo.group(1)) < 1.0, refused.output
    out = tmp_path / "train-dpo.jsonl"
    exported = run_cli(sqlite_url, "export", "--dataset", "d", "--format", "dpo", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    assert copy["prompt"][:40] not in out.read_text(encoding="utf-8")
    assert long["prompt"][:40] not in out.read_text(encoding="utf-8")
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(pairs) - 2
