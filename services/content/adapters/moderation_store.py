"""Items' moderation (reports, removals, appeals) in one RocksDB store per partition of
planet.content.moderation.v1 (the fold is ``domain/moderation.py``'s).

Layout, nothing per user that grows with their activity:

  ``s:<item id>``            -> the item's ``ItemModeration`` (its current state)
  ``r:<report id>``          -> the ``ItemReported`` (a repeated report finds it)
  ``q:<first report ms><item id>`` -> "" while the item has open reports (the operator queue,
                                oldest first: one range scan)
  ``g:<appealed ms><item id>``     -> "" while an appeal of its removal is pending

Two paths write a store with the one fold: the deciding replica applies a decision the
moment its transaction commits (the caller reads its own write), and the tail applies every
record of the topic with the next offset in the same write batch (a restart catches up from
there). Whichever comes second changes nothing. The topic is this store's changelog (content
is its single writer and keeps it forever): a store that is missing, unreadable, of another
format or ahead of its topic is deleted and rebuilt from offset 0.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

from aiokafka.structs import ConsumerRecord
from rocksdict import WriteBatch

from planet.content.v1 import reports_pb2 as rp
from planetkit.envelope import DomainEvent, UndecodableEvent, decode
from services.content.adapters.partition_dirs import PartitionDirs
from services.content.adapters.post_store import open_store
from services.content.domain.moderation import (
    MODERATION_EVENTS,
    ModerationEvent,
    QueueCursor,
    apply,
    queue_keys,
    queue_prefix,
    queue_start,
)
from services.content.domain.stored import APPLIED_KEY, offset_from_value, offset_value

log = logging.getLogger(__name__)
FORMAT = b"content-moderation/1"
_STATE = b"s:"
_REPORT = b"r:"


def _state_key(item_id: str) -> bytes:
    return _STATE + item_id.encode()


def _report_key(report_id: str) -> bytes:
    return _REPORT + report_id.encode()


class ModerationStore:
    """The moderation of the items of one partition, and the offset it reflects."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = open_store(path, FORMAT)
        raw = self._db.get(APPLIED_KEY)
        self.applied = 0 if raw is None else offset_from_value(raw)

    def apply(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Fold a fetch and write the next offset in the same batch; how many facts changed
        an item."""
        events: list[ModerationEvent] = []
        last = -1
        for record in records:
            last = record.offset
            try:
                fact: DomainEvent[ModerationEvent] = decode(record.value, *MODERATION_EVENTS)
                events.append(fact.payload)
            except UndecodableEvent as exc:
                # Only content writes the topic: a bug to look at, kept in the log.
                log.error("skipping undecodable moderation record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
        if last < 0:
            return 0
        batch = WriteBatch(raw_mode=True)
        changed = self._fold(batch, events)
        batch.put(APPLIED_KEY, offset_value(last + 1))
        self._db.write(batch)
        self.applied = last + 1
        return changed

    def put_decided(self, events: Iterable[ModerationEvent]) -> None:
        """Apply facts this replica just committed, ahead of the tail (the offset is left
        alone: the tail applies the same records later, which then change nothing)."""
        batch = WriteBatch(raw_mode=True)
        self._fold(batch, list(events))
        self._db.write(batch)

    def _fold(self, batch: WriteBatch, events: list[ModerationEvent]) -> int:
        states: dict[str, rp.ItemModeration | None] = {}
        originals: dict[str, rp.ItemModeration | None] = {}
        seen_reports: set[str] = set()
        changed = 0
        for event in events:
            item_id = event.item_id
            if item_id not in states:
                states[item_id] = originals[item_id] = self.state(item_id)
            if isinstance(event, rp.ItemReported):
                if (event.report_id in seen_reports
                        or self._db.get(_report_key(event.report_id)) is not None):
                    continue
                seen_reports.add(event.report_id)
            after = apply(states[item_id], event)
            if after is None:
                continue
            if isinstance(event, rp.ItemReported):
                batch.put(_report_key(event.report_id), event.SerializeToString())
            states[item_id] = after
            changed += 1
        for item_id, state in states.items():
            before = originals[item_id]
            if state is before or state is None:
                continue
            batch.put(_state_key(item_id), state.SerializeToString())
            old, new = queue_keys(before), queue_keys(state)
            for key in old - new:
                batch.delete(key)
            for key in new - old:
                batch.put(key, b"")
        return changed

    def state(self, item_id: str) -> rp.ItemModeration | None:
        """The item's moderation (None: never reported nor removed)."""
        raw = self._db.get(_state_key(item_id))
        return None if raw is None else rp.ItemModeration.FromString(raw)

    def report(self, report_id: str) -> rp.ItemReported | None:
        """A report, by id."""
        raw = self._db.get(_report_key(report_id))
        return None if raw is None else rp.ItemReported.FromString(raw)

    def removed(self, item_id: str) -> bool:
        """Whether the item is removed now (one read)."""
        state = self.state(item_id)
        return state is not None and state.removed_at_ms > 0

    def queue(self, queue: int, after: QueueCursor | None, count: int
              ) -> list[rp.ItemModeration]:
        """Up to ``count`` items of ``queue`` after ``after``, oldest first."""
        prefix = queue_prefix(queue)
        out: list[rp.ItemModeration] = []
        it = self._db.iter()
        it.seek(queue_start(queue, after))
        while len(out) < count and it.valid():
            key = bytes(it.key())
            if not key.startswith(prefix):
                break
            state = self.state(key[len(prefix) + 8:].decode())
            if state is not None:
                out.append(state)
            it.next()
        del it
        return out

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = open_store(self.path, FORMAT)
        self.applied = 0

    def close(self) -> None:
        """Flush and close."""
        self._db.close()


class ModerationStores(PartitionDirs[ModerationStore]):
    """The moderation stores of one topic under one directory, opened as partitions arrive."""

    def __init__(self, root: Path, topic: str) -> None:
        super().__init__(root, topic, ModerationStore)
