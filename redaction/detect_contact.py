"""Email addresses, phone numbers and credentials in URLs."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Sequence

import phonenumbers

from redaction.detect_numbers import NUMERIC_RUN
from redaction.spans import Span

__all__ = [
    "DEFAULT_PHONE_REGIONS",
    "EmailDetector",
    "PhoneDetector",
    "UrlCredentialsDetector",
]

# Top-level domains accepted besides every two-letter (country) code. A closed list keeps
# ``A@B.shape`` (matrix products in code) and ``user@host.local``-style non-addresses out.
_GENERIC_TLDS = frozenset(
    {
        "com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "name", "pro", "mobi",
        "aero", "asia", "coop", "jobs", "museum", "tel", "travel", "app", "dev", "page",
        "cloud", "online", "site", "store", "tech", "website", "xyz", "email", "mail", "life",
        "live", "world", "today", "company", "agency", "business", "solutions", "services",
        "digital", "network", "systems", "group", "global", "media", "news", "blog", "shop",
        "club", "design", "studio", "team", "work", "zone", "center", "academy", "school",
        "university", "health", "care", "finance", "bank", "insurance", "legal", "law",
        "consulting", "partners", "ventures", "capital", "fund", "money", "host", "space",
        "one", "top", "vip", "art", "fun", "link", "click", "sale", "plus", "pub", "social",
        "family", "london", "berlin", "paris", "nyc", "tokyo", "amsterdam", "swiss", "science",
        "engineering", "software", "codes", "tools", "technology",
    }
)  # fmt: skip

_EMAIL = re.compile(
    r"(?<![\w.%+\-@])"
    r"([A-Za-z0-9](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?)"
    r"@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24}|xn--[a-z0-9\-]{2,59}))"
    r"(?![\w\-@]|\.[A-Za-z0-9])"
)
# Local parts that name a service account, not a person (``git@github.com:org/repo``).
_NON_PERSONAL_LOCAL = frozenset({"git"})


class EmailDetector:
    """Email addresses (RFC 5321 dot-atom local parts, a registered-looking domain).

    Normalised to lower case, so ``John.Smith@Example.com`` and ``john.smith@example.com``
    share one pseudonym.
    """

    name = "email"
    kind = "EMAIL"
    priority = 60

    def find(self, text: str) -> Iterator[Span]:
        if "@" not in text:
            return
        for m in _EMAIL.finditer(text):
            local, tld = m.group(1), m.group(3).lower()
            if ".." in local or local.lower() in _NON_PERSONAL_LOCAL:
                continue
            if len(tld) != 2 and tld not in _GENERIC_TLDS and not tld.startswith("xn--"):
                continue
            value = m.group(0)
            yield Span(
                m.start(), m.end(), self.kind, value, self.name, self.priority, value.lower()
            )


# A run of digit groups with phone separators, optionally led by + or 00 or a parenthesised
# area code, optionally followed by an extension. Newlines never join groups.
_PHONE = re.compile(
    r"(?<![\w.+/\-#$€£])(?<!\d:)"
    r"(?P<num>(?:(?:\+|00)[ ]?)?(?:\(\d{1,5}\)[ \-]?)?\d++"
    r"(?:(?:[ \-./]|[ ]?\(0\)[ ]?|[ ]?\(\d{1,5}\)[ ]?)\d++){0,7})"
    r"(?P<ext>[ ]?(?:x|ext\.?|extension|#)[ ]?\d{1,6})?"
    r"(?![\w\-]|[.,:/]\d)"
)
_PHONE_CONTEXT = re.compile(
    r"(?i)(?:phone|tel|telephone|mobile|cell|fax|call|text|whatsapp|sms|contact|number|"
    r"reach|dial|ring|hotline|landline|tél|telefon|handy|móvil|teléfono|celular|電話|☎|📞)"
    r"[^\n\d]{0,25}$"
)
_DATE_LIKE = re.compile(
    r"^(?:\d{4}[\-./]\d{1,2}[\-./]\d{1,2}|\d{1,2}[\-./]\d{1,2}[\-./]\d{2,4}|"
    r"\d{1,2}[\-./]\d{4}|\d{4}[\-/]\d{4})$"
)
_SSN_SHAPE = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_NANP_SHAPE = re.compile(r"^(?:\+?1[ \-.])?(?:\(\d{3}\)\s?|\d{3}[\-.])\d{3}[\-.]\d{4}$")

# A national number with a trunk 0 and an area code set apart: "(0268)-073455", "0113 496 0123".
_TRUNK_SHAPE = re.compile(r"^(?:\(0\d{1,4}\)[ \-]?|0\d{1,4}[ \-/])\d")

DEFAULT_PHONE_REGIONS: tuple[str, ...] = (
    "US", "GB", "DE", "FR", "IT", "ES", "NL", "BE", "CH", "AT", "SE", "PL", "IE", "PT",
    "IN", "BR", "MX", "JP", "AU", "NZ", "ZA", "SG",
)  # fmt: skip


class PhoneNumberDetector:
    """Telephone numbers in international and national formats, checked with libphonenumber.

    A candidate is a run of 7-15 digits in groups joined by phone separators (space, dash,
    dot, slash, parentheses), optionally led by ``+`` or ``00`` and followed by an extension.
    Dates, and runs glued to words, decimals or paths, are not candidates. Then:

    * with ``+`` or ``00``: the number must have a possible length for the country its code
      names (issued or not: the shape says phone number);
    * otherwise it must be valid in one of ``regions`` (national format, trunk prefix and all),
      or merely possible there when it has a trunk ``0`` and a separate area code, or follows
      a word such as "phone", "call" or "tel"; a run of bare digits without separators counts
      only after such a word;
    * the North American shape ``(415) 555-0100`` / ``415-555-0100`` is taken on its shape
      alone, since invented numbers in that shape are still meant as phone numbers.

    Normalised to E.164 (extension dropped), so two spellings of one number share a pseudonym.
    """

    name = "phone"
    kind = "PHONE"
    priority = 40

    def __init__(self, regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> None:
        self.regions = tuple(regions)
        # Regions whose national numbers have no trunk prefix (Italy, Spain, Poland...): there
        # a number without a leading 0 is still national format.
        self._no_trunk = frozenset(
            r for r in self.regions if _national_prefix(r) is None and r not in ("US", "CA")
        )

    def find(self, text: str) -> Iterator[Span]:
        if not NUMERIC_RUN.search(text):
            return
        for m in _PHONE.finditer(text):
            found = self._check(text, m.start(), m.end("num"), m.end())
            if found is not None:
                yield found
                continue
            # The candidate may have joined a phone number to numbers beside it ("in 2019
            # 415-555-0100 2 times"): try it without one or two groups at either end.
            cuts = [i for i in range(m.start(), m.end("num")) if text[i] == " "]
            if not cuts:
                continue
            starts = [m.start()] + [i + 1 for i in cuts[:2]]
            ends = [*cuts[-2:], m.end("num")]
            for span in sorted(
                ((a, b) for a in starts for b in ends if a < b), key=lambda ab: ab[0] - ab[1]
            ):
                if span == (m.start(), m.end("num")):
                    continue
                end = m.end() if span[1] == m.end("num") else span[1]
                found = self._check(text, span[0], span[1], end)
                if found is not None:
                    yield found
                    break

    def _check(self, text: str, start: int, num_end: int, end: int) -> Span | None:
        raw = text[start:num_end]
        if not 7 <= sum(c.isdigit() for c in raw) <= 15:
            return None
        normal = self._normalise(raw, text, start)
        if normal is None:
            return None
        return Span(start, end, self.kind, text[start:end], self.name, self.priority, normal)

    def _normalise(self, raw: str, text: str, start: int) -> str | None:
        """The number's E.164 form when it passes the checks; else, when its writer called it a
        phone right before it, its digits (the same value keeps one form, so one token)."""
        checked = self._checked(raw, text, start)
        if checked is not None or not _named_a_phone(text, start):
            return checked
        stripped = raw.strip()
        if _DATE_LIKE.match(stripped) or any(len(g) == 1 for g in re.findall(r"\d+", stripped)):
            return None  # a date, or "1 2 3 4 5 6 7": no phone number, whatever the word says
        return _called_a_phone(stripped)

    def _checked(self, raw: str, text: str, start: int) -> str | None:
        stripped = raw.strip()
        if _DATE_LIKE.match(stripped):
            return None
        international = stripped.startswith(("+", "00"))
        groups = re.findall(r"\d+", stripped.replace("(0)", ""))
        allowed = 2 if international else 1  # "+33 1 23 45 67 89": a one-digit area code
        if any(len(g) == 1 for g in groups[allowed:]):
            return None  # "1 2 3 4 5 6 7": a list of numbers, not a phone number
        bare = stripped.isdigit()
        candidate = "+" + stripped[2:] if stripped.startswith("00") else stripped
        candidate = candidate.replace("(0)", "")
        if stripped.startswith("00") and (
            not re.match(r"00 ?[1-9]", stripped) or (bare and not _has_context(text, start))
        ):
            return None  # "00.826704" (seconds), "0032496685027" (a barcode) unless called a phone
        if international:
            # "+" and a country code are shape enough: accept any number of a possible length
            # for that country, issued or not.
            number = _parse(candidate, None)
            if number is not None and phonenumbers.is_possible_number(number):
                return _e164(number)
            return None
        context = _has_context(text, start)
        if bare and not context:
            return None  # bare digit runs are ids, timestamps, EANs... unless called a phone
        if (
            # Dotted groups only: accept the ``415.555.0100`` shape, never ``1.2.3.4`` versions.
            "." in stripped
            and not re.search(r"[ \-()/]", stripped)
            and not _NANP_SHAPE.match(stripped)
            and not context
        ):
            return None
        if _SSN_SHAPE.match(stripped):
            return None  # 123-45-6789 is an SSN's shape; the SSN detector decides
        return self._national(stripped, candidate, context)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one detector per redactor, kept for life
    def _national(self, stripped: str, candidate: str, context: bool) -> str | None:
        """E.164 of a national-format candidate, or None (cached: numbers recur in a dataset)."""
        nanp = _NANP_SHAPE.match(stripped) is not None
        trunk = stripped.lstrip("(").startswith("0")
        digits = sum(c.isdigit() for c in stripped)
        if digits > 13 and not context:
            return None  # longer than national numbers are written (an IBAN's or card's digits)
        for region in self.regions:
            if not (context or trunk or nanp or (region in self._no_trunk and digits >= 9)):
                continue  # "2023-000123": valid in the US, but not written like a phone
            if region in ("US", "CA") and not (nanp or context):
                continue
            number = _parse(candidate, region)
            if number is not None and phonenumbers.is_valid_number(number):
                return _e164(number)
        if nanp:
            return "+1" + "".join(c for c in stripped if c.isdigit())[-10:]
        if context or _TRUNK_SHAPE.match(stripped):
            # A national number in a phone's shape ("(0268)-073455", "0113 496 0123") or after
            # a phone word: possible (right length) in one of the regions is enough.
            for region in self.regions:
                number = _parse(candidate, region)
                if number is not None and phonenumbers.is_possible_number(number):
                    return _e164(number)
        return None


PhoneDetector = PhoneNumberDetector


# The word that names the number right before it ("phone 0001441174", "Tel.: 06 12 34 56 78",
# "mobile number is 5550001111"): context enhancement in Presidio's manner, where a context
# word next to a weak match lifts it over the threshold. Here it lifts any 7-15 digit run over
# libphonenumber's checks, since its writer has said what it is.
_NAMED_PHONE = re.compile(
    r"(?i)\b(?:phone|telephone|tel|mobile|cell(?:phone)?|fax|whatsapp|sms)\.?"
    r"(?:\s*(?:number|no\.?|num|nr\.?|#))?(?:\s+(?:is|was|at|on))?\s*[:=\-]?\s*$"
)


def _named_a_phone(text: str, start: int) -> bool:
    return _NAMED_PHONE.search(text, max(0, start - 40), start) is not None


def _called_a_phone(stripped: str) -> str:
    """The normal form of a number its writer called a phone: E.164 when it parses as one,
    else its digits (``+`` kept for an international prefix)."""
    international = stripped.startswith(("+", "00"))
    digits = "".join(c for c in stripped if c.isdigit())
    if stripped.startswith("00"):
        digits = digits[2:]
    number = _parse("+" + digits, None) if international else None
    if number is not None and phonenumbers.is_possible_number(number):
        return _e164(number)
    return ("+" if international else "") + digits


def _has_context(text: str, start: int) -> bool:
    return _PHONE_CONTEXT.search(text, max(0, start - 40), start) is not None


def _national_prefix(region: str) -> str | None:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return None if metadata is None else metadata.national_prefix


def _parse(candidate: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None


def _e164(number: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_URL_CREDENTIALS = re.compile(
    r"(?i)\b[a-z][a-z0-9+.\-]{1,20}://"
    r"(?P<userinfo>[^\s:/?#@\[\]\"'<>]+:[^\s/?#@\"'<>]+)"
    r"@(?:[a-z0-9.\-]+|\[[0-9a-f:.]+\])"
)


class UrlCredentialsDetector:
    """The ``user:password`` part of a URL (``postgresql://app:s3cret@db.internal/prod``).

    Only the user information is replaced, so the reader still sees the scheme and the host.
    """

    name = "url_credentials"
    kind = "URL_CREDENTIALS"
    priority = 75

    def find(self, text: str) -> Iterator[Span]:
        if "://" not in text or "@" not in text:
            return
        for m in _URL_CREDENTIALS.finditer(text):
            start, end = m.span("userinfo")
            value = m.group("userinfo")
            yield Span(start, end, self.kind, value, self.name, self.priority)
