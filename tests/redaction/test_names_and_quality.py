"""Optional person names, the real data's false-positive rate, and the benchmark corpus."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from redaction import (
    PersonNameDetector,
    PseudonymState,
    Redactor,
    spacy_person_recognizer,
)

REPO = Path(__file__).resolve().parents[2]


def fake_ner(text: str) -> Iterator[tuple[int, int]]:
    """A stand-in for a named-entity model that knows two people."""
    for m in re.finditer(r"\b(?:Jane Doe|Ravi Shankar)\b", text):
        yield m.start(), m.end()


def test_person_names_when_a_recogniser_is_given() -> None:
    names = PersonNameDetector(fake_ner, "fake-ner-1")
    r = Redactor(b"k" * 32, names=names)
    (p, a, _), _ = r.redact_pair(
        "Jane Doe wrote to bob@example.com", "Dear Jane Doe,", "", PseudonymState()
    )
    assert p == "<PERSON_1> wrote to <EMAIL_1>" and a == "Dear <PERSON_1>,"
    assert r.version != Redactor(b"k" * 32).version  # the model is part of the version


def test_person_names_skip_cleanly_without_a_model() -> None:
    if importlib.util.find_spec("spacy") is None:
        assert spacy_person_recognizer() is None
    else:
        assert spacy_person_recognizer("no_such_model_xyz") is None


def test_real_data_false_positive_rate(shared_data: Path) -> None:
    """Under 1 detection per 10,000 words of the shared data (little PII there)."""
    r = Redactor(b"k" * 32)
    words = detections = 0
    for path in sorted(shared_data.glob("*/pairs.jsonl")):
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                for field in ("prompt", "response_a", "response_b"):
                    words += len(rec[field].split())
                    detections += len(r.find(rec[field]))
    assert words > 100_000
    assert detections / words * 10_000 < 1.0


def test_benchmark_corpus_recall_on_structured_kinds() -> None:
    pytest.importorskip("faker")
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import redaction_quality as rq  # type: ignore[import-not-found]
    finally:
        sys.path.pop(0)
    docs = rq.make_corpus(150, seed=5)
    result = rq.score(docs, rq.ours_on_corpus(docs))
    assert result["overall"]["planted"] > 500
    assert result["overall"]["structured_recall"] >= 0.98
    assert result["overall"]["precision"] >= 0.98
    assert (
        rq.leak_check(docs)["same_value_same_token"].split("/")[0]
        == rq.leak_check(docs)["same_value_same_token"].split("/")[1]
    )


def test_detection_imports_no_database_or_crypto() -> None:
    """The detectors and the redactor are pure: the vault (SQLAlchemy, cryptography) loads lazily."""
    import subprocess

    code = (
        "import sys, redaction as r, redaction.redactor; "
        "r.Redactor(b'k' * 32).find('bob@example.com'); "
        "print(','.join(m for m in ('sqlalchemy', 'cryptography') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
