"""The identity provider's signing keys (a JWKS from a URL or a file), cached and rotated.

Keys are re-read when the cache is older than ``cache_s``, and when a token names a key id
we do not know (the provider rotated) — but at most once per ``min_refresh_interval_s``,
so a stream of tokens with invented kids costs one fetch per interval, not one per token.
A failed refresh keeps the keys we had: an outage of the provider's key endpoint must not
log everybody out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from jwt import PyJWK
from jwt.exceptions import PyJWKError

log = logging.getLogger(__name__)

Fetch = Callable[[], Awaitable[bytes]]


class JwksUnavailable(Exception):
    """The key set has never been read successfully: no token can be checked (503)."""


def file_source(path: str) -> Fetch:
    """Read the key set from a file (mounted secret or config map)."""

    async def fetch() -> bytes:
        return await asyncio.to_thread(Path(path).read_bytes)

    return fetch


def url_source(url: str, timeout_s: float) -> Fetch:
    """Fetch the key set over HTTP(S); redirects are not followed."""

    async def fetch() -> bytes:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.content

    return fetch


def parse_jwks(raw: bytes) -> dict[str, PyJWK]:
    """Usable signing keys by kid; keys without a kid or of unsupported types are skipped."""
    document: Any = json.loads(raw)
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError('a JWKS is a JSON object with a "keys" list')
    keys: dict[str, PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in ("RSA", "EC"):  # never a symmetric "oct" key
            continue
        try:
            keys[kid] = PyJWK(entry)
        except PyJWKError as exc:
            log.warning("JWKS: skipping key %r: %s", kid, exc)
    return keys


class JwksKeys:
    """Signing keys by kid, refreshed on age and on unknown kids (rate-limited)."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        cache_s: float,
        min_refresh_interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._cache_s = cache_s
        self._min_interval_s = min_refresh_interval_s
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._loaded_at: float | None = None
        self._tried_at: float | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def get(self, kid: str) -> PyJWK | None:
        """The key named ``kid``, refreshing first if the cache is stale or lacks it."""
        now = self._clock()
        stale = self._loaded_at is None or now - self._loaded_at >= self._cache_s
        if stale or kid not in self._keys:
            await self._refresh()
        if self._loaded_at is None:
            raise JwksUnavailable("the identity provider's signing keys are unavailable")
        return self._keys.get(kid)

    async def loaded(self) -> bool:
        """Whether keys have been loaded; tries once (rate-limited) when none have been."""
        if self._loaded_at is None:
            await self._refresh()
        return self._loaded_at is not None

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._tried_at is not None and now - self._tried_at < self._min_interval_s:
                return  # someone refreshed (or tried) a moment ago
            self._tried_at = now
            self.fetches += 1
            try:
                keys = parse_jwks(await self._fetch())
            except (OSError, ValueError, httpx.HTTPError) as exc:
                log.warning("JWKS refresh failed, keeping %d known keys: %r",
                            len(self._keys), exc)
                return
            self._keys = keys
            self._loaded_at = now
