"""Token-bucket rate limits in bounded memory, split between gateway replicas.

Why split rather than shared: a shared counter needs shared state (Redis or similar) that
Planet does not run, and Kafka is the wrong tool for a per-request decision. Each replica
enforces ``limit / replicas`` instead. Behind a load balancer that spreads clients evenly
the total stays at the limit; a client pinned to one replica gets a fraction of it, never
more — the limits err on the strict side, which is the side abuse limits should err on.

Memory is bounded by ``max_keys`` buckets per limit: the least recently used bucket is
forgotten first. A forgotten bucket comes back full, which is what it would have refilled
to anyway unless it was touched within the last full-refill period.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """``per_minute`` requests a minute across all replicas, in bursts of up to ``burst``."""

    name: str
    per_minute: int
    burst: int


class TokenBuckets:
    """One limit's buckets by key (a user id or an IP address)."""

    def __init__(
        self,
        limit: Limit,
        *,
        replicas: int,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self._rate_per_s = limit.per_minute / 60.0 / replicas
        self._capacity = max(1.0, limit.burst / replicas)
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> int:
        """0 when ``key`` may go ahead (one token spent); else whole seconds to wait."""
        now = self._clock()
        tokens, at = self._buckets.pop(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - at) * self._rate_per_s)
        wait = 0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = max(1, math.ceil((1.0 - tokens) / self._rate_per_s))
        self._buckets[key] = (tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait


class RateLimiter:
    """Named limits, each with its own buckets."""

    def __init__(
        self,
        limits: list[Limit],
        *,
        replicas: int,
        max_keys: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._buckets = {
            lim.name: TokenBuckets(lim, replicas=replicas, max_keys=max_keys, clock=clock)
            for lim in limits
        }

    def take(self, name: str, key: str) -> int:
        """Seconds to wait before ``key`` may pass limit ``name`` (0: go ahead)."""
        return self._buckets[name].take(key)

    def buckets(self, name: str) -> TokenBuckets:
        """One limit's buckets (for inspection)."""
        return self._buckets[name]
