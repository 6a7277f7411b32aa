"""Invite tokens: ``kinv_`` + 256 random bits (base64url). Only the SHA-256 is stored; the token is
resolved to its tenant through ``kiln_private.resolve_invite`` before the tenant is known."""

from __future__ import annotations

import hashlib
import secrets

PREFIX = "kinv_"
RANDOM_BYTES = 32


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(RANDOM_BYTES)


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()
