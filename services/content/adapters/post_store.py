"""Posts in one embedded RocksDB store per partition of the posts topic (``rocksdict``).

Why RocksDB: it is on disk (memory does not grow with history), it writes a batch of keys
atomically (the posts of a fetch and the offset they bring the store to land together, so
a crash never leaves a store whose position disagrees with its contents), it reopens in
milliseconds whatever its size, and multi-get answers a 5 000-id ResolveAuthors in one
call. One store per partition, so a partition moves between replicas as a unit.

Recovery: the posts topic is the changelog (content is its single writer and it is kept
forever). A store that is missing, unreadable or of another format is deleted and rebuilt
from offset 0 of its partition; one whose position lies beyond the partition's end (the
topic was recreated) likewise. Nothing else is needed to recover: delete the directory.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import cast

from aiokafka.structs import ConsumerRecord
from rocksdict import Options, Rdict, WriteBatch

from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import UndecodableEvent
from services.content.adapters.partition_dirs import PartitionDirs
from services.content.domain.model import Post
from services.content.domain.post_events import Applied, PostEvent, decode_post_event
from services.content.domain.post_events import apply as apply_event
from services.content.domain.stored import (
    APPLIED_KEY,
    FORMAT,
    FORMAT_KEY,
    author_key,
    edit_request_key,
    offset_from_value,
    offset_value,
    post_from_value,
    post_key,
    post_value,
    revision_key,
    revision_number_from_value,
    revision_number_value,
    revision_prefix,
)

log = logging.getLogger(__name__)


class PartitionStore:
    """The posts of one partition, and the offset of that partition they reflect."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = open_store(path, FORMAT)
        self.applied = self._read_applied()

    def _read_applied(self) -> int:
        raw = self._db.get(APPLIED_KEY)
        return 0 if raw is None else offset_from_value(raw)

    def apply(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Write a fetch's events and the next offset in one batch; how many were new posts.

        Each event goes through ``post_events.apply`` (the first event of each version wins:
        a retry raced across a hand-over may log one twice, and records already applied
        ahead of the tail change nothing).
        """
        events: list[tuple[Envelope, PostEvent]] = []
        last = -1
        for record in records:
            last = record.offset
            try:
                event = decode_post_event(record.value)
            except UndecodableEvent as exc:
                # Only content writes the topic, so this is a bug to look at, not data to
                # lose silently: the record stays in the log, the store moves past it.
                log.error("skipping undecodable post record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
                continue
            events.append((event.envelope, event.payload))
        if last < 0:
            return 0
        batch = WriteBatch(raw_mode=True)
        new = len([a for a in self._fold(batch, events) if a.revision == 1])
        batch.put(APPLIED_KEY, offset_value(last + 1))
        self._db.write(batch)
        self.applied = last + 1
        return new

    def _fold(self, batch: WriteBatch, events: list[tuple[Envelope, PostEvent]]
              ) -> list[Applied]:
        """Apply ``events`` in order onto the stored states, into ``batch``; what changed."""
        ids = list(dict.fromkeys(p.post_id for _, p in events))
        states: dict[str, Post | None] = {
            i: None if raw is None else post_from_value(raw)
            for i, raw in zip(ids, self._many([post_key(i) for i in ids]), strict=True)}
        done: list[Applied] = []
        for envelope, payload in events:
            applied = apply_event(states[payload.post_id], envelope, payload)
            if applied is None:
                continue
            post = applied.post
            states[post.post_id] = post
            batch.put(post_key(post.post_id), post_value(post))
            if applied.revision:
                # The audit history keeps the source only; HTML is derived for display.
                batch.put(revision_key(post.post_id, applied.revision),
                          post_value(replace(post, body_html="")))
            if applied.revision == 1:
                batch.put(author_key(post.post_id), post.creator_id.encode())
            if applied.edit_request_id:
                batch.put(edit_request_key(post.post_id, applied.edit_request_id),
                          revision_number_value(applied.revision))
            done.append(applied)
        return done

    def put_event(self, envelope: Envelope, payload: PostEvent) -> Applied | None:
        """Apply an event this replica just appended (acknowledged), ahead of the tail.

        The offset is left alone: the tail applies the same record later, which then changes
        nothing, so reads see the change as soon as the call that made it returns.
        """
        batch = WriteBatch(raw_mode=True)
        done = self._fold(batch, [(envelope, payload)])
        self._db.write(batch)
        return done[0] if done else None

    def put_published(self, post_id: str, creator_id: str, version: int, payload: bytes) -> None:
        """Store a post this replica just appended (acknowledged), ahead of the tail."""
        self.put_event(Envelope(aggregate_id=post_id, aggregate_version=version),
                       PostPublished.FromString(payload))

    def revisions(self, post_id: str, before: int, limit: int) -> list[Post]:
        """Up to ``limit`` revisions of the post below ``before`` (0: from the latest), newest
        first."""
        prefix = revision_prefix(post_id)
        upper = revision_key(post_id, before) if before else prefix + b"\xff" * 5
        out: list[Post] = []
        it = self._db.iter()
        it.seek_for_prev(upper)
        while len(out) < limit and it.valid():
            key = bytes(it.key())
            if not key.startswith(prefix):
                break
            if key != upper:
                out.append(post_from_value(bytes(it.value())))
            it.prev()
        del it
        return out

    def edit_revision(self, post_id: str, request_id: str) -> int:
        """The revision an edit request made (0 when it made none here)."""
        raw = self._db.get(edit_request_key(post_id, request_id))
        return 0 if raw is None else revision_number_from_value(raw)

    def get(self, post_id: str) -> Post | None:
        """The post called ``post_id`` if this partition has it."""
        raw = self._db.get(post_key(post_id))
        return None if raw is None else post_from_value(raw)

    def authors(self, post_ids: list[str]) -> dict[str, str]:
        """Creator of each id this partition knows."""
        found = self._many([author_key(i) for i in post_ids])
        return {i: c.decode() for i, c in zip(post_ids, found, strict=True) if c is not None}

    def _many(self, keys: list[bytes]) -> list[bytes | None]:
        """One multi-get (RocksDB MultiGet): a value or None per key, in order."""
        if not keys:
            return []
        wanted: list[str | int | float | bytes | bool] = list(keys)
        return cast(list[bytes | None], self._db.get(wanted))

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = open_store(self.path, FORMAT)
        self.applied = 0

    def close(self) -> None:
        """Flush and close (a crash instead loses nothing the WAL acknowledged)."""
        self._db.close()


def open_store(path: Path, fmt: bytes) -> Rdict:
    """Open (or create) a store of format ``fmt``; delete and recreate one that is unreadable
    or foreign (it is rebuilt from its topic)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = _open_raw(path)
        found = db.get(FORMAT_KEY)
        applied = db.get(APPLIED_KEY)
        if applied is not None:
            offset_from_value(applied)
        if found == fmt:
            return db
        if found is None and applied is None:
            db.put(FORMAT_KEY, fmt)  # a new, empty store
            return db
        db.close()
        reason = f"format {found!r}, expected {fmt!r}"
    except Exception as exc:  # RocksDB reports corruption as a bare Exception
        reason = f"unreadable: {exc}"
    log.warning("rebuilding store from the topic", extra={"path": str(path), "reason": reason})
    shutil.rmtree(path, ignore_errors=True)
    db = _open_raw(path)
    db.put(FORMAT_KEY, fmt)
    return db


def _open_raw(path: Path) -> Rdict:
    options = Options(raw_mode=True)
    options.create_if_missing(True)
    return Rdict(str(path), options)


class PostStores(PartitionDirs[PartitionStore]):
    """The partition stores of one topic under one directory, opened as partitions arrive."""

    def __init__(self, root: Path, topic: str) -> None:
        super().__init__(root, topic, PartitionStore)

    def on_disk(self) -> dict[int, int]:
        """Applied offset of every partition store present (for the group claim)."""
        if self.root.is_dir():
            for child in self.root.iterdir():
                if child.name.startswith("p") and child.name[1:].isdigit():
                    self.store(int(child.name[1:]))
        return {p: s.applied for p, s in self._open.items()}
