# ruff: noqa: RUF002  (the docstring names a lookalike letter)
"""Near-duplicate evaluation leakage: a training pair that is a disguised frozen pair.

Equality of texts is dodged by a zero-width space, fullwidth letters, upper case, a trailing
period, one Cyrillic ``а``, a typo or a word changed in a long answer, markdown re-formatted or
lines re-wrapped. A training pair leaks when, after folding, its prompt and its two responses
(in either order) are each within a small word-level edit distance of a frozen pair's:

1. **Fold** each text (:mod:`formats.text_fold`): tokenizer artefacts (``</s>``,
   ``<|endoftext|>``), code-fence markers with their language tag and list numbering removed;
   HTML entities, NFKC, lookalike letters, case, accents, zero-width characters, punctuation,
   symbols and whitespace normalised. What is left are the words.
2. **Exact path**: an order-free SHA-256 of the three folded texts without whitespace; one
   dictionary lookup, similarity 1.0.
3. **Near path**: a field of ``n`` words may differ by ``n // 50`` words (word-level
   Levenshtein distance: a typo, an inserted, deleted or replaced word each count 1; similarity
   ``1 - changed / n`` >= :data:`THRESHOLD` = 0.98), at most :data:`MAX_EDITS` = 5 over the
   pair; a field under 50 words must be equal. Candidates come from an inverted index of each
   frozen text's smallest word 3-gram hashes (:mod:`formats.shingle_sketch`, sized so that a
   text within budget always shares an entry, so recall is exact); each candidate is verified
   by a banded edit distance (:mod:`formats.word_edits`). Only the frozen side is held; training
   pairs stream, and most stop at the prompt (no frozen prompt within budget).

**Why these numbers** (``python bench/leakage_threshold.py``, every pair of the shared data,
PandaLM, LLMFAO and LLMBar together, 3,557 pairs, 3,000 distinct contents). The closest two
*distinct* pairs differ by one word in a 45-word answer (similarity 0.9778: a ``<bot>`` tag,
``20`` for ``2``); then ``thrilled``/``excited`` in 29 words (0.9655), ``needs``/``need``
in 23 (0.9565), 4 words in 104 (0.9615). So no rule can flag a one-word change in an answer
of 45 words or fewer without flagging real distinct pairs, and the threshold sits just above:
at 0.98 no distinct pair of the shared data is flagged, and every copy altered by a typo, a
word inserted, deleted or replaced in a response of 50 words or more is caught (similarity
>= 0.98); invisible, case, lookalike, markup and layout edits fold away (similarity 1.0).
With 5-gram character Jaccard >= 0.9 (the first attempt) 62 distinct pairs were flagged at
0.905-0.9975 (``</s>`` appended, a code fence removed, ``, Black`` removed, bullets):
artefacts, fences and numbering are now formatting, and ``, Black`` is one word in a 24-word
answer (0.958).

The pairs of the shared data that are equal after folding (PandaLM and LLMFAO repeat pairs
under several ids; LLMFAO answers differ only in whitespace, case, a zero-width space,
``</s>`` or list numbering) are the same content and match each other, by design;
tests/export/test_near_duplicates.py checks that each such match is such a duplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from formats.shingle_sketch import SketchIndex, sketch_size
from formats.text_fold import CONFUSABLES, UPPER_CONFUSABLES, canonical, fold
from formats.word_edits import edits_within

#: A field may differ by one word per this many words (similarity 1 - 1/50 = 0.98).
WORDS_PER_EDIT = 50
#: At most this many words changed over the prompt and both responses together.
MAX_EDITS = 5
THRESHOLD = 1 - 1 / WORDS_PER_EDIT
_FEW = 256  # responses of the frozen pairs with a near prompt checked one by one up to this
METHOD = (
    "fold (tokenizer artefacts, code-fence markers and list numbering removed; HTML unescape, "
    "NFKC, confusable letters, case, accents, zero-width and format characters, punctuation, "
    "symbols and whitespace normalised), then per field (prompt, and both responses in either "
    "order) the word-level Levenshtein distance: a match when every field has similarity "
    f"1 - changed words / words >= {THRESHOLD} (one changed word per {WORDS_PER_EDIT}) and at "
    f"most {MAX_EDITS} words changed in all; candidates from an inverted index of the frozen "
    "texts' smallest word 3-gram hashes (bottom-s sketch)"
)


def field_budget(words: int) -> int:
    """Words a field of ``words`` words may differ by: ``min(MAX_EDITS, words // 50)``."""
    return min(MAX_EDITS, words // WORDS_PER_EDIT)


def pair_similarity(fields: Sequence[tuple[int, int]]) -> float:
    """Inputs: per field (changed words, words of the longer text). Output: the least over
    fields of ``1 - changed / words`` (1.0 for two empty fields)."""
    return min((1.0 - e / n if n else float(e == 0) for e, n in fields), default=1.0)


def _folded_key(folded: tuple[str, str, str]) -> str:
    """SHA-256 of the folded prompt's and responses' keys (:func:`canonical`: no whitespace),
    the responses in either order."""
    prompt, first, second = (f.replace(" ", "") for f in folded)
    a, b = sorted((first, second))
    return hashlib.sha256("\x00".join((prompt, a, b)).encode("utf-8")).hexdigest()


def pair_key(prompt: str, response_a: str, response_b: str) -> str:
    """SHA-256 of the prompt's and the two responses' keys, the responses in either order."""
    return _folded_key((fold(prompt), fold(response_a), fold(response_b)))


@dataclass(frozen=True, slots=True)
class Match:
    """A training pair's closest frozen-evaluation pair."""

    frozen_pair_id: str
    frozen_dataset: str
    similarity: float
    changed_words: int = 0

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON output."""
        return {
            "frozen_pair_id": self.frozen_pair_id,
            "frozen_dataset": self.frozen_dataset,
            "similarity": round(self.similarity, 4),
        }


class _Texts:
    """Distinct folded frozen texts: an id each, exact lookup, near lookup (sketch index)."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.texts: list[str] = []
        self.lengths: list[int] = []
        self.sketches = SketchIndex()

    def add(self, folded: str) -> int:
        """The id of ``folded`` (indexed on first sight)."""
        found = self.ids.get(folded)
        if found is not None:
            return found
        text_id = self.ids[folded] = len(self.texts)
        self.texts.append(folded)
        words = folded.split()
        self.lengths.append(len(words))
        most = field_budget(len(words) + MAX_EDITS)
        if most:
            self.sketches.add(text_id, words, sketch_size(most))
        return text_id

    def near(self, folded: str) -> dict[int, int]:
        """Every indexed text within its field budget of the folded text: id -> changed words."""
        words = folded.split()
        most = field_budget(len(words) + MAX_EDITS)
        if not most:
            exact = self.ids.get(folded)
            return {} if exact is None else {exact: 0}
        return self.near_among(folded, self.sketches.candidates(words, sketch_size(most)))

    def near_among(self, folded: str, ids: Iterable[int]) -> dict[int, int]:
        """The texts of ``ids`` (and the equal one) within their field budget of ``folded``."""
        exact = self.ids.get(folded)
        found = {} if exact is None else {exact: 0}
        words = folded.split()
        for text_id in ids:
            if text_id in found or abs(self.lengths[text_id] - len(words)) > MAX_EDITS:
                continue
            other = self.texts[text_id].split()
            budget = field_budget(max(len(other), len(words)))
            edits = edits_within(other, words, budget) if budget else None
            if edits is not None:
                found[text_id] = edits
        return found

    def length(self, text_id: int) -> int:
        """Words of text ``text_id``."""
        return self.lengths[text_id]


class FrozenIndex:
    """Every frozen-evaluation pair, for near-duplicate lookups (see module docstring)."""

    threshold = THRESHOLD

    def __init__(self) -> None:
        self._keys: dict[str, tuple[str, str]] = {}
        self._pairs: dict[tuple[int, int, int], tuple[str, str]] = {}
        self._texts = _Texts()
        self._by_prompt: dict[int, list[int]] = {}  # prompt text -> its pairs' response texts
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(
        self, pair_id: str, dataset: str, prompt: str, response_a: str, response_b: str
    ) -> None:
        """Index one frozen pair (the first of several with one key is the one reported)."""
        folded = fold(prompt), fold(response_a), fold(response_b)
        self._keys.setdefault(_folded_key(folded), (pair_id, dataset))
        p, a, b = (self._texts.add(f) for f in folded)
        if self._pairs.setdefault((p, min(a, b), max(a, b)), (pair_id, dataset)) == (
            pair_id,
            dataset,
        ):
            self._by_prompt.setdefault(p, []).extend((a, b))
        self._count += 1

    def match(self, prompt: str, response_a: str, response_b: str) -> Match | None:
        """The closest frozen pair within the threshold (either order), or None: equal keys
        first (similarity 1.0), else the near path (module docstring)."""
        if not self._count:
            return None
        folded = fold(prompt), fold(response_a), fold(response_b)
        found = self._keys.get(_folded_key(folded))
        if found is not None:
            return Match(*found, 1.0)
        return self._closest(folded)

    def _closest(self, folded: tuple[str, str, str]) -> Match | None:
        prompts = self._texts.near(folded[0])  # most training pairs stop here
        if not prompts:
            return None
        near = [prompts, *self._responses(prompts, folded[1:])]
        if not near[1] or not near[2]:
            return None
        best: Match | None = None
        for p, e_p in near[0].items():
            for a, e_a in near[1].items():
                for b, e_b in near[2].items():
                    found = self._pairs.get((p, min(a, b), max(a, b)))
                    edits = e_p + e_a + e_b
                    if found is None or edits > MAX_EDITS:
                        continue
                    similarity = pair_similarity(self._sizes(folded, (p, a, b), (e_p, e_a, e_b)))
                    if best is None or similarity > best.similarity:
                        best = Match(*found, similarity, edits)
        return best

    def _responses(self, prompts: dict[int, int], folded: tuple[str, ...]) -> list[dict[int, int]]:
        """Near texts of each response: among the responses of the frozen pairs asking one of
        ``prompts`` when they are few, else from the whole sketch index."""
        ids = [i for p in prompts for i in self._by_prompt.get(p, ())]
        if len(ids) > _FEW:
            return [self._texts.near(text) for text in folded]
        return [self._texts.near_among(text, ids) for text in folded]

    def _sizes(
        self, folded: tuple[str, str, str], ids: tuple[int, int, int], edits: tuple[int, int, int]
    ) -> list[tuple[int, int]]:
        return [
            (e, max(len(text.split()), self._texts.length(i)))
            for text, i, e in zip(folded, ids, edits, strict=True)
        ]

    def digest(self) -> str:
        """SHA-256 over the sorted content keys of the indexed pairs."""
        body = "".join(f"{key}\n" for key in sorted(self._keys))
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Method and threshold, for the manifest."""
        return {"method": METHOD, "threshold": self.threshold, "max_changed_words": MAX_EDITS}


__all__ = [
    "CONFUSABLES",
    "MAX_EDITS",
    "METHOD",
    "THRESHOLD",
    "UPPER_CONFUSABLES",
    "WORDS_PER_EDIT",
    "FrozenIndex",
    "Match",
    "canonical",
    "field_budget",
    "fold",
    "pair_key",
    "pair_similarity",
]
