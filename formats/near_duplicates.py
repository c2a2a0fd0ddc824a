# ruff: noqa: RUF001, RUF002, RUF003  (this module is about lookalike letters)
"""Near-duplicate evaluation leakage: a training pair that is a lightly edited frozen pair.

Equality of texts is dodged by a zero-width space, fullwidth letters, upper case, a trailing
period or one Cyrillic ``а``. Contamination checks in the field compare *normalised* text by
n-gram overlap, and so does this module:

1. **Fold** each text (:func:`fold`): Unicode NFKC (fullwidth and compatibility forms to their
   plain letters), case-fold, fold confusable Cyrillic and Greek letters to the Latin letter
   they look like (``а`` -> ``a``, ``ο`` -> ``o``; :data:`CONFUSABLES`), drop format characters
   (zero-width spaces and joiners, BOM, soft hyphen), drop punctuation and symbols, and collapse
   whitespace to one space.
2. **Shingle** the folded text into the *multiset* of its character :data:`NGRAM`-grams (a
   gram's k-th repeat counts as its own shingle, so repeating a pattern more often changes the
   text; a text shorter than :data:`NGRAM` is one shingle), hashed to 64 bits.
3. **Candidates**: each pair gets one MinHash signature (:data:`NUM_PERM` universal hash
   functions ``h_i(x) = (a_i x + b_i) mod (2^31 - 1)``, Broder 1997) of all its shingles, the
   responses unordered; a MinHash LSH index (``datasketch.MinHashLSH``, Leskovec, Rajaraman &
   Ullman, *Mining of Massive Datasets* ch. 3) of every frozen pair's signature returns the
   frozen pairs likely above :data:`LSH_THRESHOLD`. Only the frozen side is held (its folded
   texts compressed, and the index); training pairs stream, so memory does not grow with them.
4. **Decide** on each candidate exactly: with ``J`` the Jaccard similarity
   ``|S ∩ T| / |S ∪ T|`` of two texts' shingle multisets, a training pair is a near-duplicate
   when ``min(J(prompt), max(min(J(a, a'), J(b, b')), min(J(a, b'), J(b, a')))) >=
   THRESHOLD``: the prompt and both responses, in the better of the two orders, each at least
   :data:`THRESHOLD` similar. A pair whose folded texts are equal (every edit listed above)
   scores exactly 1.0 and is found by a dictionary lookup before the index.

**Threshold 0.9**, measured on the shared real data: no pair of LLMBar scores above 0.04
against another; in PandaLM and LLMFAO the pairs above 0.9 that are not equal after folding
are different models' near-identical outputs to the same prompt (the same JSON with ``5.2``
for ``5.20``, a list with ``-`` for ``.`` bullets), see docs/releases.md. One substituted
character changes at most ``NGRAM`` shingles, so a text of ~100 characters or more with one
typo still scores >= 0.9.

The closest frozen match (highest score) is reported with its pair id and dataset.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from datasketch import LeanMinHash, MinHashLSH

NGRAM = 5
THRESHOLD = 0.9
NUM_PERM = 64
LSH_THRESHOLD = 0.6  # candidates: a pair at THRESHOLD in each text is well above this whole
# candidates whose estimated whole-pair similarity is below this skip the exact check: a match
# (each text >= THRESHOLD) has whole-pair similarity >= ~THRESHOLD, estimated to within ~0.04
_PREFILTER = 0.7
_SAMPLE_ABOVE = 256  # pairs with more shingles are signed from a hash-chosen quarter of them
_SAMPLE_SHIFT = np.uint64(17)
_SAMPLE_MASK = np.uint64(3)
_PRIME = np.uint64((1 << 31) - 1)  # a Mersenne prime: a x + b < 2^62 never overflows 64 bits
_SHIFT = np.uint64(31)
_BASE = np.uint64(1_000_003)
_REPEAT = np.uint64(0x9E3779B97F4A7C15)  # mixes a shingle's repeat count into its hash
_PROMPT_TAG = np.uint64(0xA5A5A5A5A5A5A5A5)  # prompt shingles never meet response shingles
METHOD = (
    f"NFKC + casefold + confusable-letter fold + zero-width/punctuation/symbol removal; "
    f"candidates from a MinHash LSH index ({NUM_PERM} permutations) of character {NGRAM}-gram "
    f"multisets; match when the prompt and both responses (either order) each have exact "
    f"Jaccard >= {THRESHOLD}"
)

#: Capital Cyrillic and Greek letters -> the Latin capital they look like (folded before
#: case-folding, since e.g. Greek "Η" looks like "H" but its lower case "η" like "n").
UPPER_CONFUSABLES: dict[str, str] = dict(
    zip("АВЕКМНОРСТХУІЈЅΑΒΕΗΙΚΜΝΟΡΤΥΧΖ", "ABEKMHOPCTXYIJSABEHIKMNOPTYXZ", strict=True)
)
#: Lower-case Cyrillic and Greek letters -> the Latin letter they look like.
CONFUSABLES: dict[str, str] = dict(
    zip("авеһіјкмнорсѕтухԁԛԝӏёїαβεηικνορτυχγς", "abehijkmhopcstyxdqwleiabenikvoptuxyc", strict=True)
)
_UPPER = str.maketrans(UPPER_CONFUSABLES)
_DROP = {"Cf", "Cc", "Mn", "Me"}  # format (zero-width), control, combining marks
_KEEP_AS_SPACE = {"Zs", "Zl", "Zp"}

rng = np.random.RandomState(20)
_A = rng.randint(1, (1 << 31) - 1, size=NUM_PERM).astype(np.uint64)
_B = rng.randint(0, (1 << 31) - 1, size=NUM_PERM).astype(np.uint64)
del rng


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding one character (computed once per distinct character)."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        category = unicodedata.category(c)
        if category in _DROP or category[0] in "PS":
            out = ""
        elif category in _KEEP_AS_SPACE or c.isspace():
            out = " "
        else:
            out = CONFUSABLES.get(c, c)
        self[code] = out
        return out


_FOLD = _FoldTable()


def fold(text: str) -> str:
    """The text as compared: NFKC, case-folded, confusables folded, no zero-width characters,
    punctuation or symbols, single spaces, stripped (see the module docstring)."""
    nfkc = unicodedata.normalize("NFKC", text).translate(_UPPER).casefold()
    # decompose once more so accents become combining marks (dropped): "é" and "e" compare equal
    decomposed = unicodedata.normalize("NFD", nfkc)
    return " ".join(decomposed.translate(_FOLD).split())


def shingles(folded: str) -> npt.NDArray[np.uint64]:
    """The multiset of character :data:`NGRAM`-grams of a folded text, as unique 64-bit values.

    Each gram is hashed (polynomial rolling hash) and its k-th repeat is mixed with k, so a text
    repeating a pattern more often has more shingles (``E7 A7 B7`` four times is not three
    times). A text shorter than :data:`NGRAM` is one shingle.
    """
    if not folded:
        return np.zeros(1, dtype=np.uint64)
    points = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(points) < NGRAM:
        points = np.concatenate([points, np.zeros(NGRAM - len(points), dtype=np.uint64)])
    count = len(points) - NGRAM + 1
    hashed: npt.NDArray[np.uint64] = np.zeros(count, dtype=np.uint64)
    for k in range(NGRAM):  # uint64 arithmetic wraps mod 2^64
        hashed = (hashed * _BASE + points[k : k + count]).astype(np.uint64)
    hashed.sort()
    index = np.arange(count, dtype=np.uint64)
    starts = np.ones(count, dtype=bool)
    starts[1:] = hashed[1:] != hashed[:-1]
    repeat = index - np.maximum.accumulate(np.where(starts, index, 0)).astype(np.uint64)
    out: npt.NDArray[np.uint64] = hashed ^ (repeat * _REPEAT)
    return out


def signature(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """The MinHash signature: for each i, ``min over shingles of (a_i x + b_i) mod p``.

    ``p = 2^31 - 1`` and ``x`` is the shingle hash folded to 31 bits, so ``a_i x + b_i < 2^62``
    never overflows and each ``h_i`` is a universal hash of ``x`` (Carter & Wegman 1979).
    """
    x = ((hashes >> _SHIFT) ^ hashes) & _PRIME  # < 2^31, high bits mixed in
    values = x[:, None] * _A[None, :] + _B[None, :]  # < 2^62
    # mod p by Mersenne folding (v & p) + (v >> 31), twice: a value < 2^32 congruent to v mod p,
    # the same for the same x, and much cheaper than numpy's 64-bit %
    values = (values & _PRIME) + (values >> _SHIFT)
    values = (values & _PRIME) + (values >> _SHIFT)
    out: npt.NDArray[np.uint32] = values.min(axis=0).astype(np.uint32)
    return out


def jaccard(x: npt.NDArray[np.uint64], y: npt.NDArray[np.uint64]) -> float:
    """Exact Jaccard similarity of two shingle sets (unique values)."""
    both = len(np.intersect1d(x, y, assume_unique=True))
    return both / (len(x) + len(y) - both)


def pair_score(one: tuple[str, str, str], other: tuple[str, str, str]) -> float:
    """The decision score of two folded pairs: the least similar text, responses in the better
    of the two orders (exact Jaccard of the shingle multisets)."""
    p, a, b = (shingles(t) for t in one)
    q, c, d = (shingles(t) for t in other)
    prompt = jaccard(p, q)
    if prompt < 0.5:  # cheap exit: most candidates differ in the prompt already
        return prompt
    straight = min(jaccard(a, c), jaccard(b, d))
    swapped = min(jaccard(a, d), jaccard(b, c))
    return min(prompt, max(straight, swapped))


@dataclass(frozen=True, slots=True)
class PairSketch:
    """A pair's folded texts, their order-free content key and the whole pair's signature."""

    texts: tuple[str, str, str]
    key: str

    @classmethod
    def of(cls, prompt: str, response_a: str, response_b: str) -> PairSketch:
        """Fold the three texts."""
        texts = (fold(prompt), fold(response_a), fold(response_b))
        first, second = sorted(texts[1:])
        key = hashlib.sha256("\x00".join((texts[0], first, second)).encode()).hexdigest()
        return cls(texts, key)

    def whole(self) -> npt.NDArray[np.uint32]:
        """The MinHash of the whole pair: prompt shingles and both responses' (unordered).

        A long pair is signed from the quarter of its shingles whose hash has two chosen bits
        clear (the same shingles in every text, so the Jaccard estimate stays unbiased for the
        candidate search), which makes signing four times cheaper; the decision is exact.
        """
        prompt = shingles(self.texts[0]) ^ _PROMPT_TAG
        every = np.concatenate([prompt, shingles(self.texts[1]), shingles(self.texts[2])])
        if len(every) > _SAMPLE_ABOVE:
            every = every[(every >> _SAMPLE_SHIFT) & _SAMPLE_MASK == 0]
        return signature(every)

    def packed(self) -> bytes:
        """The folded texts, compressed (what the index keeps of each frozen pair)."""
        return zlib.compress("\x00".join(self.texts).encode("utf-8"), 1)


def _unpack(packed: bytes) -> tuple[str, str, str]:
    prompt, a, b = zlib.decompress(packed).decode("utf-8").split("\x00")
    return prompt, a, b


@dataclass(frozen=True, slots=True)
class Match:
    """A training pair's closest frozen-evaluation pair."""

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


def _lean(whole: npt.NDArray[np.uint32]) -> LeanMinHash:
    """A whole-pair signature as datasketch's LSH takes it (only its hash values are used)."""
    return LeanMinHash(seed=1, hashvalues=whole, scheme="legacy")


class FrozenIndex:
    """Every frozen-evaluation pair, indexed for near-duplicate lookups (see module docstring)."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self._packed: list[bytes] = []
        self._whole: list[npt.NDArray[np.uint32]] = []
        self._names: list[tuple[str, str]] = []
        self._exact: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._packed)

    def add(
        self, pair_id: str, dataset: str, prompt: str, response_a: str, response_b: str
    ) -> None:
        """Index one frozen pair."""
        sketch = PairSketch.of(prompt, response_a, response_b)
        number = len(self._packed)
        self._packed.append(sketch.packed())
        self._names.append((pair_id, dataset))
        self._exact.setdefault(sketch.key, number)
        whole = sketch.whole()
        self._whole.append(whole)
        self._lsh.insert(number, _lean(whole), check_duplication=False)

    def match(self, prompt: str, response_a: str, response_b: str) -> Match | None:
        """The closest frozen pair scoring at least the threshold, or None."""
        if not self._packed:
            return None
        sketch = PairSketch.of(prompt, response_a, response_b)
        exact = self._exact.get(sketch.key)
        if exact is not None:
            return Match(*self._names[exact], 1.0)
        best: tuple[float, int] | None = None
        whole = sketch.whole()
        for number in self._lsh.query(_lean(whole)):
            if np.count_nonzero(self._whole[number] == whole) < _PREFILTER * NUM_PERM:
                continue  # estimated whole-pair similarity far below any match: skip the exact
            score = pair_score(sketch.texts, _unpack(self._packed[number]))
            if score >= self.threshold and (best is None or score > best[0]):
                best = (score, number)
        return None if best is None else Match(*self._names[best[1]], best[0])

    def digest(self) -> str:
        """SHA-256 over the sorted folded-content keys of the indexed pairs."""
        body = "".join(f"{key}\n" for key in sorted(self._exact))
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def describe(self) -> dict[str, Any]:
        """Method, threshold and parameters, for the manifest."""
        return {
            "method": METHOD,
            "threshold": self.threshold,
            "ngram": NGRAM,
            "num_perm": NUM_PERM,
            "lsh_threshold": LSH_THRESHOLD,
            "library": "datasketch.MinHashLSH",
        }


__all__ = [
    "CONFUSABLES",
    "METHOD",
    "NGRAM",
    "NUM_PERM",
    "THRESHOLD",
    "UPPER_CONFUSABLES",
    "FrozenIndex",
    "Match",
    "PairSketch",
    "fold",
    "jaccard",
    "pair_score",
    "shingles",
    "signature",
]
