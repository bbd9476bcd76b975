"""Keyed pseudonyms of personal values: stable, joinable, not reversible without the key.

HMAC-SHA256 under one secret key, over the value alone (not the field name), so the same user
id gets the same pseudonym in every field and every topic: analysts can count distinct users
and join a consumer's views to the same person's trade fees. A plain hash would not do: user
ids are short and guessable, so anyone could hash candidates and match them; without the key
that is impossible. The digest is cut to 128 bits (32 hex digits): collisions stay out of reach
(about 2**64 values before one is likely) at half the storage of the full digest.
"""

from __future__ import annotations

import hashlib
import hmac

# Below this a key could be guessed or was typed by hand; 32 bytes is SHA-256's block of
# security. The settings refuse a shorter key.
MIN_KEY_BYTES = 32
PSEUDONYM_HEX_DIGITS = 32
# One batch repeats its consumer and a handful of creators on every row.
_CACHE_LIMIT = 65_536


class Pseudonymizer:
    """Maps a personal value to its pseudonym under one key; the empty string stays empty."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(
                f"the pseudonym key must be at least {MIN_KEY_BYTES} bytes, got {len(key)}"
            )
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        """The pseudonym of ``value``; "" for "" so an absent id stays visibly absent."""
        if not value:
            return ""
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        digest = hmac.digest(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256)
        pseudonym = digest.hex()[:PSEUDONYM_HEX_DIGITS]
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[value] = pseudonym
        return pseudonym

    def __repr__(self) -> str:
        # Never the key, whatever ends up in a log or a traceback.
        return "Pseudonymizer(key=<hidden>)"
