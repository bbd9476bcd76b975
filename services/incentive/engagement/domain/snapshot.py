"""Bookkeeping of the compacted dedup snapshot: keys, generations, when to re-snapshot.

The dedup topic (one partition per input partition, compacted) holds, per input
partition, a *generation*: a full snapshot of the memory (``snap`` keys), then the
ids each later commit accepted (``tail`` keys). Each key holds ids of one ISO week,
so a week that falls out of the horizon is removed by tombstoning its keys. When
the tail holds as many ids as the snapshot (and at least ``min_tail_ids``), the
next commit writes generation g+1 from memory and tombstones every key of g.

Where generation g starts in the dedup partition travels in the input offset's
commit metadata, in the same transaction as the ids and the offsets, so a restart
reads from there: at most the snapshot plus a tail no larger than it (or
``min_tail_ids``), however long the history and whether or not the broker has
compacted the old generations away yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import NamedTuple

SNAP = "snap"
TAIL = "tail"


class DedupKey(NamedTuple):
    """The parts of a dedup record key: ``p<partition>/g<generation>/<kind>/<week>/<n>``."""

    partition: int
    generation: int
    kind: str
    week: str
    n: int

    def encode(self) -> bytes:
        """The Kafka key."""
        return f"p{self.partition}/g{self.generation}/{self.kind}/{self.week}/{self.n}".encode()


def parse_key(raw: bytes | None) -> DedupKey:
    """Split a dedup key; ValueError when it is not one this aggregator writes."""
    parts = (raw or b"").decode("utf-8", "replace").split("/")
    if len(parts) != 5 or parts[0][:1] != "p" or parts[1][:1] != "g" or parts[2] not in (
        SNAP,
        TAIL,
    ):
        raise ValueError(f"not a dedup snapshot key: {raw!r}")
    return DedupKey(int(parts[0][1:]), int(parts[1][1:]), parts[2], parts[3], int(parts[4]))


class SnapshotPosition(NamedTuple):
    """Where a partition's current generation starts in its dedup partition."""

    generation: int
    start_offset: int


def encode_position(position: SnapshotPosition) -> str:
    """Offset-commit metadata naming the generation to restore from (JSON, < 100 bytes)."""
    return json.dumps(
        {"dedup": {"generation": position.generation, "from": position.start_offset}},
        separators=(",", ":"),
    )


def decode_position(metadata: str) -> SnapshotPosition:
    """The position in commit metadata; generation 0 from offset 0 when there is none yet.

    ValueError when metadata is present but not ours: restoring from a guess could
    forget ids and count events twice, so the aggregator refuses to start instead.
    """
    if not metadata:
        return SnapshotPosition(0, 0)
    try:
        dedup = json.loads(metadata)["dedup"]
        generation, start = dedup["generation"], dedup["from"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"input offset metadata is not a dedup position: {metadata!r}") from exc
    if not (isinstance(generation, int) and isinstance(start, int)) or min(generation, start) < 0:
        raise ValueError(f"input offset metadata is not a dedup position: {metadata!r}")
    return SnapshotPosition(generation, start)


@dataclass
class PartitionLedger:
    """What one input partition's dedup partition holds live, and its position."""

    position: SnapshotPosition = field(default_factory=lambda: SnapshotPosition(0, 0))
    # Live keys (snapshot and tail of the current generation) by week.
    keys: dict[str, list[DedupKey]] = field(default_factory=dict)
    snapshot_ids: int = 0
    tail_ids: int = 0
    next_n: int = 0
    # Keys found stale at restore, tombstoned with the partition's next commit.
    pending_tombstones: list[DedupKey] = field(default_factory=list)

    def snapshot_due(self, min_tail_ids: int) -> bool:
        """True when the tail is as large as the snapshot (and at least ``min_tail_ids``)."""
        return self.tail_ids >= max(self.snapshot_ids, min_tail_ids)

    def new_key(self, partition: int, kind: str, week: str, generation: int) -> DedupKey:
        """A fresh key, filed as live under its week."""
        key = DedupKey(partition, generation, kind, week, self.next_n)
        self.next_n += 1
        self.keys.setdefault(week, []).append(key)
        return key

    def restored(self, key: DedupKey, ids: int) -> None:
        """Account a record read back at restore (any generation from the position on)."""
        self.keys.setdefault(key.week, []).append(key)
        self.next_n = max(self.next_n, key.n + 1)
        if key.kind == SNAP and key.generation == self.position.generation:
            self.snapshot_ids += ids
        else:
            self.tail_ids += ids

    def forget(self, key: DedupKey) -> None:
        """A tombstone read back at restore: that key is no longer live."""
        live = self.keys.get(key.week)
        if live is not None and key in live:
            live.remove(key)
            if not live:
                del self.keys[key.week]

    def drop_weeks(self, weeks: list[str]) -> list[DedupKey]:
        """Stop tracking pruned weeks; their keys, to tombstone."""
        return [key for week in weeks for key in self.keys.pop(week, [])]

    def all_keys(self) -> list[DedupKey]:
        """Every live key (tombstoned when a new generation is committed)."""
        return [key for keys in self.keys.values() for key in keys]
