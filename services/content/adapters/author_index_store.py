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
from planetkit.envelope import UndecodableEvent, decode
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
        """Index a fetch's posts and write the next offset in the same batch; how many were new.

        The first record of a post id wins (as in the posts store): a post is indexed once,
        under the time it was first published.
        """
        entries: dict[bytes, tuple[bytes, bytes]] = {}  # reverse key -> (entry key, value)
        last = -1
        for record in records:
            last = record.offset
            try:
                event = decode(record.value, PostPublished)
            except UndecodableEvent as exc:
                # Only content writes the topic: a bug to look at, kept in the log.
                log.error("skipping undecodable author-posts record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
                continue
            post = event.payload
            rkey = reverse_key(post.post_id)
            if rkey not in entries:
                entries[rkey] = (
                    entry_key(post.creator_id, post.published_at_ms, post.post_id),
                    post_value(event.envelope.aggregate_version, event.envelope.payload))
        if last < 0:
            return 0
        batch = WriteBatch(raw_mode=True)
        new = self._put_new(batch, entries)
        batch.put(APPLIED_KEY, offset_value(last + 1))
        self._db.write(batch)
        self.applied = last + 1
        return new

    def put_published(self, post: Post, payload: bytes) -> None:
        """Index a post this replica just committed, ahead of the tail (which keeps this copy),
        so the author's list shows it as soon as PublishPost returns."""
        batch = WriteBatch(raw_mode=True)
        self._put_new(batch, {reverse_key(post.post_id): (
            entry_key(post.creator_id, post.published_at_ms, post.post_id),
            post_value(post.version, payload))})
        self._db.write(batch)

    def _put_new(self, batch: WriteBatch, entries: dict[bytes, tuple[bytes, bytes]]) -> int:
        rkeys = list(entries)
        if not rkeys:
            return 0
        wanted: list[str | int | float | bytes | bool] = list(rkeys)
        known = cast(list[bytes | None], self._db.get(wanted))
        new = 0
        for rkey, found in zip(rkeys, known, strict=True):
            if found is None:
                ekey, value = entries[rkey]
                batch.put(ekey, value)
                batch.put(rkey, ekey)
                new += 1
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
            # Issue 13 (removals) filters removed and deleted posts here, before they count
            # toward the page (a removal deletes the entry via its r: key, or marks it).
            posts.append(post_from_value(bytes(it.value())))
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


class AuthorIndexStores:
    """The index stores of one topic under one directory, opened as partitions arrive."""

    def __init__(self, root: Path, topic: str) -> None:
        self.root = root / topic
        self._open: dict[int, AuthorIndexStore] = {}

    def store(self, partition: int) -> AuthorIndexStore:
        """The store of ``partition``, opened (or created) on first use."""
        store = self._open.get(partition)
        if store is None:
            store = AuthorIndexStore(self.root / f"p{partition}", partition)
            self._open[partition] = store
        return store

    def close(self) -> None:
        """Close every open store."""
        for store in self._open.values():
            store.close()
        self._open.clear()

