"""Encryption of stored secrets (alert channel secrets, webhook signing secrets, …).

AES-256-GCM with a key derived from ``KILN_SECRET_KEY`` by HKDF-SHA256. A sealed value reads
``v1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>``: the version names the scheme, the key id
(a short hash of the derived key, not secret) says which key sealed it, so values sealed before a
rotation still open while the old key is listed in ``KILN_PREVIOUS_SECRET_KEYS``.

An optional ``context`` (associated data, e.g. ``b"alert_channel:<tenant>:<id>"``) binds a sealed
value to the row it belongs to: copying it into another row makes it fail to open.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

if TYPE_CHECKING:
    from app.settings import Settings

VERSION = "v1"
_INFO = b"kiln/stored-secrets/v1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A sealed value is malformed, sealed by an unknown key, or was tampered with."""


def _derive(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"kiln-key-id:" + key).hexdigest()[:8]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    """Seals with the current key; opens with the current or any previous key."""

    def __init__(self, secret_key: str, previous_keys: Iterable[str] = ()) -> None:
        if not secret_key:
            raise ValueError("SecretBox needs a non-empty secret key")
        current = _derive(secret_key)
        self._current_id = _key_id(current)
        self._keys: dict[str, AESGCM] = {self._current_id: AESGCM(current)}
        for old in previous_keys:
            if old:
                derived = _derive(old)
                self._keys.setdefault(_key_id(derived), AESGCM(derived))

    @property
    def key_id(self) -> str:
        return self._current_id

    def encrypt(self, plaintext: str, context: bytes = b"") -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._keys[self._current_id].encrypt(nonce, plaintext.encode(), context)
        return f"{VERSION}.{self._current_id}.{_b64(nonce + sealed)}"

    def decrypt(self, token: str, context: bytes = b"") -> str:
        try:
            version, key_id, body = token.split(".", 2)
        except ValueError:
            raise DecryptionError("not a sealed value (expected v1.<key id>.<data>)") from None
        if version != VERSION:
            raise DecryptionError(f"unsupported sealed-value version {version!r}")
        aead = self._keys.get(key_id)
        if aead is None:
            raise DecryptionError(
                f"sealed with an unknown key {key_id!r}: was KILN_SECRET_KEY rotated without "
                "listing the old key in KILN_PREVIOUS_SECRET_KEYS?"
            )
        try:
            raw = _unb64(body)
            return aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context).decode()
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("sealed value failed authentication (tampered or moved)") from exc

    def needs_rotation(self, token: str) -> bool:
        """True when ``token`` was sealed by a previous key (re-seal it with :meth:`encrypt`)."""
        parts = token.split(".", 2)
        return len(parts) == 3 and parts[1] != self._current_id


def box_for(settings: Settings) -> SecretBox:
    """The box of a server: ``KILN_SECRET_KEY`` seals, it and ``KILN_PREVIOUS_SECRET_KEYS`` open."""
    return SecretBox(settings.resolved_secret_key(), settings.previous_secret_keys)
