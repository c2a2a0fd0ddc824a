"""Check digits and validity rules: Luhn (cards), ISO 13616 mod-97 (IBAN), SSA rules (SSN).

All functions are pure and take the value as written; separators are removed first where the
format allows them.
"""

from __future__ import annotations

import math
import re
from collections import Counter

__all__ = [
    "IBAN_LENGTHS",
    "card_brand",
    "iban_valid",
    "luhn_valid",
    "shannon_entropy",
    "ssn_valid",
]


def luhn_valid(number: str) -> bool:
    """Whether the digits of ``number`` (spaces and dashes ignored) pass the Luhn check.

    From the rightmost digit, every second digit is doubled (minus 9 when above 9); the sum of
    all digits must be a multiple of 10 (ISO/IEC 7812-1, annex B).

    >>> luhn_valid("4111 1111 1111 1111"), luhn_valid("4111 1111 1111 1112")
    (True, False)
    """
    digits = [c for c in number if c not in " -"]
    if not digits or not all(c.isascii() and c.isdigit() for c in digits):
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The card scheme an issuer identification number belongs to, or None.

    Only ranges issued to payment schemes count (Visa 4; Mastercard 51-55 and 2221-2720;
    Amex 34, 37; Discover 6011, 644-649, 65; JCB 35 and its older 3088-3349 ranges; Diners
    300-305, 36, 38-39; UnionPay 62, 81; Maestro 50, 56-58, 6304, 6390, 0604, 67), each with
    its lengths, so that a Luhn-valid run of digits that no scheme would issue (1 in 10 random
    numbers passes Luhn) is not called a card.
    """
    n = len(digits)
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= p2 <= 55 or 2221 <= p4 <= 2720) and n == 16:
        return "mastercard"
    if p2 in (34, 37) and n == 15:
        return "amex"
    if (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65) and 16 <= n <= 19:
        return "discover"
    if (p2 == 35 or p4 in _JCB_LEGACY) and 16 <= n <= 19:
        return "jcb"
    if (300 <= p3 <= 305 or p2 in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if p2 in (62, 81) and 16 <= n <= 19:
        return "unionpay"
    if (p2 in (50, 56, 57, 58, 67) or p4 in (6304, 6390, 604)) and 12 <= n <= 19:
        return "maestro"
    return None


# JCB's older ranges (3088-3094, 3096-3102, 3112-3120, 3158-3159, 3337-3349), still printed.
_JCB_LEGACY = frozenset(
    [*range(3088, 3095), *range(3096, 3103), *range(3112, 3121), 3158, 3159, *range(3337, 3350)]
)


# ISO 13616 registry: total IBAN length per country (SWIFT IBAN registry, release 2024).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def iban_valid(iban: str) -> bool:
    """Whether ``iban`` (spaces ignored, any case) has its country's length and mod-97 = 1.

    ISO 13616: move the first four characters to the end, replace each letter by two digits
    (A = 10 ... Z = 35), and the number must leave remainder 1 when divided by 97.

    >>> iban_valid("GB82 WEST 1234 5698 7654 32"), iban_valid("GB82 WEST 1234 5698 7654 33")
    (True, False)
    """
    compact = iban.replace(" ", "").upper()
    if len(compact) < 5 or not compact.isascii() or not compact.isalnum():
        return False
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    remainder = 0
    for c in rearranged:
        if c.isdigit():
            remainder = (remainder * 10 + ord(c) - 48) % 97
        else:
            remainder = (remainder * 100 + ord(c) - 55) % 97
    return remainder == 1


_SSN_SHAPE = re.compile(r"^[0-9]{3}([\- ]?)[0-9]{2}\1[0-9]{4}$")
_ADVERTISED_SSNS = frozenset({"078051120", "219099999"})


def ssn_valid(ssn: str) -> bool:
    """Whether ``ssn`` could be an issued US Social Security number.

    Written ``AAA-GG-SSSS``, ``AAA GG SSSS`` or as nine digits.

    SSA rules: nine digits; area (first three) not 000, 666 or 900-999; group (middle two) not
    00; serial (last four) not 0000. The numbers used in advertising (078-05-1120, 219-09-9999)
    are not issued. ``123-45-6789`` passes these rules (it is the canonical example and is
    redacted like any other).
    """
    if not _SSN_SHAPE.match(ssn):
        return False
    digits = ssn.replace("-", "").replace(" ", "")
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return digits not in _ADVERTISED_SSNS


def shannon_entropy(value: str) -> float:
    """Shannon entropy of the characters of ``value``, in bits per character."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())
