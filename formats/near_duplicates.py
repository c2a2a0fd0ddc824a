# ruff: noqa: RUF001, RUF002, RUF003  (this module is about lookalike letters)
"""Near-duplicate evaluation leakage: a training pair that is a disguised frozen pair.

Equality of texts is dodged by a zero-width space, fullwidth letters, upper case, a trailing
period or one Cyrillic ``а``. This module compares texts after undoing every edit of that kind:

1. **Fold** each text (:func:`fold`): HTML character references unescaped (``&amp;``), Unicode
   NFKC (fullwidth, mathematical, circled and other compatibility letters and digits, ligatures,
   to their plain forms), capital and small Cyrillic, Greek and Latin-extension letters that
   look like Latin ones folded to that letter (``а`` -> ``a``, ``ο`` -> ``o``;
   :data:`UPPER_CONFUSABLES`, :data:`CONFUSABLES`), case-folded, accents removed (NFD, then
   combining marks dropped), format characters dropped (zero-width spaces and joiners, word
   joiner, BOM, soft hyphen, direction marks), control characters, punctuation and symbols
   (emoji included) dropped, whitespace collapsed to one space.
2. **Key** (:func:`canonical`): the folded text without any whitespace, so added, removed or
   changed spaces, tabs and line breaks do not count either.
3. **Decide**: a training pair is a near-duplicate of a frozen pair when its prompt's key
   equals the frozen prompt's and its two responses' keys equal the frozen responses', in
   either order. One dictionary lookup per training pair (an order-free SHA-256 of the three
   keys): the frozen side is held as one digest per pair, training pairs stream, so 1,000,000
   training pairs against 50,000 frozen pairs take about as long as folding them.

**Why equality after folding, not a similarity threshold.** Character 5-gram Jaccard >= 0.9
per text (MinHash LSH for candidates) flagged 62 *distinct* pairs of the shared real data
(PandaLM, LLMFAO): the same prompt and the same first answer, the other answer a different
model's near-identical text: ``</s>`` appended to a 909-character answer (J = 0.98), a code
fence removed, ``, Black`` removed from a product name, a list with ``-`` for ``.`` bullets.
They differ from each other by one word, which is as much as a typo differs, so no threshold
on character or word overlap separates them from a one-typo copy; a threshold above 0.9975
is equality. Every edit of the kind above changes no letter or digit of the folded text, so
equality catches all of them, swapped or not, and flags no pair whose words differ. The pairs
of the shared data that *are* equal after folding (LLMFAO: the same answers but for
whitespace, case, a zero-width space or a trailing period) are the same content and are flagged, by
design; tests/export/test_near_duplicates.py checks that each such pair differs only in
whitespace, punctuation, case or invisible characters.

The match is reported with the frozen pair's id and dataset and similarity 1.0 (equal after
folding).
"""

from __future__ import annotations

import hashlib
import html
import unicodedata
from dataclasses import dataclass
from typing import Any

THRESHOLD = 1.0  # each text of the pair equal to the frozen one after folding
METHOD = (
    "HTML unescape + NFKC + confusable-letter fold + casefold + accent, zero-width/format, "
    "control, punctuation, symbol and whitespace removal; a match when the prompt and both "
    "responses (either order) are equal after that normalisation"
)

#: Capital Cyrillic and Greek letters -> the Latin capital they look like (folded before
#: case-folding, since e.g. Greek "Η" looks like "H" but its lower case "η" like "n").
UPPER_CONFUSABLES: dict[str, str] = dict(
    zip("АВЕКМНОРСТХУІЈЅԌΑΒΕΗΙΚΜΝΟΡΤΥΧΖ", "ABEKMHOPCTXYIJSGABEHIKMNOPTYXZ", strict=True)
)
#: Lower-case Cyrillic, Greek, Armenian and Latin-extension letters -> the Latin letter they
#: look like.
CONFUSABLES: dict[str, str] = dict(
    zip(
        "авеһіјкмнорсѕтухԁԛԝӏёїαβεηικνορτυχγςօսհոɑɡıɩʏ",
        "abehijkmhopcstyxdqwleiabenikvoptuxycouhnagiiy",
        strict=True,
    )
)
_UPPER = str.maketrans(UPPER_CONFUSABLES)
_DROP = {"Cf", "Cc", "Mn", "Me"}  # format (zero-width), control, combining marks
_KEEP_AS_SPACE = {"Zs", "Zl", "Zp"}


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding one character (computed once per distinct character)."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        category = unicodedata.category(c)
        if c.isspace() or category in _KEEP_AS_SPACE:
            out = " "
        elif category in _DROP or category[0] in "PS":
            out = ""
        else:
            out = CONFUSABLES.get(c, c)
        self[code] = out
        return out


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """The text as compared, with single spaces kept: HTML unescaped, NFKC, confusables
    folded, case-folded, no accents, zero-width characters, punctuation or symbols, stripped
    (see the module docstring)."""
    nfkc = unicodedata.normalize("NFKC", html.unescape(text)).translate(_UPPER).casefold()
    # decompose once more so accents become combining marks (dropped): "é" and "e" compare equal
    decomposed = unicodedata.normalize("NFD", nfkc)
    return " ".join(decomposed.translate(_FOLD).split())


def canonical(text: str) -> str:
    """The comparison key of a text: :func:`fold` without any whitespace."""
    return fold(text).replace(" ", "")


def pair_key(prompt: str, response_a: str, response_b: str) -> str:
    """SHA-256 of the prompt's and the two responses' keys, the responses in either order."""
    first, second = sorted((canonical(response_a), canonical(response_b)))
    body = "\x00".join((canonical(prompt), first, second))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Match:
    """A training pair's frozen-evaluation twin."""

    frozen_pair_id: str
    frozen_dataset: str
    similarity: float

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "frozen_pair_id": self.frozen_pair_id,
            "frozen_dataset": self.frozen_dataset,
            "similarity": round(self.similarity, 4),
        }


class FrozenIndex:
    """Every frozen-evaluation pair's key, for near-duplicate lookups (see module docstring)."""

    threshold = THRESHOLD

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, str]] = {}
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(
        self, pair_id: str, dataset: str, prompt: str, response_a: str, response_b: str
    ) -> None:
        """Index one frozen pair (the first of several with one key is the one reported)."""
        self._keys.setdefault(pair_key(prompt, response_a, response_b), (pair_id, dataset))
        self._count += 1

    def match(self, prompt: str, response_a: str, response_b: str) -> Match | None:
        """The frozen pair equal to this one after folding (either order), or None."""
        if not self._keys:
            return None
        found = self._keys.get(pair_key(prompt, response_a, response_b))
        return None if found is None else Match(*found, 1.0)

    def digest(self) -> str:
        """SHA-256 over the sorted content keys of the indexed pairs."""
        body = "".join(f"{key}\n" for key in sorted(self._keys))
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Method and threshold, for the manifest."""
        return {"method": METHOD, "threshold": self.threshold}


__all__ = [
    "CONFUSABLES",
    "METHOD",
    "THRESHOLD",
    "UPPER_CONFUSABLES",
    "FrozenIndex",
    "Match",
    "canonical",
    "fold",
    "pair_key",
]
