"""Every trader's track-record state in one embedded RocksDB store (``rocksdict``).

One key per trader (``t:<user id>``: the library's canonical state bytes, see
``domain/track_record/codec.py``: open lots and per-day results, nothing per fill), and per
input partition of ``planet.exchange.fills.v1`` its next offset and how many of its records
were skipped as undecodable. A fetched batch is one multi-get of its traders' states and one
write batch holding the folded states, the partition's next offset and its skip count:
a crash before the write leaves the old states with the old offset (the batch is read
again), after it both moved together, so no crash ever changes a figure.

Recovery: the fills topic is the exchange's, kept forever; a missing, foreign or unreadable
store is recreated empty (``rocks.open_store``) with every offset at 0 and rebuilt from the
topic. To force it, stop the service and delete its ``track-records`` directory.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import cast

from rocksdict import WriteBatch

from services.social.adapters.rocks import open_store
from services.social.domain.track_record import TrackState, decode, encode, new_state

FORMAT = b"social-track-records/1"
FORMAT_KEY = b"~format"
_STATE = b"t:"
_APPLIED = b"~applied/"
_SKIPPED = b"~skipped/"
_COUNT = struct.Struct(">q")


def _int(raw: object) -> int:
    if raw is None:
        return 0
    (value,) = _COUNT.unpack(bytes(cast(bytes, raw)))
    return int(value)


class TrackRecordStore:
    """Trader states and, per fills partition, the next offset and the skipped count."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_store(path, FORMAT, FORMAT_KEY)

    @staticmethod
    def _key(user_id: str) -> bytes:
        return _STATE + user_id.encode()

    def applied(self, source: str) -> int:
        """The next offset to read of ``source`` (``topic/partition``); 0 when never read."""
        return _int(self._db.get(_APPLIED + source.encode()))

    def skipped(self, source: str) -> int:
        """How many records of ``source`` were skipped as undecodable (kept with the offset)."""
        return _int(self._db.get(_SKIPPED + source.encode()))

    def state(self, user_id: str) -> TrackState | None:
        """``user_id``'s state, or None when no fill of theirs was ever read."""
        raw = self._db.get(self._key(user_id))
        return None if raw is None else decode(bytes(raw))

    def states(self, user_ids: Iterable[str]) -> dict[str, TrackState]:
        """The states of ``user_ids`` in one multi-get (a new empty state for the unknown)."""
        ids = list(user_ids)
        if not ids:
            return {}
        keys: list[str | int | float | bytes | bool] = [self._key(u) for u in ids]
        found = cast(list[bytes | None], self._db.get(keys))
        return {u: new_state(u) if raw is None else decode(bytes(raw))
                for u, raw in zip(ids, found, strict=True)}

    def write(self, states: Mapping[str, TrackState], *, source: str, next_offset: int,
              skipped: int) -> None:
        """``states``, ``source``'s next offset and its skipped count in one write batch."""
        batch = WriteBatch(raw_mode=True)
        for user_id, state in states.items():
            batch.put(self._key(user_id), encode(state))
        batch.put(_APPLIED + source.encode(), _COUNT.pack(next_offset))
        batch.put(_SKIPPED + source.encode(), _COUNT.pack(skipped))
        self._db.write(batch)

    def close(self) -> None:
        """Flush and close."""
        self._db.close()
