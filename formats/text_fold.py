# ruff: noqa: RUF001, RUF002, RUF003  (this module is about lookalike letters)
"""Text folding for near-duplicate comparison: what of a text counts as its content.

:func:`fold` undoes every edit that changes how a text looks but not what it says:

1. **Letters**: HTML character references unescaped (``&amp;``), Unicode NFKC (fullwidth,
   mathematical, circled and other compatibility letters and digits, ligatures, to their plain
   forms), capital and small Cyrillic, Greek and Latin-extension letters that look like Latin
   ones folded to that letter (``а`` -> ``a``; :data:`UPPER_CONFUSABLES`,
   :data:`CONFUSABLES`), case-folded, accents removed (NFD, then combining marks dropped),
   format characters dropped (zero-width spaces and joiners, word joiner, BOM, soft hyphen,
   direction marks).
2. **Markup** (:func:`strip_markup`): tokenizer artefacts a model left in its output (``</s>``,
   ``<s>``, ``<|endoftext|>``, ``<|im_end|>``, ``[INST]``, ``<pad>`` ...), HTML line breaks,
   markdown code-fence markers with their language tag (```` ```python ````), trailing
   punctuation, and list numbers (``1.``, ``2)``) that start or continue a run 1, 2, 3 ...,
   wherever they are (a re-wrapped list keeps them inside a line); other numbers stay.
3. **Punctuation**: apostrophes dropped (``don't`` = ``dont``), other punctuation (bullets,
   heading ``#``, emphasis, block quotes, table bars), symbols (emoji included) and control
   characters made spaces, whitespace collapsed to one space.

:func:`words` is the folded text's words; :func:`canonical` the folded text without any
whitespace (a key that added, removed or moved spaces and line breaks do not change).
Known limit: a list numbered from another start than 1 (``2.``, ``3.`` ...) keeps its numbers,
so turning it into bullets changes one word per item.
"""

from __future__ import annotations

import html
import re
import unicodedata

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
#: Tokenizer and chat-template artefacts (special tokens a model printed), HTML line breaks.
ARTEFACTS = re.compile(
    r"<\|[^|<>\n]{1,40}\|>"  # <|endoftext|> <|im_end|> <|eot_id|> <|assistant|> ...
    r"|</?(?:s|pad|unk|eos|bos|mask|sep|cls|eot|start_of_turn|end_of_turn)>"
    r"|\[/?(?:INST|SYS|CLS|SEP|PAD|UNK|MASK)\]|<</?SYS>>"
    r"|<(?:br|hr)\s*/?>",
    re.IGNORECASE,
)
#: Markdown code-fence markers with the language tag attached (```` ```python ````).
FENCE = re.compile(r"(?:`{3,}|~{3,})[\w+#.-]*")
#: A list number: ``1.`` or ``2)`` after a space or markdown emphasis or heading marks, before
#: a space or a letter (``1.Intro``).
#: Removed when it starts (1) or continues (previous + 1) a run of them, wherever it is (a
#: list re-wrapped into one line keeps its numbers inside the line; line breaks do not
#: matter); any other number stays (``= 6. 6 + 5``, ``-1, 0, 1, 2, 3, 4. Any``, ``is 4.``).
NUMBERING = re.compile(r"(?<![^\s*_#>])(\d{1,3})[.)](?=\s|[^\W\d_])")
_LIST_NUMBER_HINT = re.compile(r"\d[.)]")

_UPPER = str.maketrans(UPPER_CONFUSABLES)
_APOSTROPHES = "'’‘`´ʼ"


class _LetterTable(dict[int, str]):
    """``str.translate`` table for letters: format characters (zero-width) and combining marks
    dropped, lookalike letters folded (computed once per distinct character)."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        out = "" if unicodedata.category(c) in {"Cf", "Mn", "Me"} else CONFUSABLES.get(c, c)
        self[code] = out
        return out


class _SpaceTable(dict[int, str]):
    """``str.translate`` table for the rest: apostrophes dropped, punctuation, symbols, control
    characters and whitespace made spaces."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        category = unicodedata.category(c)
        if c in _APOSTROPHES:
            out = ""
        elif c.isspace() or category[0] in "PSZ" or category == "Cc":
            out = " "
        else:
            out = c
        self[code] = out
        return out


_LETTERS = _LetterTable()
_SPACES = _SpaceTable()


def _strip_end(text: str) -> str:
    """``text`` without trailing whitespace, punctuation, symbols or control characters (so
    ``is 4.`` + ``\\n.`` or an emoji still ends in the number)."""
    end = len(text)
    while end and unicodedata.category(text[end - 1])[0] in "PSZC":
        end -= 1
    return text[:end]


def strip_numbering(text: str) -> str:
    """``text`` without list numbers (:data:`NUMBERING`): each ``N.`` or ``N)`` with N = 1 or
    N = the previous removed number + 1."""
    last = 0

    def drop(match: re.Match[str]) -> str:
        nonlocal last
        number = int(match.group(1))
        if number not in (1, last + 1):
            return match.group(0)
        last = number
        return " "

    return NUMBERING.sub(drop, text)


def strip_markup(text: str) -> str:
    """``text`` without tokenizer artefacts, HTML line breaks, code-fence markers (with their
    language tag) or list numbers (:func:`strip_numbering`), nor trailing punctuation;
    everything else kept."""
    if "<" in text or "[" in text:
        text = ARTEFACTS.sub(" ", text)
    if "``" in text or "~~" in text:
        text = FENCE.sub(" ", text)
    text = _strip_end(text)
    return strip_numbering(text) if _LIST_NUMBER_HINT.search(text) else text


def _letters(text: str) -> str:
    """NFKC, lookalike capitals folded, case-folded, NFD with marks and format characters
    dropped and lookalike small letters folded (plain ASCII only needs lower-casing)."""
    if text.isascii():
        return text.lower()
    nfkc = unicodedata.normalize("NFKC", text).translate(_UPPER).casefold()
    # decompose once more so accents become combining marks (dropped): "é" and "e" compare equal
    return unicodedata.normalize("NFD", nfkc).translate(_LETTERS)


def fold(text: str) -> str:
    """The text as compared (module docstring): HTML unescaped, NFKC, case-folded, no accents,
    zero-width characters or apostrophes, confusables folded, markup stripped, punctuation and
    symbols made spaces, single spaces between words."""
    letters = _letters(html.unescape(text))
    return " ".join(strip_markup(letters).translate(_SPACES).split())


def words(text: str) -> tuple[str, ...]:
    """The words of the folded text (:func:`fold` split on spaces)."""
    return tuple(fold(text).split())


def canonical(text: str) -> str:
    """The comparison key of a text: :func:`fold` without any whitespace."""
    return fold(text).replace(" ", "")


__all__ = [
    "ARTEFACTS",
    "CONFUSABLES",
    "UPPER_CONFUSABLES",
    "canonical",
    "fold",
    "strip_markup",
    "words",
]
