"""Identifiers: opaque strings, ObjectId-shaped so they sort by creation time."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping

from bson import ObjectId

from kith.core.errors import InvalidInput, raise_all


def new_id() -> str:
    return str(ObjectId())


_ID = re.compile(r"[0-9a-f]{24}")


def is_id(value: str) -> bool:
    """Whether `value` could be a Kith id (what `new_id` and `derived_id` make: 24 lowercase
    hex digits). A filter naming something else finds nothing by construction, and answering
    it an empty list would let a client believe its typo or operator (`{"$gt": ""}`) filtered:
    routes refuse it with a 422 naming the parameter instead."""
    return _ID.fullmatch(value) is not None


def refuse_non_ids(filters: Mapping[str, str | None]) -> None:
    """A 422 naming every filter (by its name) whose value is given and is no id (`is_id`)."""
    raise_all(
        [
            InvalidInput("not an id", field=name, reason="not_an_id")
            for name, value in filters.items()
            if value is not None and not is_id(value)
        ]
    )


def derived_id(*parts: str) -> str:
    """A stable id for a natural key, so the first writer and every retry agree on it."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:24]


def new_secret(prefix: str) -> str:
    """A bearer secret shown once; only its hash is stored."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """Tokens are 256-bit random, so a plain SHA-256 is enough (no salt or stretching needed)."""
    return hashlib.sha256(secret.encode()).hexdigest()
