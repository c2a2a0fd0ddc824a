"""The redactor: detect, pseudonymise, and report what was replaced."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from redaction.detect_contact import DEFAULT_PHONE_REGIONS
from redaction.detect_names import PersonNameDetector
from redaction.patterns import UserPattern, parse_pattern
from redaction.pseudonyms import PseudonymKey, PseudonymState, format_token
from redaction.registry import REDACTION_VERSION, default_detectors, find_spans
from redaction.spans import Detector, Intervals, Span

__all__ = ["PAIR_FIELDS", "Finding", "Redaction", "Redactor"]

PAIR_FIELDS = ("prompt", "response_a", "response_b")


@dataclass(frozen=True, slots=True)
class Finding:
    """One replaced value: where it was (offsets in the original text), what it became.

    ``value`` is the raw value, for the vault only: it is kept out of ``repr`` and of
    :meth:`to_json`, so a logged or stored finding never carries it.
    """

    field: str
    start: int
    end: int
    kind: str
    detector: str
    token: str
    digest: str
    new: bool
    value: str = dataclasses.field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """Everything but the value (safe for the main database and logs)."""
        return {
            "field": self.field,
            "start": self.start,
            "end": self.end,
            "kind": self.kind,
            "detector": self.detector,
            "token": self.token,
        }


class Redaction(NamedTuple):
    """What :meth:`Redactor.redact_pair` returns: the three texts and the findings."""

    texts: tuple[str, str, str]
    findings: list[Finding]


class Redactor:
    """Replaces detected values with stable per-dataset tokens (``<EMAIL_1>``).

    ``dataset_key`` keys the pseudonyms (see :class:`PseudonymKey`); ``patterns`` are the
    dataset's own ``KIND=REGEX`` patterns (strings or :class:`UserPattern`); ``names`` is a
    person-name detector when a model is installed (:func:`spacy_person_recognizer`);
    ``detectors`` replaces the built-in set altogether (tests, experiments).

    The redactor is stateless between calls; numbering lives in the :class:`PseudonymState`
    passed to each call, which it updates in place.

    >>> r = Redactor(b"k" * 32)
    >>> state = PseudonymState()
    >>> texts, found = r.redact_pair("Mail bob@x.org", "bob@x.org wrote", "Hi", state)
    >>> texts
    ('Mail <EMAIL_1>', '<EMAIL_1> wrote', 'Hi')
    """

    def __init__(
        self,
        dataset_key: bytes,
        patterns: Sequence[UserPattern | str] = (),
        *,
        phone_regions: Sequence[str] = DEFAULT_PHONE_REGIONS,
        names: PersonNameDetector | None = None,
        detectors: Sequence[Detector] | None = None,
    ) -> None:
        self._key = PseudonymKey(dataset_key)
        self.patterns = tuple(
            p if isinstance(p, UserPattern) else parse_pattern(p) for p in patterns
        )
        builtin = list(detectors) if detectors is not None else default_detectors(phone_regions)
        self.detectors: list[Detector] = [p.detector() for p in self.patterns] + builtin
        if names is not None:
            self.detectors.append(names)
        settings: dict[str, Any] = {}
        if self.patterns:
            settings["patterns"] = [p.spec for p in self.patterns]
        if tuple(phone_regions) != DEFAULT_PHONE_REGIONS:
            settings["phone_regions"] = list(phone_regions)
        if names is not None:
            settings["names"] = names.model_id
        if detectors is not None:
            settings["detectors"] = [d.name for d in detectors]
        self.settings = settings
        if settings:
            blob = json.dumps(settings, sort_keys=True).encode()
            self.version = f"{REDACTION_VERSION}+{hashlib.sha256(blob).hexdigest()[:10]}"
        else:
            self.version = REDACTION_VERSION

    def find(self, text: str) -> list[Span]:
        """The non-overlapping spans to replace in ``text`` (no pseudonyms assigned)."""
        return find_spans(text, self.detectors)

    def redact_text(
        self, text: str, state: PseudonymState, *, field: str = "text"
    ) -> tuple[str, list[Finding]]:
        """``text`` with every detected value replaced by its token, and the findings."""
        state.bind(self._key.check)
        spans = _with_repeats([text], [self.find(text)])[0]
        return self._replace(text, spans, state, field)

    def redact_texts(
        self, texts: Sequence[tuple[str, str]], state: PseudonymState
    ) -> tuple[list[str], list[Finding]]:
        """Several ``(field, text)`` redacted with one numbering, repeats chased across them.

        :meth:`redact_pair` for any number of texts: a conversation's turns and its two replies.
        """
        state.bind(self._key.check)
        originals = [text for _, text in texts]
        spans = _with_repeats(originals, [self.find(t) for t in originals])
        redacted: list[str] = []
        findings: list[Finding] = []
        for (name, text), found_spans in zip(texts, spans, strict=True):
            out, found = self._replace(text, found_spans, state, name)
            redacted.append(out)
            findings.extend(found)
        return redacted, findings

    def redact_pair(
        self, prompt: str, response_a: str, response_b: str, state: PseudonymState
    ) -> Redaction:
        """The prompt and both responses redacted with one numbering.

        A value detected in one field is also replaced wherever else it appears verbatim in
        the pair (a key assigned in the prompt and quoted bare in a response). Equivalent to
        ``apply_pair(texts, detect_pair(*texts), state)``.
        """
        return self.apply_pair(
            (prompt, response_a, response_b),
            self.detect_pair(prompt, response_a, response_b),
            state,
        )

    def detect_pair(self, prompt: str, response_a: str, response_b: str) -> list[list[Span]]:
        """The spans to replace in each of the three texts. Pure: no state, no numbering.

        The expensive half of :meth:`redact_pair`; it may run in worker processes (the
        redactor pickles) while :meth:`apply_pair` numbers the results in input order.
        """
        originals = (prompt, response_a, response_b)
        return _with_repeats(originals, [self.find(t) for t in originals])

    def apply_pair(
        self, texts: Sequence[str], spans: Sequence[list[Span]], state: PseudonymState
    ) -> Redaction:
        """Replace the spans :meth:`detect_pair` found with tokens numbered in ``state``."""
        state.bind(self._key.check)
        redacted: list[str] = []
        findings: list[Finding] = []
        for name, text, found_spans in zip(PAIR_FIELDS, texts, spans, strict=True):
            out, found = self._replace(text, found_spans, state, name)
            redacted.append(out)
            findings.extend(found)
        return Redaction((redacted[0], redacted[1], redacted[2]), findings)

    def _replace(
        self, text: str, spans: list[Span], state: PseudonymState, field: str
    ) -> tuple[str, list[Finding]]:
        if not spans:
            return text, []
        out: list[str] = []
        findings: list[Finding] = []
        cursor = 0
        for span in spans:
            digest = self._key.digest(span.kind, span.key)
            token, new = state.token(digest, span.kind)
            out.append(text[cursor : span.start])
            out.append(format_token(token))
            cursor = span.end
            findings.append(
                Finding(
                    field,
                    span.start,
                    span.end,
                    span.kind,
                    span.detector,
                    token,
                    digest,
                    new,
                    span.value,
                )
            )
        out.append(text[cursor:])
        return "".join(out), findings

    def redact_json(
        self, value: Any, state: PseudonymState, *, field: str = "meta"
    ) -> tuple[Any, list[Finding]]:
        """Every string inside a JSON value (a pair's ``meta``) redacted; keys are kept."""
        findings: list[Finding] = []

        def walk(node: Any, path: str) -> Any:
            if isinstance(node, str):
                redacted, found = self.redact_text(node, state, field=path)
                findings.extend(found)
                return redacted
            if isinstance(node, dict):
                return {k: walk(v, f"{path}.{k}") for k, v in node.items()}
            if isinstance(node, list):
                return [walk(v, f"{path}[{i}]") for i, v in enumerate(node)]
            return node

        return walk(value, field), findings


_MIN_REPEAT = 6  # shorter values (a 4-digit ticket number) are not chased through the text
_MAX_REPEAT_VALUES = 512  # bounds the work on pathological texts (thousands of values)


def _with_repeats(texts: Sequence[str], spans: list[list[Span]]) -> list[list[Span]]:
    """Add a span for every other verbatim occurrence of a detected value in ``texts``.

    Occurrences must stand alone (no letter or digit glued to either end) and not overlap a
    span already kept. The copy keeps the original's kind and normal form, so it gets the
    same token. Only the first 512 distinct values of a pair are chased.
    """
    found: dict[str, Span] = {}
    for per_text in spans:
        for s in per_text:
            if len(s.value) >= _MIN_REPEAT and len(found) < _MAX_REPEAT_VALUES:
                found.setdefault(s.value, s)
    if not found:
        return spans
    out: list[list[Span]] = []
    for text, kept in zip(texts, spans, strict=True):
        taken = Intervals()
        for s in kept:
            taken.add(s.start, s.end)
        extra: list[Span] = []
        for value, origin in found.items():
            at = text.find(value)
            while at != -1:
                end = at + len(value)
                alone = (at == 0 or not text[at - 1].isalnum()) and (
                    end == len(text) or not text[end].isalnum()
                )
                if alone and not taken.overlaps(at, end):
                    extra.append(
                        Span(
                            at,
                            end,
                            origin.kind,
                            value,
                            "repeat",
                            origin.priority,
                            origin.normalised,
                        )
                    )
                    taken.add(at, end)
                at = text.find(value, end)
        out.append(sorted(kept + extra, key=lambda s: s.start) if extra else kept)
    return out
