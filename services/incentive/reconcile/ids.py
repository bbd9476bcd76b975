"""The model's int ids, computed here from the documented rule, not by importing it.

docs/incentives.md: an envelope id becomes BLAKE2b-64 of ``<space>\\0<string>``, big-endian,
top bit cleared; consumers and creators share the ``user`` space (they are the same people),
items have the ``item`` space, and event ids are hashed in the ``event`` space. The SQL side
needs them only where the model's tie-breaks and leaves do (the earliest like or follow by
time then event id, the smallest full row of a redelivered event, a Merkle leaf's creator id):
ClickHouse has no BLAKE2b, so the loader adds them as columns next to the strings.
"""

from __future__ import annotations

import hashlib

_TOP_BIT_CLEARED = (1 << 63) - 1
CONSUMER = "user"
CREATOR = "user"
ITEM = "item"
EVENT = "event"


def model_id(space: str, text: str) -> int:
    """The model's int id of ``text`` in ``space``."""
    digest = hashlib.blake2b(f"{space}\0{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _TOP_BIT_CLEARED
