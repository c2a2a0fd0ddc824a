"""Payment card numbers, IBANs and US Social Security numbers, each with its check rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction.checksums import card_brand, iban_valid, luhn_valid, ssn_valid
from redaction.spans import Span

__all__ = ["NUMERIC_RUN", "CardDetector", "IbanDetector", "SsnDetector"]

# Every card, IBAN, SSN, phone number and IPv4 address contains such a run (seven characters
# of digits and separators, digits at both ends); a text without one is skipped by all of
# them. Most prose has none, and one search is far cheaper than each detector's own scan.
NUMERIC_RUN = re.compile(r"\d[\d \-./()]{5,}\d")

# 12-19 bare digits, or groups printed the way cards are (4-4-4[-4[-3]], Amex 4-6-5, Diners
# 4-6-4) with one separator used throughout; never glued to a longer run of digits, letters
# or dashes (so UUIDs, hashes and dates never contribute a piece).
_CARD = re.compile(
    r"(?<![\w\-.,])"
    r"(?:\d{12,19}"
    r"|\d{4}(?P<s>[ \-])\d{4}(?P=s)\d{4}(?:(?P=s)\d{1,4}(?:(?P=s)\d{1,3})?)?"
    r"|\d{4}(?P<t>[ \-])\d{6}(?P=t)\d{4,5})"
    r"(?![\w\-]|[.,]\d)"
)
_CARD_CONTEXT = re.compile(
    r"(?i)(?:card|visa|maestro|credit|debit|\bcc\b|payment|paid|charged?|pan\b)[^\n]*$"
)


class CardDetector:
    """Payment card numbers: Luhn-valid, a scheme's issuer range and length, usual grouping.

    Separators must be all spaces or all dashes, in a grouping cards are printed in (4-4-4-4,
    Amex 4-6-5, ...), or absent; 12-13 digit numbers (old Visa, Maestro) count only after a
    word such as "card" or "visa", since EAN-13 barcodes look the same. Normalised to the
    bare digits.
    """

    name = "card"
    kind = "CARD"
    priority = 50

    def find(self, text: str) -> Iterator[Span]:
        if not NUMERIC_RUN.search(text):
            return
        for m in _CARD.finditer(text):
            value = m.group(0)
            digits = "".join(c for c in value if c.isdigit())
            if len(set(digits)) < 2 or not luhn_valid(digits) or card_brand(digits) is None:
                continue
            if len(digits) < 14 and not _CARD_CONTEXT.search(
                text, max(0, m.start() - 40), m.start()
            ):
                continue  # 12-13 digits: EAN-13 barcodes far outnumber old Visa and Maestro cards
            yield Span(m.start(), m.end(), self.kind, value, self.name, self.priority, digits)


_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
_IBAN_PREFILTER = re.compile(r"[A-Z]{2}\d{2}")


class IbanDetector:
    """International bank account numbers: the country's length and the mod-97 check.

    Compact (``DE89370400440532013000``) or printed in groups of four. Normalised to the
    compact upper-case form.
    """

    name = "iban"
    kind = "IBAN"
    priority = 55

    def find(self, text: str) -> Iterator[Span]:
        if not NUMERIC_RUN.search(text) or not _IBAN_PREFILTER.search(text):
            return
        for m in _IBAN.finditer(text):
            value = m.group(0)
            compact = value.replace(" ", "")
            if iban_valid(compact):
                yield Span(m.start(), m.end(), self.kind, value, self.name, self.priority, compact)
                continue
            # A trailing word may have been swallowed as a last group: retry without it.
            if " " in value:
                head = value.rsplit(" ", 1)[0]
                if iban_valid(head):
                    yield Span(
                        m.start(),
                        m.start() + len(head),
                        self.kind,
                        head,
                        self.name,
                        self.priority,
                        head.replace(" ", ""),
                    )


_SSN = re.compile(r"(?<![\w\-.])(\d{3})([\- ])(\d{2})\2(\d{4})(?![\w\-]|[.,]\d)")
_SSN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?|soc\.?\s*sec\.?(?:\s*(?:no\.?|#))?)"
    r"\s*(?:is|:|#|=)?\s*[\"']?(\d{9})(?!\d)"
)


class SsnDetector:
    """US Social Security numbers under the SSA rules (no area 000, 666 or 9xx, ...).

    ``123-45-6789`` and ``123 45 6789`` anywhere; nine bare digits only right after "SSN" or
    "social security number". Normalised to the nine digits.
    """

    name = "ssn"
    kind = "SSN"
    priority = 45

    def find(self, text: str) -> Iterator[Span]:
        if not NUMERIC_RUN.search(text):
            return
        for m in _SSN.finditer(text):
            digits = m.group(1) + m.group(3) + m.group(4)
            if ssn_valid(digits):
                yield Span(
                    m.start(), m.end(), self.kind, m.group(0), self.name, self.priority, digits
                )
        lowered = text.lower()
        if "ssn" not in lowered and "soc" not in lowered:
            return
        for m in _SSN_CONTEXT.finditer(text):
            digits = m.group(1)
            if ssn_valid(digits):
                start, end = m.span(1)
                yield Span(start, end, self.kind, digits, self.name, self.priority, digits)
