"""The vault key: AES-256-GCM, parsed from ``REFEREE_VAULT_KEY`` by the caller."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from redaction.errors import VaultError, VaultKeyError

__all__ = ["VaultKey", "generate_vault_key"]

_FORMAT = b"\x01"


def generate_vault_key() -> str:
    """A new random vault key: 32 bytes, URL-safe base64 (what ``REFEREE_VAULT_KEY`` holds)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


class VaultKey:
    """The vault key: 32 bytes for AES-256-GCM. Its ``repr`` never shows it."""

    __slots__ = ("_aead", "_raw")

    def __init__(self, raw: bytes) -> None:
        if not isinstance(raw, bytes) or len(raw) != 32:
            raise VaultKeyError("the vault key must be 32 bytes")
        self._raw = raw
        self._aead = AESGCM(raw)

    @classmethod
    def from_string(cls, text: str | None) -> VaultKey:
        """Parse a key as ``generate_vault_key`` writes it (URL-safe base64) or as 64 hex digits.

        Raises :class:`VaultKeyError` for a missing (``None`` or empty) or malformed key.
        """
        if not text or not text.strip():
            raise VaultKeyError("no vault key given (set REFEREE_VAULT_KEY)")
        text = text.strip()
        raw: bytes | None = None
        if re.fullmatch(r"[0-9a-fA-F]{64}", text):
            raw = bytes.fromhex(text)
        else:
            try:
                raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            except (binascii.Error, ValueError):
                raw = None
        if raw is None or len(raw) != 32:
            raise VaultKeyError(
                "the vault key is malformed: expected 32 bytes as URL-safe base64 "
                "(generate one with `python -c 'from referee.privacy import generate_vault_key;"
                " print(generate_vault_key())'`) or as 64 hex digits"
            )
        return cls(raw)

    def __repr__(self) -> str:
        return "VaultKey(<hidden>)"

    @property
    def fingerprint(self) -> bytes:
        """A one-way digest of the key, to remember in memory that it was checked."""
        return hashlib.sha256(b"referee vault key fingerprint" + self._raw).digest()

    def encrypt(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(12)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, context)

    def decrypt(self, blob: bytes, context: bytes) -> bytes:
        if not blob.startswith(_FORMAT) or len(blob) < 1 + 12 + 16:
            raise VaultError("vault: unknown ciphertext format")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], context)
        except InvalidTag as exc:
            raise VaultKeyError("vault: this key does not decrypt the stored value") from exc
