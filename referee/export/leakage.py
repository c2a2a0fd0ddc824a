"""Evaluation leakage by content: a training pair whose texts equal a frozen-evaluation pair's.

Ids say nothing about leakage: the same prompt and responses ingested again under new ids into a
training dataset would leak the evaluation set into training. :func:`content_key` identifies a
pair by its texts alone, so a copy is caught whatever its id, dataset or response order.
"""

from __future__ import annotations

import hashlib
import unicodedata

__all__ = ["content_key", "normalise_text"]


def normalise_text(text: str) -> str:
    """NFC form with runs of whitespace folded to one space and the ends stripped.

    Copies of a text often differ only in line endings or trailing blanks; those must not hide
    a duplicate.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


def content_key(prompt: str, response_a: str, response_b: str) -> str:
    """SHA-256 hex digest of the normalised prompt and the two normalised responses, unordered.

    The responses are sorted before hashing, so the same pair shown in the other order (A and B
    swapped) has the same key. Fields are joined with a NUL, which normalised text never holds
    next to whitespace-folded content, so field boundaries cannot be forged by concatenation.
    """
    first, second = sorted((normalise_text(response_a), normalise_text(response_b)))
    body = "\x00".join((normalise_text(prompt), first, second))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()
