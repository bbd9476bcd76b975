"""The sanctions table's checkpoint: the accounts under a sanction and how far the identities
topic was read, in one RocksDB store, so a restart reads only what social wrote since.

planet.social.identities.v1 is social's changelog (every identity event of every account,
kept forever), and content keeps only its sanction facts. Read from the start at every start,
start-up time would grow with social's history. Instead, after each fetch the tail writes the
standing sanctions of the accounts the fetch touched and the next offset of each partition it
read, in one write batch (state and position never disagree); a start loads the table from
the store and reads on from those offsets. What is stored is bounded by the accounts under a
sanction now (a lifted sanction's key is deleted), never by the topic's length.

A store that is missing, of another format, unreadable or ahead of the topic (the topic was
recreated) is dropped and the topic read from the start once, as every content store is
rebuilt from its topic.

Layout: ``s:<user id> NUL <sanction id>`` -> end ms (8 bytes, 0: none);
``o:<partition, 4 bytes>`` -> the next offset to read (8 bytes).
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable, Mapping
from pathlib import Path

from google.protobuf.message import Message
from rocksdict import WriteBatch

from planetkit.envelope import DomainEvent
from services.content.adapters.instrument_store import apply_sanction
from services.content.adapters.post_store import open_store
from services.content.domain.topics import Sanctions

FORMAT = b"content-sanctions/1"
_SANCTION = b"s:"
_OFFSET = b"o:"
_PARTITION = struct.Struct(">I")
_VALUE = struct.Struct(">q")


def _user_prefix(user_id: str) -> bytes:
    # NUL never occurs in a user id (checked ids), so one user's prefix is no other's.
    return _SANCTION + user_id.encode() + b"\x00"


class SanctionsSnapshot:
    """Persists the sanctions table and the identities topic's read positions."""

    def __init__(self, path: Path, sanctions: Sanctions) -> None:
        self.path = path
        self._sanctions = sanctions
        self._db = open_store(path, FORMAT)
        self._touched: set[str] = set()

    def apply(self) -> Callable[[DomainEvent[Message]], None]:
        """How a sanction fact changes the table, remembering whose sanctions to write."""
        inner = apply_sanction(self._sanctions)

        def _apply(event: DomainEvent[Message]) -> None:
            inner(event)
            user_id = getattr(event.payload, "user_id", "")
            if isinstance(user_id, str) and user_id:
                self._touched.add(user_id)
        return _apply

    def load(self) -> dict[int, int]:
        """Fill the table from the store; the next offset to read per partition."""
        offsets: dict[int, int] = {}
        it = self._db.iter()
        it.seek(_SANCTION)
        while it.valid():
            key = bytes(it.key())
            if not key.startswith(_SANCTION):
                break
            user, _, sanction = key[len(_SANCTION):].partition(b"\x00")
            (until,) = _VALUE.unpack(bytes(it.value()))
            self._sanctions.sanctioned(user.decode(), sanction.decode(), until)
            it.next()
        it.seek(_OFFSET)
        while it.valid():
            key = bytes(it.key())
            if not key.startswith(_OFFSET):
                break
            (partition,) = _PARTITION.unpack(key[len(_OFFSET):])
            (offset,) = _VALUE.unpack(bytes(it.value()))
            offsets[int(partition)] = int(offset)
            it.next()
        del it
        return offsets

    def save(self, positions: Mapping[int, int]) -> None:
        """Write the touched accounts' standing sanctions and ``positions`` in one batch."""
        if not positions and not self._touched:
            return
        batch = WriteBatch(raw_mode=True)
        for user_id in sorted(self._touched):
            prefix = _user_prefix(user_id)
            batch.delete_range(prefix, prefix[:-1] + b"\x01")
            for sanction_id, until in self._sanctions.standing(user_id).items():
                batch.put(prefix + sanction_id.encode(), _VALUE.pack(until))
        for partition, offset in positions.items():
            batch.put(_OFFSET + _PARTITION.pack(partition), _VALUE.pack(offset))
        self._db.write(batch)
        self._touched.clear()

    def reset(self) -> None:
        """Drop the store and the table (the topic is read from the start)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = open_store(self.path, FORMAT)
        self._sanctions.clear()
        self._touched.clear()

    def close(self) -> None:
        """Flush and close."""
        self._db.close()
