"""IPv4 and IPv6 addresses, validated with :mod:`ipaddress`."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from redaction.detect_numbers import NUMERIC_RUN
from redaction.spans import Span

__all__ = ["IpAddressDetector"]

_IPV4 = re.compile(r"(?<![\w.\-])(?:\d{1,3}\.){3}\d{1,3}(?![\w\-]|\.\d)")
# Hex groups joined by colons (at least two), an optional embedded IPv4 tail; brackets and
# ports around it are left out of the span by the surrounding look-arounds.
_IPV6 = re.compile(
    r"(?<![\w:.\-])"
    r"(?:[0-9A-Fa-f]{1,4}:|:)(?::|[0-9A-Fa-f]{1,4}:){1,7}"
    r"(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![\w:\-]|\.\w)"
)
# Words right before a dotted quad that make it a version, not an address.
_VERSION_BEFORE = re.compile(
    r"(?i)(?:\bv|\bversions?|\bver\.?|\breleases?|\bbuild|\bpython|\bnode|\bupgrad\w*|"
    r"\bupdat\w*|(?:\b|_)tag|\bpatch|\bfirmware|\bkernel|\bsdk|==|>=|<=|~=|\^|@)"
    r"(?:[ \t]*(?:notes|number|no\.|to|from|is|was|of|=|:)){0,2}[ \t]*[:=]?[ \t]*$"
)
_NETMASK_OCTETS = frozenset({"255", "254", "252", "248", "240", "224", "192", "128", "0"})


class IpAddressDetector:
    """IPv4 and IPv6 addresses a person or machine could be traced by.

    Dotted quads must parse (no octet above 255, no leading zeros) and not follow a version
    word (``v1.2.3.4``, ``version 10.0.0.1``, ``upgrade to 2.4.1.0``, ``==1.2.3.4``);
    netmasks (``255.255.255.0``), 0.0.0.0/8, loopback and broadcast addresses name nobody and
    are kept. IPv6 needs
    a digit and either ``::`` or all eight groups, so ``std::vector`` and times are not
    addresses. Normalised to the compressed form.
    """

    name = "ip"
    kind = "IP"
    priority = 35

    def find(self, text: str) -> Iterator[Span]:
        if "." in text and NUMERIC_RUN.search(text):
            yield from self._v4(text)
        if "::" in text or text.count(":") >= 7:
            yield from self._v6(text)

    def _v4(self, text: str) -> Iterator[Span]:
        for m in _IPV4.finditer(text):
            value = m.group(0)
            try:
                addr = ipaddress.IPv4Address(value)
            except ValueError:
                continue
            octets = value.split(".")
            if octets[0] == "0" or addr.is_loopback or value == "255.255.255.255":
                continue
            if all(o in _NETMASK_OCTETS for o in octets) and octets[0] == "255":
                continue
            if _VERSION_BEFORE.search(text, max(0, m.start() - 30), m.start()):
                continue
            yield Span(m.start(), m.end(), self.kind, value, self.name, self.priority, str(addr))

    def _v6(self, text: str) -> Iterator[Span]:
        for m in _IPV6.finditer(text):
            value = m.group(0)
            if not any(c.isdigit() for c in value):
                continue
            if "::" not in value and value.count(":") < 7 and "." not in value:
                continue
            try:
                addr = ipaddress.IPv6Address(value)
            except ValueError:
                continue
            if addr.is_unspecified or addr.is_loopback:
                continue
            yield Span(
                m.start(), m.end(), self.kind, value, self.name, self.priority, addr.compressed
            )
