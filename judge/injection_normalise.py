"""The views of a text the injection patterns are matched against, so disguise does not help.

An attempt to instruct the judge may be dressed up so that no plain pattern sees it: look-alike
letters from other scripts ("Іgnоrе", Cyrillic), zero-width characters inside words, letters
spaced or dotted apart ("I g n o r e"), full-width or mathematical letters, accents or combining
strokes, leetspeak ("1gn0r3"), HTML entities or percent-encoding, ROT13, reversed text, base64
or hex. :func:`views` undoes each of these and returns every resulting view; a pattern that
matches any view flags the text.

- ``base``: NFKC (folds full-width and mathematical letters, ligatures), HTML entities and
  percent-escapes decoded, zero-width and other format characters removed, combining marks
  (accents, strike-through strokes) removed, case folded, runs of white space made one space.
  The patterns for non-Latin scripts match this view.
- ``latin``: ``base`` with look-alike Cyrillic and Greek letters folded to Latin, hyphens and
  dots *inside* words removed ("ig-nore", "i.g.n.o.r.e"), and letter-spaced runs joined back
  into words. The patterns for Latin-script languages match this view and the next ones.
- ``leet``: ``latin`` with digits and symbols read as letters (0→o, 1→i, 3→e, 4→a, 5→s, 7→t, @→a,
  $→s).
- ``rot13`` and ``reversed`` of ``latin``.
- the views of every run that decodes as base64 or hex to readable UTF-8 text (two levels deep).

Each step is linear in the text's length; a 1 MB response takes a fraction of a second.
"""

# ruff: noqa: RUF001, RUF002  (look-alike letters are what this file is about)

from __future__ import annotations

import base64
import binascii
import codecs
import html
import re
import unicodedata
from typing import Final
from urllib.parse import unquote

# Cyrillic and Greek letters that look like Latin ones (Unicode's confusables, lower case).
_CONFUSABLES: Final[dict[int, str]] = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
        "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ɡ": "g", "ո": "n", "ս": "u",
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ı": "i",
        # small capitals (NFKC keeps them)
        "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g", "ʜ": "h", "ɪ": "i",
        "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ǫ": "q", "ʀ": "r",
        "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
    }
)  # fmt: skip
_LEET: Final[dict[int, str]] = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "@": "a", "$": "s",
     "|": "i", "!": "i"}
)  # fmt: skip
_SPACE = re.compile(r"\s+")
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_ENTITY = re.compile(r"&#?\w+;")
# a separator between two letters of one word: "ig-nore", "i.g.n.o.r.e", "in_struc_tions"
_INNER_SEPARATOR = re.compile(r"(?<=[^\W\d_])[\-.·•_*](?=[^\W\d_])")
# two or more of them between letters are a gap between words: "i.g.n.o.r.e..p.r.e.v"
_SEPARATOR_GAP = re.compile(r"(?<=[^\W\d_])[\-.·•_*]{2,}(?=[^\W\d_])")
# four or more single letters apart: "i g n o r e", "i  g  n"; a wider gap separates words
_SPACED_RUN = re.compile(r"(?<!\w)[^\W\d_](?:(?:[ \t]{1,3}|\n)[^\W\d_]){3,}(?!\w)")
_WORD_GAP = re.compile(r"[ \t]{2,}|\n")
_BASE64 = re.compile(r"[A-Za-z0-9+/\-_]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){12,}\b")
_MAX_DECODED = 64  # encoded runs decoded per text (a data URI of an image is one run)


def _strip_marks(text: str) -> str:
    """Remove format characters (zero-width, soft hyphen, bidi controls) and combining marks."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)
    kept = (
        c for c in decomposed if c < "\x80" or unicodedata.category(c) not in ("Cf", "Mn", "Me")
    )
    return unicodedata.normalize("NFC", "".join(kept))


def base_view(text: str, *, collapse: bool = True) -> str:
    """NFKC, entities and escapes decoded, invisible characters and accents gone, case folded;
    runs of white space made one space unless ``collapse`` is false."""
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    if "%" in text and _PERCENT.search(text):
        text = unquote(text)
    text = unicodedata.normalize("NFKC", text)
    text = _strip_marks(text).casefold()
    return _SPACE.sub(" ", text) if collapse else text


def _join_spaced(match: re.Match[str]) -> str:
    return " ".join(part.replace(" ", "").replace("\t", "") for part in _WORD_GAP.split(match[0]))


def latin_view(base: str) -> str:
    """``base`` (white space not yet collapsed: it tells spaced letters' words apart) with
    look-alike letters folded to Latin and split words joined back."""
    text = base.translate(_CONFUSABLES)
    text = _INNER_SEPARATOR.sub("", _SEPARATOR_GAP.sub(" ", text))
    return _SPACE.sub(" ", _SPACED_RUN.sub(_join_spaced, text))


def _readable(raw: bytes) -> str | None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(c.isprintable() or c.isspace() for c in text)
    return text if text and printable >= 0.95 * len(text) else None


def decoded_runs(text: str) -> list[str]:
    """The readable texts hidden in base64 or hex runs of ``text``."""
    found: list[str] = []
    for match in _BASE64.finditer(text):
        if len(found) >= _MAX_DECODED:
            break
        run = match[0]
        if run.isalpha() and (run.islower() or run.isupper()):
            continue  # a long word, not an encoding
        try:
            raw = base64.b64decode(run + "=" * (-len(run) % 4), altchars=b"-_")
        except (binascii.Error, ValueError):
            continue
        decoded = _readable(raw)
        if decoded is not None:
            found.append(decoded)
    for match in _HEX.finditer(text):
        if len(found) >= _MAX_DECODED:
            break
        try:
            raw = bytes.fromhex(re.sub(r"[ :]", "", match[0]))
        except ValueError:
            continue
        decoded = _readable(raw)
        if decoded is not None:
            found.append(decoded)
    return found


def views(text: str, *, depth: int = 2) -> tuple[list[str], list[str]]:
    """``(base views, latin views)`` of ``text`` (see the module docstring)."""
    spaced = base_view(text, collapse=False)
    base = _SPACE.sub(" ", spaced)
    latin = latin_view(spaced)
    bases = [base]
    latins = [latin, latin.translate(_LEET), codecs.decode(latin, "rot13"), latin[::-1]]
    if depth > 0:
        for decoded in decoded_runs(text):
            more_bases, more_latins = views(decoded, depth=depth - 1)
            bases += more_bases
            latins += more_latins
    return bases, latins


__all__ = ["base_view", "decoded_runs", "latin_view", "views"]
