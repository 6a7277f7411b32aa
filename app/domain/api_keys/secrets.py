"""The API key format: ``kiln_`` + 43 base62 characters of 256 random bits + a 6-character
CRC32 checksum, so typos and truncations are rejected without a database lookup and secret
scanners can recognise leaked keys. Only a SHA-256 hash (fine for 256-bit random secrets) and a
display prefix are stored."""

from __future__ import annotations

import hashlib
import secrets
import zlib

PREFIX = "kiln_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_BODY_LENGTH = 43  # ceil(256 / log2(62))
_CHECK_LENGTH = 6  # ceil(32 / log2(62))
DISPLAY_LENGTH = len(PREFIX) + 8


def _base62(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), _CHECK_LENGTH)


def generate() -> str:
    body = _base62(secrets.randbits(256), _BODY_LENGTH)
    return f"{PREFIX}{body}{_checksum(body)}"


def well_formed(key: str) -> bool:
    """Shape and checksum only; says nothing about whether the key exists."""
    if not key.startswith(PREFIX) or len(key) != len(PREFIX) + _BODY_LENGTH + _CHECK_LENGTH:
        return False
    rest = key[len(PREFIX):]
    body, check = rest[:_BODY_LENGTH], rest[_BODY_LENGTH:]
    if any(c not in _ALPHABET for c in rest):
        return False
    return secrets.compare_digest(check, _checksum(body))


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_LENGTH]
