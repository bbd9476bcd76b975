"""Identifiers: time-ordered, collision-free, and safe to use as Kafka keys."""

from __future__ import annotations

import os

from planetkit.clock import now_ms


def new_id(prefix: str) -> str:
    """A UUIDv7-style id with a readable prefix, e.g. "post_0190f3c2...".

    Time-ordered ids keep ClickHouse parts and logs in arrival order; 74 random
    bits make collisions practically impossible.
    """
    ms = now_ms()
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | (rand & ((1 << 76) - 1))
    return f"{prefix}_{value:032x}"
