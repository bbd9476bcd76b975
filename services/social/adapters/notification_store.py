"""Notifications of one partition's recipients in an embedded RocksDB store (``rocksdict``).

``create`` is the decision and the write in one: for a batch of causes it reads each
recipient's last position and each derived notification id (two multi-gets), drops causes
already notified (a replay), gives the rest the next positions and writes the
notifications, the new last positions, the dedup keys and whatever the caller must record
with them (an input offset, a fan-out's progress) in **one write batch**. So a batch of
10 000 notifications is one RocksDB write, and a crash leaves all of it or none of it.
``apply_logged`` rebuilds the same keys from ``planet.social.notifications.v1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from rocksdict import WriteBatch

from planet.social.v1.notifications_pb2 import NotificationCreated, NotificationsRead
from services.social.adapters.rocks import open_store, scan
from services.social.domain.notifications.fanout import (
    FanoutProgress,
    progress_from_value,
    progress_value,
)
from services.social.domain.notifications.rules import Cause, read_mark, unread
from services.social.domain.notifications.stored import (
    FORMAT,
    FORMAT_KEY,
    applied_key,
    dedup_key,
    fanout_key,
    int_from_value,
    int_value,
    last_position_key,
    notification_key,
    notifications_prefix,
    read_key,
)

MAX_PAGE = 500


@dataclass
class Planned:
    """What the chunks of one batch have planned so far and not yet committed: each
    recipient's last position and the (recipient, notification id) pairs."""

    last: dict[str, int] = field(default_factory=dict)
    ids: set[tuple[str, str]] = field(default_factory=set)


class NotificationStore:
    """Recipients' notifications, positions and read marks; fan-out progress; offsets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_store(path, FORMAT, FORMAT_KEY)

    def _get(self, key: bytes) -> bytes | None:
        raw = self._db.get(key)
        return None if raw is None else bytes(raw)

    def _many(self, keys: list[bytes]) -> list[bytes | None]:
        if not keys:
            return []
        wanted: list[str | int | float | bytes | bool] = list(keys)
        return cast(list[bytes | None], self._db.get(wanted))

    def applied(self, source: str) -> int:
        """The next offset to read of ``source`` (``topic/partition``); 0 when never applied."""
        return int_from_value(self._get(applied_key(source)))

    def plan(self, causes: Sequence[Cause],
             planned: Planned | None = None) -> list[NotificationCreated]:
        """The notifications ``causes`` would create now, positioned; nothing is written.

        Causes already notified (a replay) and the same cause twice are dropped. The wired
        path decides under the service's write lock, appends the result to the notifications
        topic, then ``commit``s it: the store never holds what the log does not. A large
        batch is planned in chunks sharing one ``planned`` (what earlier chunks gave out).
        """
        planned = planned if planned is not None else Planned()
        recipients = [r for r in dict.fromkeys(c.recipient_id for c in causes)
                      if r not in planned.last]
        planned.last.update({r: int_from_value(v) for r, v in zip(
            recipients, self._many([last_position_key(r) for r in recipients]), strict=True)})
        last = planned.last
        ids = [c.notification_id for c in causes]
        seen = self._many([dedup_key(c.recipient_id, i) for c, i in zip(causes, ids, strict=True)])
        created: list[NotificationCreated] = []
        fresh = planned.ids
        for cause, nid, found in zip(causes, ids, seen, strict=True):
            if found is not None or (cause.recipient_id, nid) in fresh:
                continue  # a replayed cause, or the same cause twice in this batch
            fresh.add((cause.recipient_id, nid))
            position = last[cause.recipient_id] + 1
            last[cause.recipient_id] = position
            created.append(NotificationCreated(
                recipient_id=cause.recipient_id, notification_id=nid, kind=cause.kind,
                actor_id=cause.actor_id, subject_id=cause.subject_id, at_ms=cause.at_ms,
                position=position))
        return created

    def commit(
        self,
        created: Sequence[NotificationCreated],
        *,
        offsets: dict[str, int] | None = None,
        fanout: tuple[str, FanoutProgress] | None = None,
        reads: Sequence[NotificationsRead] = (),
        planned: bool = False,
    ) -> None:
        """Write notifications, read marks, next ``offsets`` (source -> offset) and a
        ``fanout`` (post id, progress) in one write batch. ``planned``: ``created`` comes from
        ``plan`` under the same lock, so each recipient's last is its highest position there
        (no read of the stored one)."""
        batch = WriteBatch(raw_mode=True)
        last: dict[str, int] = {}
        for event in created:
            r = event.recipient_id
            batch.put(notification_key(r, event.position), event.SerializeToString())
            batch.put(dedup_key(r, event.notification_id), int_value(event.position))
            last[r] = max(last.get(r, 0), event.position)
        stored_last = [None] * len(last) if planned else self._many(
            [last_position_key(r) for r in last])
        for (r, pos), raw in zip(last.items(), stored_last, strict=True):
            batch.put(last_position_key(r), int_value(max(pos, int_from_value(raw))))
        marks: dict[str, int] = {}
        for read in reads:
            marks[read.recipient_id] = max(marks.get(read.recipient_id, 0), read.up_to_position)
        stored_read = self._many([read_key(r) for r in marks])
        for (r, pos), raw in zip(marks.items(), stored_read, strict=True):
            batch.put(read_key(r), int_value(max(pos, int_from_value(raw))))
        if fanout is not None:
            post_id, progress = fanout
            batch.put(fanout_key(post_id), progress_value(progress))
        for source, next_offset in (offsets or {}).items():
            batch.put(applied_key(source), int_value(next_offset))
        self._db.write(batch)

    def create(
        self,
        causes: Sequence[Cause],
        *,
        source: str | None = None,
        next_offset: int | None = None,
        fanout: tuple[str, FanoutProgress] | None = None,
    ) -> list[NotificationCreated]:
        """Store a notification for every cause not yet notified; the new ones, positioned.

        ``plan`` then ``commit`` with no log in between (the one-process form: tests and the
        store benchmark). One write batch holds them all, with ``source``'s next offset and
        the ``fanout`` (post id, progress) when given. Callers check ``should_notify`` first.
        """
        created = self.plan(causes)
        offsets = {source: next_offset} if source is not None and next_offset is not None else {}
        self.commit(created, offsets=offsets, fanout=fanout, planned=True)
        return created

    def apply_logged(self, events: Sequence[NotificationCreated | NotificationsRead], *,
                     source: str, next_offset: int) -> None:
        """Rebuild from the log: each event at its logged position, and the offset, in one batch."""
        self.commit([e for e in events if isinstance(e, NotificationCreated)],
                    reads=[e for e in events if isinstance(e, NotificationsRead)],
                    offsets={source: next_offset})

    def mark_read(self, recipient: str, up_to: int) -> int:
        """Mark read up to ``up_to`` (never backwards, never past the last); the new mark."""
        current = int_from_value(self._get(read_key(recipient)))
        new = read_mark(current, up_to, self.last_position(recipient))
        if new != current:
            self._db.put(read_key(recipient), int_value(new))
        return new

    def last_position(self, recipient: str) -> int:
        """The recipient's last position (0 before any notification)."""
        return int_from_value(self._get(last_position_key(recipient)))

    def read_up_to(self, recipient: str) -> int:
        """The recipient's read mark."""
        return int_from_value(self._get(read_key(recipient)))

    def unread_count(self, recipient: str) -> int:
        """How many of the recipient's notifications are unread."""
        return unread(self.last_position(recipient), self.read_up_to(recipient))

    def after(self, recipient: str, position: int = 0,
              limit: int = 100) -> list[NotificationCreated]:
        """The recipient's notifications after ``position``, oldest first (the catch-up and the
        cursor: pass the last position received)."""
        if not 1 <= limit <= MAX_PAGE:
            raise ValueError(f"a page holds 1 to {MAX_PAGE} notifications, not {limit}")
        if position < 0:
            raise ValueError("a position is never negative")
        head = notifications_prefix(recipient)
        return [NotificationCreated.FromString(v) for _, v in
                scan(self._db, head, notification_key(recipient, position + 1), limit)]

    def fanout_progress(self, post_id: str) -> FanoutProgress:
        """How far the fan-out of ``post_id`` has gone."""
        return progress_from_value(self._get(fanout_key(post_id)))

    def close(self) -> None:
        """Flush and close."""
        self._db.close()
