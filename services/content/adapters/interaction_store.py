"""Comments, likes, shares and their exact counts, in one RocksDB store per partition of
planet.content.interactions.v1 (layout: ``domain/interactions_layout.py``).

Two paths write a store, with one function: the deciding replica applies an action the
moment its transaction commits (read-your-writes for the actor), and the tail applies every
record of the topic with the next offset in the same write batch (a restart catches up from
there; a store rebuilt from offset 0 equals the live one). Each action's event id is marked
in the same batch, so whichever path comes second changes nothing.

Applying is deterministic given the store: a like of a liked item, an edit of a deleted
comment, a second CommentPosted with a known id: each changes nothing, and a counter moves
only with the state it counts.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message
from rocksdict import Rdict, WriteBatch

from planet.content.v1 import interactions_pb2 as pb
from planetkit.envelope import UndecodableEvent, decode
from services.content.adapters.partition_dirs import PartitionDirs
from services.content.adapters.post_store import open_store
from services.content.domain.interactions import Stats
from services.content.domain.interactions_layout import (
    COMMENTS,
    FORMAT,
    LIKES,
    SHARES,
    ThreadCursor,
    applied_key,
    comment_key,
    count_from_value,
    count_value,
    counter_key,
    like_key,
    share_key,
    thread_key,
    thread_prefix,
)
from services.content.domain.stored import APPLIED_KEY, offset_from_value, offset_value

log = logging.getLogger(__name__)

EVENT_TYPES: tuple[type[Message], ...] = (
    pb.CommentPosted, pb.CommentEdited, pb.CommentDeleted, pb.ItemLiked, pb.ItemUnliked,
    pb.ItemShared,
)
_ABSENT = b""


class _Overlay:
    """Reads through the writes of a batch not yet written (a fetch may touch a key twice)."""

    def __init__(self, db: Rdict) -> None:
        self._db = db
        self.pending: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.pending:
            return self.pending[key]
        return cast(bytes | None, self._db.get(key))

    def put(self, key: bytes, value: bytes) -> None:
        self.pending[key] = value

    def delete(self, key: bytes) -> None:
        self.pending[key] = None

    def add(self, key: bytes, delta: int) -> None:
        self.put(key, count_value(count_from_value(self.get(key)) + delta))

    def batch(self) -> WriteBatch:
        batch = WriteBatch(raw_mode=True)
        for key, value in self.pending.items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        return batch


def _apply(view: _Overlay, event_id: str, event: Message) -> bool:
    """Apply one action to ``view``; False when it changed nothing (already applied)."""
    mark = applied_key(event_id)
    if view.get(mark) is not None:
        return False
    view.put(mark, _ABSENT)
    if isinstance(event, pb.CommentPosted):
        key = comment_key(event.comment_id)
        if view.get(key) is not None:
            return False
        view.put(key, pb.Comment(
            comment_id=event.comment_id, post_id=event.post_id, author_id=event.author_id,
            parent_comment_id=event.parent_comment_id, text=event.text,
            created_at_ms=event.at_ms, depth=event.depth).SerializeToString())
        view.put(thread_key(event.post_id, event.parent_comment_id, event.at_ms,
                            event.comment_id), _ABSENT)
        view.add(counter_key(event.post_id, COMMENTS), 1)
        if event.parent_comment_id:
            view.add(counter_key(event.parent_comment_id, COMMENTS), 1)
        return True
    if isinstance(event, pb.CommentEdited):
        comment = _comment(view, event.comment_id)
        if comment is None or comment.deleted:
            return False
        comment.text = event.text
        comment.edited_at_ms = event.at_ms
        comment.revision = event.revision
        view.put(comment_key(event.comment_id), comment.SerializeToString())
        return True
    if isinstance(event, pb.CommentDeleted):
        comment = _comment(view, event.comment_id)
        if comment is None or comment.deleted:
            return False
        comment.deleted = True
        comment.text = ""
        view.put(comment_key(event.comment_id), comment.SerializeToString())
        # A deleted comment with replies stays in its thread as a tombstone (its replies
        # hang under it); one without leaves the thread.
        if count_from_value(view.get(counter_key(event.comment_id, COMMENTS))) == 0:
            view.delete(thread_key(comment.post_id, comment.parent_comment_id,
                                   comment.created_at_ms, comment.comment_id))
        view.add(counter_key(comment.post_id, COMMENTS), -1)
        if comment.parent_comment_id:
            view.add(counter_key(comment.parent_comment_id, COMMENTS), -1)
        return True
    if isinstance(event, pb.ItemLiked):
        key = like_key(event.item_id, event.user_id)
        if view.get(key) is not None:
            return False
        view.put(key, _ABSENT)
        view.add(counter_key(event.item_id, LIKES), 1)
        return True
    if isinstance(event, pb.ItemUnliked):
        key = like_key(event.item_id, event.user_id)
        if view.get(key) is None:
            return False
        view.delete(key)
        view.add(counter_key(event.item_id, LIKES), -1)
        return True
    if isinstance(event, pb.ItemShared):
        key = share_key(event.share_id)
        if view.get(key) is not None:
            return False
        view.put(key, pb.ShareView(
            share_id=event.share_id, post_id=event.post_id, user_id=event.user_id,
            quote=event.quote, at_ms=event.at_ms).SerializeToString())
        view.add(counter_key(event.item_id, SHARES), 1)
        return True
    raise TypeError(f"not an interaction event: {type(event).__name__}")


def _comment(view: _Overlay, comment_id: str) -> pb.Comment | None:
    raw = view.get(comment_key(comment_id))
    return None if raw is None else pb.Comment.FromString(raw)


class InteractionStore:
    """One partition's interactions, and the offset of the topic they reflect."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = open_store(path, FORMAT)
        raw = self._db.get(APPLIED_KEY)
        self.applied = 0 if raw is None else offset_from_value(raw)

    # Writes -------------------------------------------------------------------------------

    def apply(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Apply a fetch and write the next offset in the same batch; how many changed state."""
        view = _Overlay(self._db)
        changed = 0
        last = -1
        for record in records:
            last = record.offset
            try:
                event = decode(record.value, *EVENT_TYPES)
            except UndecodableEvent as exc:
                # Only content writes the topic: a bug to look at, kept in the log.
                log.error("skipping undecodable interactions record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
                continue
            changed += _apply(view, event.envelope.event_id, event.payload)
        if last < 0:
            return 0
        view.put(APPLIED_KEY, offset_value(last + 1))
        self._db.write(view.batch())
        self.applied = last + 1
        return changed

    def apply_decided(self, event_id: str, event: Message) -> bool:
        """Apply an action this replica just committed, ahead of the tail (which then skips
        it), so the actor reads their own write at once."""
        view = _Overlay(self._db)
        changed = _apply(view, event_id, event)
        self._db.write(view.batch())
        return changed

    # Reads --------------------------------------------------------------------------------

    def was_applied(self, event_id: str) -> bool:
        """True when the action with this event id is in the store (a retried request)."""
        return self._db.get(applied_key(event_id)) is not None

    def comment(self, comment_id: str) -> pb.Comment | None:
        """The comment (deleted ones too, marked), without stats."""
        raw = cast(bytes | None, self._db.get(comment_key(comment_id)))
        return None if raw is None else pb.Comment.FromString(raw)

    def share(self, share_id: str) -> pb.ShareView | None:
        """The share, if made."""
        raw = cast(bytes | None, self._db.get(share_key(share_id)))
        return None if raw is None else pb.ShareView.FromString(raw)

    def liked(self, item_id: str, user_id: str) -> bool:
        """True when ``user_id`` likes ``item_id``."""
        return self._db.get(like_key(item_id, user_id)) is not None

    def stats(self, item_id: str) -> Stats:
        """The item's exact counts."""
        keys: list[str | int | float | bytes | bool] = [
            counter_key(item_id, c) for c in (LIKES, COMMENTS, SHARES)]
        likes, comments, shares = (count_from_value(v) for v in
                                   cast(list[bytes | None], self._db.get(keys)))
        return Stats(likes=likes, comments=comments, shares=shares)

    def thread(self, post_id: str, parent_comment_id: str, after: ThreadCursor | None,
               limit: int, newest_first: bool) -> tuple[list[pb.Comment], ThreadCursor | None]:
        """Up to ``limit`` comments of one scope after ``after``, and the next page's cursor
        (None on the last page)."""
        prefix = thread_prefix(post_id, parent_comment_id)
        ids: list[str] = []
        for key in self._scan(prefix, after, post_id, parent_comment_id, newest_first):
            ids.append(key[len(prefix) + 8:].decode())
            if len(ids) > limit:
                break
        more = len(ids) > limit
        ids = ids[:limit]
        wanted: list[str | int | float | bytes | bool] = [comment_key(c) for c in ids]
        found = cast(list[bytes | None], self._db.get(wanted)) if wanted else []
        comments = [pb.Comment.FromString(raw) for raw in found if raw is not None]
        if more and comments:
            last = comments[-1]
            return comments, ThreadCursor(last.created_at_ms, last.comment_id)
        return comments, None

    def _scan(self, prefix: bytes, after: ThreadCursor | None, post_id: str, parent: str,
              newest_first: bool) -> Iterator[bytes]:
        it = self._db.iter()
        try:
            if not newest_first:
                start = prefix if after is None else (
                    thread_key(post_id, parent, after.at_ms, after.comment_id) + b"\x00")
                it.seek(start)
                while it.valid():
                    key = bytes(it.key())
                    if not key.startswith(prefix):
                        return
                    yield key
                    it.next()
                return
            if after is None:
                it.seek_for_prev(prefix + b"\xff" * 16)
            else:
                cursor_key = thread_key(post_id, parent, after.at_ms, after.comment_id)
                it.seek_for_prev(cursor_key)
                if it.valid() and bytes(it.key()) == cursor_key:
                    it.prev()
            while it.valid():
                key = bytes(it.key())
                if not key.startswith(prefix):
                    return
                yield key
                it.prev()
        finally:
            del it

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every key and value but the offset (tests compare a rebuilt store with this)."""
        it = self._db.iter()
        it.seek_to_first()
        while it.valid():
            key = bytes(it.key())
            if key != APPLIED_KEY:
                yield key, bytes(it.value())
            it.next()
        del it

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = open_store(self.path, FORMAT)
        self.applied = 0

    def close(self) -> None:
        """Flush and close."""
        self._db.close()


class InteractionStores(PartitionDirs[InteractionStore]):
    """The interaction stores of one topic under one directory, opened as partitions arrive."""

    def __init__(self, root: Path, topic: str) -> None:
        super().__init__(root, topic, InteractionStore)
