"""Authors' posts, newest first, in one RocksDB store per partition of the author-posts topic.

The layout is ``domain/author_index.py``'s. Each fetch of the topic is written with the next
offset to read in one write batch, so a restart catches up from there and a crash never
leaves a store whose position disagrees with its contents. The topic is this store's
changelog (content is its single writer, records are kept forever): a store that is missing,
unreadable, of another format or ahead of its topic is deleted and rebuilt from offset 0.

Entries hold the whole post, so a page is one range scan on one replica: no second read of
the posts store, which lives on the post id's partition, usually another replica's.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from aiokafka.structs import ConsumerRecord
from rocksdict import WriteBatch

from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import UndecodableEvent
from services.content.adapters.partition_dirs import PartitionDirs
from services.content.adapters.post_store import open_store
from services.content.domain.author_index import (
    FORMAT,
    Cursor,
    author_prefix,
    entry_key,
    reverse_key,
    start_after,
)
from services.content.domain.model import Post
from services.content.domain.post_events import PostEvent, decode_post_event
from services.content.domain.post_events import apply as apply_event
from services.content.domain.stored import (
    APPLIED_KEY,
    offset_from_value,
    offset_value,
    post_from_value,
    post_value,
)

log = logging.getLogger(__name__)


class AuthorIndexStore:
    """The authors of one partition, each with their posts newest first, and the offset."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = open_store(path, FORMAT)
        raw = self._db.get(APPLIED_KEY)
        self.applied = 0 if raw is None else offset_from_value(raw)

    def apply(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Apply a fetch's events and write the next offset in the same batch; how many posts
        were new.

        A post is indexed once, under the time it was first published (the first
        PostPublished of an id wins, as in the posts store); an edit replaces its entry's
        state (``post_events.apply``: the first event of each version wins); a deletion
        removes the entry, so no page ever counts or scans it, and keeps the ``r:`` key, so
        a duplicate PostPublished logged later cannot bring it back.
        """
        events: list[tuple[Envelope, PostEvent]] = []
        last = -1
        for record in records:
            last = record.offset
            try:
                event = decode_post_event(record.value)
            except UndecodableEvent as exc:
                # Only content writes the topic: a bug to look at, kept in the log.
                log.error("skipping undecodable author-posts record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
                continue
            events.append((event.envelope, event.payload))
        if last < 0:
            return 0
        batch = WriteBatch(raw_mode=True)
        new = self._fold(batch, events)
        batch.put(APPLIED_KEY, offset_value(last + 1))
        self._db.write(batch)
        self.applied = last + 1
        return new

    def put_event(self, envelope: Envelope, payload: PostEvent) -> None:
        """Apply an event this replica just committed, ahead of the tail (which then changes
        nothing), so the author's list shows it as soon as the call returns."""
        batch = WriteBatch(raw_mode=True)
        self._fold(batch, [(envelope, payload)])
        self._db.write(batch)

    def put_published(self, post: Post, payload: bytes) -> None:
        """Index a post this replica just committed, ahead of the tail."""
        self.put_event(Envelope(aggregate_id=post.post_id, aggregate_version=post.version),
                       PostPublished.FromString(payload))

    def _fold(self, batch: WriteBatch, events: list[tuple[Envelope, PostEvent]]) -> int:
        """Apply ``events`` in order onto the stored entries, into ``batch``; new posts."""
        ids = list(dict.fromkeys(p.post_id for _, p in events))
        rkeys = [reverse_key(i) for i in ids]
        wanted: list[str | int | float | bytes | bool] = list(rkeys)
        ekeys: dict[str, bytes | None] = {
            i: None if k is None else bytes(k) for i, k in
            zip(ids, cast(list[bytes | None], self._db.get(wanted)), strict=True)}
        known: dict[str, bool] = {i: k is not None for i, k in ekeys.items()}
        present = [k for k in ekeys.values() if k is not None]
        found: list[str | int | float | bytes | bool] = list(present)
        values = cast(list[bytes | None], self._db.get(found)) if present else []
        entry: dict[bytes, bytes | None] = dict(zip(present, values, strict=True))
        states: dict[str, Post | None] = {}
        for i, ekey in ekeys.items():
            raw = entry.get(ekey) if ekey is not None else None
            states[i] = None if raw is None else post_from_value(raw)
        new = 0
        for envelope, payload in events:
            pid = payload.post_id
            if isinstance(payload, PostPublished) and known[pid]:
                continue  # indexed (or indexed and deleted) before: the first wins
            applied = apply_event(states[pid], envelope, payload)
            if applied is None:
                continue
            post = applied.post
            states[pid] = post
            ekey = entry_key(post.creator_id, post.published_at_ms, pid)
            if applied.revision == 1:
                known[pid] = True
                batch.put(reverse_key(pid), ekey)
                new += 1
            if post.deleted_at_ms:
                batch.delete(ekey)
                states[pid] = None  # nothing later applies to a deleted entry
            else:
                batch.put(ekey, post_value(post))
        return new

    def page(self, author_id: str, after: Cursor | None, limit: int
             ) -> tuple[list[Post], Cursor | None]:
        """Up to ``limit`` of the author's posts after ``after``, newest first, and the cursor
        of the next page (None when this is the last)."""
        prefix = author_prefix(author_id)
        posts: list[Post] = []
        it = self._db.iter()
        it.seek(start_after(author_id, after))
        while len(posts) <= limit and it.valid():
            key = bytes(it.key())
            if not key.startswith(prefix):
                break
            # Deleted posts are not here: their deletion removed the entry (``_fold``), so
            # a page never counts or scans them. A removed post keeps its entry, marked, so a
            # restoration brings it back; pages skip it (reports are rare).
            post = post_from_value(bytes(it.value()))
            if not post.removed_at_ms:
                posts.append(post)
            it.next()
        del it
        if len(posts) > limit:
            last = posts[limit - 1]
            return posts[:limit], Cursor(last.published_at_ms, last.post_id)
        return posts, None

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = open_store(self.path, FORMAT)
        self.applied = 0

    def close(self) -> None:
        """Flush and close."""
        self._db.close()


class AuthorIndexStores(PartitionDirs[AuthorIndexStore]):
    """The index stores of one topic under one directory, opened as partitions arrive."""

    def __init__(self, root: Path, topic: str) -> None:
        super().__init__(root, topic, AuthorIndexStore)

