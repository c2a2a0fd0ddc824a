"""The built-in detectors, their version, and :func:`find_spans`.

``REDACTION_VERSION`` changes whenever a detector changes what it finds: every redacted pair
records the version it was redacted with (plus a hash of the dataset's own patterns and
settings, see :attr:`redaction.Redactor.version`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from redaction.detect_contact import (
    DEFAULT_PHONE_REGIONS,
    EmailDetector,
    PhoneNumberDetector,
    UrlCredentialsDetector,
)
from redaction.detect_network import IpAddressDetector
from redaction.detect_numbers import CardDetector, IbanDetector, SsnDetector
from redaction.detect_secrets import (
    AssignedSecretDetector,
    JwtDetector,
    PrivateKeyDetector,
    ProviderKeyDetector,
)
from redaction.spans import Detector, Span, resolve_overlaps

__all__ = ["BUILTIN_KINDS", "REDACTION_VERSION", "default_detectors", "find_spans"]

REDACTION_VERSION = "referee-redact-1"

BUILTIN_KINDS = (
    "EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "URL_CREDENTIALS", "SECRET", "PERSON",
)  # fmt: skip


def default_detectors(phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS) -> list[Detector]:
    """Every built-in detector (person names excepted: they need a model)."""
    return [
        PrivateKeyDetector(),
        ProviderKeyDetector(),
        JwtDetector(),
        UrlCredentialsDetector(),
        AssignedSecretDetector(),
        EmailDetector(),
        IbanDetector(),
        CardDetector(),
        SsnDetector(),
        PhoneNumberDetector(phone_regions),
        IpAddressDetector(),
    ]


def find_spans(text: str, detectors: Iterable[Detector]) -> list[Span]:
    """The non-overlapping spans every detector finds in ``text``, in text order."""
    spans: list[Span] = []
    for detector in detectors:
        spans.extend(detector.find(text))
    return resolve_overlaps(spans) if len(spans) > 1 else spans
