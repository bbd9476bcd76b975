"""Drafts in one RocksDB store per partition of planet.content.drafts.v1 (keyed by author).

Layout (one key per draft, one list key per live draft; nothing per author that grows):

  ``d:<draft id>`` -> the draft's state (the ``Draft`` RPC message: latest revision, rendered
      body, and once ended when it was published or discarded: a tombstone)
  ``u:<author length, 2 bytes><author><inverted updated ms, 8 bytes><draft id>`` -> b""
      for each live draft: an ascending scan of one author's range is most recently updated
      first (ties by draft id); a save moves the key, publishing or discarding removes it
  ``~applied`` -> the next offset of the partition to read, in the same write batch as the
      drafts it covers, so a restart catches up from there and never disagrees with it

The author is length-prefixed because user ids come from the exchange in any alphabet: no
author's range can contain another's. The topic is the changelog (content is its single
writer, records are kept forever): a store that is missing, unreadable, of another format or
ahead of its topic is deleted and rebuilt from offset 0. Every event goes through
``domain/drafts.apply``, in the tail and ahead of it, so a rebuilt store equals the live one.
"""

from __future__ import annotations

import logging
import shutil
import struct
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from aiokafka.structs import ConsumerRecord
from rocksdict import WriteBatch

from planet.content.v1 import drafts_pb2 as dr
from planetkit.envelope import UndecodableEvent
from services.content.adapters.partition_dirs import PartitionDirs
from services.content.adapters.post_store import open_store
from services.content.domain.drafts import (
    MAX_DRAFTS_PER_AUTHOR,
    Draft,
    DraftEvent,
    decode_draft_event,
    draft_from_pb,
    draft_to_pb,
)
from services.content.domain.drafts import apply as apply_event
from services.content.domain.markdown import POLICY_VERSION
from services.content.domain.stored import APPLIED_KEY, offset_from_value, offset_value

log = logging.getLogger(__name__)

# Bump when the layout changes (the Markdown policy included: stored drafts carry HTML).
FORMAT = b"content-drafts/1.md%d" % POLICY_VERSION
_DRAFT = b"d:"
_LIST = b"u:"
_AUTHOR_LEN = struct.Struct(">H")
_TIME = struct.Struct(">Q")
_MAX_MS = 2**63 - 1


def _draft_key(draft_id: str) -> bytes:
    return _DRAFT + draft_id.encode()


def _author_prefix(author_id: str) -> bytes:
    raw = author_id.encode()
    if len(raw) > 0xFFFF:
        raise ValueError(f"an author id of {len(raw)} bytes cannot be listed")
    return _LIST + _AUTHOR_LEN.pack(len(raw)) + raw


def _list_key(draft: Draft) -> bytes:
    ms = min(max(draft.updated_at_ms, 0), _MAX_MS)
    return _author_prefix(draft.author_id) + _TIME.pack(_MAX_MS - ms) + draft.draft_id.encode()


class DraftStore:
    """The drafts of one partition's authors, and the offset of that partition they reflect."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = open_store(path, FORMAT)
        raw = self._db.get(APPLIED_KEY)
        self.applied = 0 if raw is None else offset_from_value(raw)

    # The tail --------------------------------------------------------------------------------

    def apply(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Fold a fetch's events and write the next offset in the same batch; how many
        drafts were new."""
        events: list[DraftEvent] = []
        last = -1
        for record in records:
            last = record.offset
            try:
                events.append(decode_draft_event(record.value).payload)
            except UndecodableEvent as exc:
                # Only content writes the topic: a bug to look at, kept in the log.
                log.error("skipping undecodable drafts record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
        if last < 0:
            return 0
        batch = WriteBatch(raw_mode=True)
        new = self._fold(batch, events)
        batch.put(APPLIED_KEY, offset_value(last + 1))
        self._db.write(batch)
        self.applied = last + 1
        return new

    def put_event(self, payload: DraftEvent) -> Draft | None:
        """Apply an event this replica just committed, ahead of the tail (which then changes
        nothing), so the author reads their own save at once; the draft after it."""
        batch = WriteBatch(raw_mode=True)
        self._fold(batch, [payload])
        self._db.write(batch)
        return self.get(payload.draft_id)

    def _fold(self, batch: WriteBatch, events: list[DraftEvent]) -> int:
        ids = list(dict.fromkeys(e.draft_id for e in events))
        keys: list[str | int | float | bytes | bool] = [_draft_key(i) for i in ids]
        raws = cast(list[bytes | None], self._db.get(keys))
        before: dict[str, Draft | None] = {
            i: None if raw is None else draft_from_pb(dr.Draft.FromString(bytes(raw)))
            for i, raw in zip(ids, raws, strict=True)}
        states = dict(before)
        new = 0
        for event in events:
            after = apply_event(states[event.draft_id], event)
            if after is None:
                continue
            if states[event.draft_id] is None:
                new += 1
            states[event.draft_id] = after
        for draft_id, state in states.items():
            old = before[draft_id]
            if state is None or state is old:
                continue
            batch.put(_draft_key(draft_id), draft_to_pb(state).SerializeToString())
            old_key = _list_key(old) if old is not None and old.live else None
            new_key = _list_key(state) if state.live else None
            if old_key is not None and old_key != new_key:
                batch.delete(old_key)
            if new_key is not None:
                batch.put(new_key, b"")
        return new

    # Reads -----------------------------------------------------------------------------------

    def get(self, draft_id: str) -> Draft | None:
        """The draft's state (ended drafts too: the rules decide who sees what)."""
        raw = self._db.get(_draft_key(draft_id))
        return None if raw is None else draft_from_pb(dr.Draft.FromString(bytes(raw)))

    def _live_ids(self, author_id: str, limit: int) -> list[str]:
        prefix = _author_prefix(author_id)
        ids: list[str] = []
        it = self._db.iter()
        it.seek(prefix)
        while len(ids) < limit and it.valid():
            key = bytes(it.key())
            if not key.startswith(prefix):
                break
            ids.append(key[len(prefix) + _TIME.size:].decode())
            it.next()
        del it
        return ids

    def count(self, author_id: str) -> int:
        """The author's live drafts (counted up to one past the limit: a bounded scan)."""
        return len(self._live_ids(author_id, MAX_DRAFTS_PER_AUTHOR + 1))

    def list(self, author_id: str) -> list[Draft]:
        """The author's live drafts, most recently updated first (at most the limit)."""
        ids = self._live_ids(author_id, MAX_DRAFTS_PER_AUTHOR)
        if not ids:
            return []
        keys: list[str | int | float | bytes | bool] = [_draft_key(i) for i in ids]
        raws = cast(list[bytes | None], self._db.get(keys))
        return [draft_from_pb(dr.Draft.FromString(bytes(raw))) for raw in raws
                if raw is not None]

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = open_store(self.path, FORMAT)
        self.applied = 0

    def close(self) -> None:
        """Flush and close."""
        self._db.close()


class DraftStores(PartitionDirs[DraftStore]):
    """The draft stores of one topic under one directory, opened as partitions arrive."""

    def __init__(self, root: Path, topic: str) -> None:
        super().__init__(root, topic, DraftStore)
