"""Keyed, stable pseudonyms: the same value becomes the same token everywhere in a dataset.

A value is identified by ``HMAC-SHA256(dataset_key, kind ␟ normalised value)`` (truncated to
128 bits), never by the value itself. :class:`PseudonymState` maps those digests to tokens
(``EMAIL_1``, ``EMAIL_2``, ... numbered per kind in first-seen order) and is what the main
database keeps between ingests: digests and token numbers only. Without the dataset key, a
digest cannot be recomputed from a guessed value, so even a nine-digit SSN cannot be
recovered by trying all of them.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from typing import Any

from redaction.errors import StateError

__all__ = ["TOKEN_PATTERN", "PseudonymKey", "PseudonymState", "format_token"]

STATE_FORMAT = 1
TOKEN_PATTERN = re.compile(r"<(?P<token>(?P<kind>[A-Z][A-Z0-9_]*)_(?P<number>[1-9][0-9]*))>")
_TOKEN_NAME = re.compile(r"^(?P<kind>[A-Z][A-Z0-9_]*)_(?P<number>[1-9][0-9]*)$")


def format_token(token: str) -> str:
    """``EMAIL_1`` → ``<EMAIL_1>``, as it appears in redacted text."""
    return f"<{token}>"


class PseudonymKey:
    """The dataset's pseudonym key: HMAC-SHA256 digests of values.

    ``dataset_key`` is a secret of at least 16 bytes, kept out of the main database (the vault
    keeps it, see :meth:`referee.privacy.vault.Vault.dataset_key`).
    """

    __slots__ = ("_key",)

    def __init__(self, dataset_key: bytes) -> None:
        if not isinstance(dataset_key, bytes) or len(dataset_key) < 16:
            raise ValueError("the dataset key must be at least 16 random bytes")
        self._key = dataset_key

    def __repr__(self) -> str:
        return "PseudonymKey(<hidden>)"

    def digest(self, kind: str, normalised: str) -> str:
        """The 128-bit hex digest that stands for ``normalised`` of ``kind`` in this dataset."""
        message = kind.encode() + b"\x1f" + normalised.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    @property
    def check(self) -> str:
        """A digest of a fixed message: tells whether a state was built with this key."""
        return hmac.new(self._key, b"referee pseudonym state", hashlib.sha256).hexdigest()[:16]


class PseudonymState:
    """Digest → token map of one dataset, numbered per kind in first-seen order.

    JSON-serialisable with :meth:`to_json` (``{"format", "key_check", "tokens"}``), holding
    digests and token names only. The redactor updates it in place; persist it in the same
    transaction as the pairs it numbered, and serialise ingests of one dataset.
    """

    def __init__(self, tokens: Mapping[str, str] | None = None, key_check: str | None = None):
        self.key_check = key_check
        self._tokens: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._new: list[tuple[str, str]] = []
        for digest, token in (tokens or {}).items():
            m = _TOKEN_NAME.match(token)
            if m is None or not re.fullmatch(r"[0-9a-f]{32}", digest):
                raise StateError(f"pseudonym state: malformed entry {digest!r} → {token!r}")
            self._tokens[digest] = token
            kind, number = m.group("kind"), int(m.group("number"))
            self._counters[kind] = max(self._counters.get(kind, 0), number)
        self._by_token = set(self._tokens.values())
        if len(self._by_token) != len(self._tokens):
            raise StateError("pseudonym state: one token stands for two digests")

    def __len__(self) -> int:
        return len(self._tokens)

    def __contains__(self, digest: object) -> bool:
        return digest in self._tokens

    def items(self) -> Iterator[tuple[str, str]]:
        """Every (digest, token), in first-seen order."""
        return iter(self._tokens.items())

    def counts(self) -> dict[str, int]:
        """How many distinct values of each kind were seen."""
        return dict(self._counters)

    def bind(self, key_check: str) -> None:
        """Tie the state to a key on first use; refuse a state built with another key."""
        if self.key_check is None:
            self.key_check = key_check
        elif not hmac.compare_digest(self.key_check, key_check):
            raise StateError(
                "pseudonym state was built with another dataset key; numbering would not match"
            )

    def token(self, digest: str, kind: str) -> tuple[str, bool]:
        """The token for ``digest`` (assigning the next number of ``kind``), and whether new."""
        found = self._tokens.get(digest)
        if found is not None:
            return found, False
        number = self._counters.get(kind, 0) + 1
        self._counters[kind] = number
        token = f"{kind}_{number}"
        self._tokens[digest] = token
        self._by_token.add(token)
        self._new.append((digest, token))
        return token, True

    def learn(self, digest: str, token: str) -> bool:
        """Add an entry known elsewhere (the vault); returns whether it was new here.

        Raises :class:`StateError` when it contradicts the state: the digest has another
        token, or the token stands for another digest.
        """
        known = self._tokens.get(digest)
        if known is not None:
            if known != token:
                raise StateError(f"pseudonym state: {token} contradicts {known} for one value")
            return False
        m = _TOKEN_NAME.match(token)
        if m is None:
            raise StateError(f"pseudonym state: malformed token {token!r}")
        if token in self._by_token:
            raise StateError(f"pseudonym state: {token} already stands for another value")
        self._tokens[digest] = token
        self._by_token.add(token)
        kind, number = m.group("kind"), int(m.group("number"))
        self._counters[kind] = max(self._counters.get(kind, 0), number)
        return True

    def take_new(self) -> list[tuple[str, str]]:
        """The (digest, token) entries added since the last call (for incremental storage)."""
        new, self._new = self._new, []
        return new

    def to_json(self) -> dict[str, Any]:
        return {"format": STATE_FORMAT, "key_check": self.key_check, "tokens": dict(self._tokens)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> PseudonymState:
        """Rebuild a state from :meth:`to_json` output (``None`` or ``{}``: a new state)."""
        if not doc:
            return cls()
        if doc.get("format") != STATE_FORMAT or not isinstance(doc.get("tokens"), dict):
            raise StateError(f"pseudonym state: unknown format {doc.get('format')!r}")
        key_check = doc.get("key_check")
        if key_check is not None and not isinstance(key_check, str):
            raise StateError("pseudonym state: malformed key_check")
        return cls(doc["tokens"], key_check)
