"""Person names, only where a named-entity model is installed.

No model ships with Referee and none can be downloaded at run time, so names are found only
when the caller passes a recogniser: any callable that returns ``(start, end)`` character
offsets of person names in a text. :func:`spacy_person_recognizer` builds one from an installed
spaCy pipeline and returns ``None`` (skip cleanly) when spaCy or the model is missing.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from redaction.spans import Span

__all__ = ["PersonNameDetector", "PersonRecognizer", "spacy_person_recognizer"]

PersonRecognizer = Callable[[str], Iterable[tuple[int, int]]]


class PersonNameDetector:
    """Person names from a named-entity recogniser; normalised by collapsing whitespace.

    ``model_id`` names the model, and goes into the redaction version.
    """

    name = "person"
    kind = "PERSON"
    priority = 10

    def __init__(self, recognizer: PersonRecognizer, model_id: str) -> None:
        self.recognizer = recognizer
        self.model_id = model_id

    def find(self, text: str) -> Iterator[Span]:
        for start, end in self.recognizer(text):
            value = text[start:end]
            if len(value.strip()) < 2:
                continue
            yield Span(
                start,
                end,
                self.kind,
                value,
                self.name,
                self.priority,
                " ".join(value.split()).lower(),
            )


def spacy_person_recognizer(model: str = "en_core_web_sm") -> PersonNameDetector | None:
    """A detector backed by an installed spaCy pipeline, or ``None`` when there is none.

    Loading never touches the network: ``spacy.load`` of a model name only imports an installed
    package (or reads a local path).
    """
    try:
        spacy: Any = importlib.import_module("spacy")
        nlp: Any = spacy.load(model, disable=["lemmatizer", "parser", "tagger"])
    except (ImportError, OSError):
        return None
    if "ner" not in nlp.pipe_names:
        return None

    def recognise(text: str) -> Iterator[tuple[int, int]]:
        for ent in nlp(text).ents:
            if ent.label_ in ("PERSON", "PER"):
                yield ent.start_char, ent.end_char

    version = str(nlp.meta.get("version", "?"))
    return PersonNameDetector(recognise, f"{model}-{version}")
