"""Identifiers: opaque strings, ObjectId-shaped so they sort by creation time."""

from __future__ import annotations

import hashlib
import secrets

from bson import ObjectId


def new_id() -> str:
    return str(ObjectId())


def derived_id(*parts: str) -> str:
    """A stable id for a natural key, so the first writer and every retry agree on it."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def new_secret(prefix: str) -> str:
    """A bearer secret shown once; only its hash is stored."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """Tokens are 256-bit random, so a plain SHA-256 is enough (no salt or stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()
