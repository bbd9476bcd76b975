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
from collections import OrderedDict
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
    """Trader states and, per fills partition, the next offset and the skipped count.

    The states last written are also kept decoded in memory, least recently used out beyond
    ``cached`` traders: decoding a trader's state (its open lots and 90 day summaries) costs
    more than folding a fetch's fills of that trader, and an active trader is in most
    fetches. The cache only ever holds what the store holds: ``write`` refreshes it after the
    batch is written, and a fold that fails before its write ``forget``s what it touched.
    """

    def __init__(self, path: Path, cached: int = 20_000) -> None:
        self.path = path
        self._db = open_store(path, FORMAT, FORMAT_KEY)
        self._cache: OrderedDict[str, TrackState] = OrderedDict()
        self._cached = cached

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
        """``user_id``'s state (do not change it), or None when no fill of theirs was read."""
        cached = self._cache.get(user_id)
        if cached is not None:
            return cached
        raw = self._db.get(self._key(user_id))
        return None if raw is None else decode(bytes(raw))

    def states(self, user_ids: Iterable[str]) -> dict[str, TrackState]:
        """The states of ``user_ids`` to fold into: the cached ones, the others in one
        multi-get (a new empty state for the unknown). Write them back with ``write``, or
        ``forget`` them."""
        out = {u: s for u in user_ids if (s := self._cache.get(u)) is not None}
        ids = [u for u in dict.fromkeys(user_ids) if u not in out]
        if ids:
            keys: list[str | int | float | bytes | bool] = [self._key(u) for u in ids]
            found = cast(list[bytes | None], self._db.get(keys))
            for u, raw in zip(ids, found, strict=True):
                out[u] = new_state(u) if raw is None else decode(bytes(raw))
        return out

    def forget(self, user_ids: Iterable[str]) -> None:
        """Drop cached states (a fold changed them in place and was not written)."""
        for u in user_ids:
            self._cache.pop(u, None)

    def write(self, states: Mapping[str, TrackState], *, source: str, next_offset: int,
              skipped: int) -> None:
        """``states``, ``source``'s next offset and its skipped count in one write batch."""
        batch = WriteBatch(raw_mode=True)
        for user_id, state in states.items():
            batch.put(self._key(user_id), encode(state))
        batch.put(_APPLIED + source.encode(), _COUNT.pack(next_offset))
        batch.put(_SKIPPED + source.encode(), _COUNT.pack(skipped))
        self._db.write(batch)
        for user_id, state in states.items():
            self._cache[user_id] = state
            self._cache.move_to_end(user_id)
        while len(self._cache) > self._cached:
            self._cache.popitem(last=False)

    def close(self) -> None:
        """Flush and close."""
        self._db.close()
