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
2. **Shingle** the folded text into character :data:`NGRAM`-grams (a text shorter than that is
   one shingle), hashed to 64 bits.
3. **MinHash** each text's shingles with :data:`NUM_PERM` universal hash functions
   ``h_i(x) = (a_i x + b_i) mod (2^61 - 1)``; the share of equal minima of two signatures
   estimates the Jaccard similarity ``|S ∩ T| / |S ∪ T|`` of the shingle sets (Broder 1997),
   with standard error ``sqrt(J (1 - J) / NUM_PERM)`` (0.05 at J = 0.8).
4. **Candidates** come from a MinHash LSH index (``datasketch.MinHashLSH``, Leskovec, Rajaraman
   & Ullman, *Mining of Massive Datasets* ch. 3) over the signature of the whole pair (the
   element-wise minimum of the three texts' signatures, the responses unordered), built once
   over every frozen pair; only the training pairs stream, so memory does not grow with them.
5. **Decide**: a candidate is a match when
   ``min(J(prompt), max(min(J(a, a'), J(b, b')), min(J(a, b'), J(b, a')))) >= THRESHOLD``:
   the prompt and both responses, in the better of the two orders, each at least
   :data:`THRESHOLD` similar. A pair whose folded texts are equal (every edit listed above)
   scores exactly 1.0 and is found by a dictionary lookup before the index.

The closest frozen match (highest score) is reported with its pair id and dataset.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from datasketch import LeanMinHash, MinHashLSH

NGRAM = 5
THRESHOLD = 0.8
NUM_PERM = 64
LSH_THRESHOLD = 0.5  # candidate recall: a pair at THRESHOLD per text is far above this whole
_PRIME = np.uint64((1 << 61) - 1)
_MASK32 = np.uint64(0xFFFFFFFF)
_BASE = np.uint64(1_000_003)
METHOD = (
    f"NFKC + casefold + confusable fold + zero-width/punctuation removal, character "
    f"{NGRAM}-gram MinHash ({NUM_PERM} permutations) with LSH candidates; match when the prompt "
    f"and both responses (either order) each have estimated Jaccard >= {THRESHOLD}"
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
_A = rng.randint(1, 1 << 31, size=NUM_PERM).astype(np.uint64)
_B = rng.randint(0, 1 << 31, size=NUM_PERM).astype(np.uint64)
del rng

_fold_cache: dict[str, str] = {}


def _fold_char(c: str) -> str:
    found = _fold_cache.get(c)
    if found is not None:
        return found
    category = unicodedata.category(c)
    if category in _DROP or category[0] in "PS":
        out = ""
    elif category in _KEEP_AS_SPACE or c.isspace():
        out = " "
    else:
        out = CONFUSABLES.get(c, c)
    _fold_cache[c] = out
    return out


def fold(text: str) -> str:
    """The text as compared: NFKC, case-folded, confusables folded, no zero-width characters,
    punctuation or symbols, single spaces, stripped (see the module docstring)."""
    nfkc = unicodedata.normalize("NFKC", text).translate(_UPPER).casefold()
    # decompose once more so accents become combining marks (dropped): "é" and "e" compare equal
    decomposed = unicodedata.normalize("NFD", nfkc)
    return " ".join("".join(_fold_char(c) for c in decomposed).split())


def shingles(folded: str) -> npt.NDArray[np.uint64]:
    """64-bit hashes of the character :data:`NGRAM`-grams of a folded text (unique)."""
    if not folded:
        return np.zeros(1, dtype=np.uint64)
    points = np.frombuffer(folded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(points) < NGRAM:
        points = np.concatenate([points, np.zeros(NGRAM - len(points), dtype=np.uint64)])
    count = len(points) - NGRAM + 1
    hashed: npt.NDArray[np.uint64] = np.zeros(count, dtype=np.uint64)
    for k in range(NGRAM):  # polynomial rolling hash; uint64 arithmetic wraps mod 2^64
        hashed = (hashed * _BASE + points[k : k + count]).astype(np.uint64)
    return np.unique(hashed)


def signature(hashes: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """The MinHash signature: for each i, ``min over shingles of (a_i x + b_i) mod p``, 32 bits.

    ``x`` is the shingle hash's low 32 bits, so ``a_i x + b_i < 2^63`` never overflows.
    """
    low = (hashes & _MASK32)[:, None]
    values = (low * _A[None, :] + _B[None, :]) % _PRIME
    out: npt.NDArray[np.uint32] = (values.min(axis=0) & _MASK32).astype(np.uint32)
    return out


def _similar(x: npt.NDArray[np.uint32], y: npt.NDArray[np.uint32]) -> float:
    return float(np.count_nonzero(x == y)) / NUM_PERM


@dataclass(frozen=True, slots=True)
class PairSketch:
    """A pair's folded key and the signatures of its prompt and two responses."""

    key: str
    prompt: npt.NDArray[np.uint32]
    response_a: npt.NDArray[np.uint32]
    response_b: npt.NDArray[np.uint32]

    @classmethod
    def of(cls, prompt: str, response_a: str, response_b: str) -> PairSketch:
        """Fold, shingle and sign the three texts."""
        texts = [fold(prompt), fold(response_a), fold(response_b)]
        first, second = sorted(texts[1:])
        key = hashlib.sha256("\x00".join((texts[0], first, second)).encode()).hexdigest()
        sig = [signature(shingles(t)) for t in texts]
        return cls(key, sig[0], sig[1], sig[2])

    def whole(self) -> npt.NDArray[np.uint32]:
        """The signature of the whole pair (the union of its texts' shingles)."""
        out: npt.NDArray[np.uint32] = np.minimum(
            self.prompt, np.minimum(self.response_a, self.response_b)
        )
        return out

    def score(self, other: PairSketch) -> float:
        """The decision score: the least similar text, responses in the better order."""
        straight = min(
            _similar(self.response_a, other.response_a), _similar(self.response_b, other.response_b)
        )
        swapped = min(
            _similar(self.response_a, other.response_b), _similar(self.response_b, other.response_a)
        )
        return min(_similar(self.prompt, other.prompt), max(straight, swapped))


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


def _lean(sketch: PairSketch) -> LeanMinHash:
    """The whole-pair signature as datasketch's LSH takes it (only its hash values are used)."""
    return LeanMinHash(seed=1, hashvalues=sketch.whole(), scheme="legacy")


class FrozenIndex:
    """Every frozen-evaluation pair, indexed for near-duplicate lookups (see module docstring)."""

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self._sketches: list[PairSketch] = []
        self._names: list[tuple[str, str]] = []
        self._exact: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._sketches)

    def add(
        self, pair_id: str, dataset: str, prompt: str, response_a: str, response_b: str
    ) -> None:
        """Index one frozen pair."""
        sketch = PairSketch.of(prompt, response_a, response_b)
        number = len(self._sketches)
        self._sketches.append(sketch)
        self._names.append((pair_id, dataset))
        self._exact.setdefault(sketch.key, number)
        self._lsh.insert(
            number,
            LeanMinHash(seed=1, hashvalues=sketch.whole(), scheme="legacy"),
            check_duplication=False,
        )

    def match(self, prompt: str, response_a: str, response_b: str) -> Match | None:
        """The closest frozen pair scoring at least the threshold, or None."""
        if not self._sketches:
            return None
        sketch = PairSketch.of(prompt, response_a, response_b)
        exact = self._exact.get(sketch.key)
        if exact is not None:
            return Match(*self._names[exact], 1.0)
        best: tuple[float, int] | None = None
        for number in self._lsh.query(
            LeanMinHash(seed=1, hashvalues=sketch.whole(), scheme="legacy")
        ):
            score = sketch.score(self._sketches[number])
            if score >= self.threshold and (best is None or score > best[0]):
                best = (score, number)
        return None if best is None else Match(*self._names[best[1]], best[0])

    def digest(self) -> str:
        """SHA-256 over the sorted folded-content keys of the indexed pairs."""
        body = "".join(f"{key}\n" for key in sorted(s.key for s in self._sketches))
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
    "shingles",
    "signature",
]
