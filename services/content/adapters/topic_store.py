"""Topics' posts, newest first, and their engagement, in one RocksDB store per partition of
planet.content.topic-posts.v1 (layout: ``domain/topics.py``).

A record of the topic is a post's PostPublished envelope under the key of one of its topics
(the post is logged once per topic, in the transaction that publishes it), so the record's key
names the entry's topic; or a TopicEngagement (someone engaged a post of the topic, logged in
the interaction's transaction: services/content/topic_engagement.py), kept as one key per
(topic, UTC day, post, user), with per (topic, day, post) user counts and per (topic, day)
lists of posts by count in the same batch (the most-engaged ranking reads those first). Each
fetch is written with the next offset to read in one write batch (a restart catches up from
there; a crash never leaves the store's position and contents apart). The topic is this
store's changelog: a store that is missing, of another format or ahead of its topic is
rebuilt from offset 0.

Entries hold the whole post (as the RPC message), so a page is one range scan on one replica.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import cast

from aiokafka.structs import ConsumerRecord
from rocksdict import WriteBatch

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1.topics_pb2 import TopicEngagement
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import UndecodableEvent, decode
from services.content.adapters.partition_dirs import PartitionDirs
from services.content.adapters.post_store import open_store
from services.content.domain.author_index import Cursor
from services.content.domain.codec import post_from_pb, post_to_pb
from services.content.domain.model import Post
from services.content.domain.post_events import POST_EVENTS, PostEvent
from services.content.domain.stored import APPLIED_KEY, offset_from_value, offset_value
from services.content.domain.topic_entries import (
    TopicEntry,
    fold,
    reverse_value,
    split_reverse_value,
)
from services.content.domain.topics import (
    DAY_MS,
    FORMAT,
    HOUR_MS,
    KEPT_DAYS,
    Engagement,
    EngagementCounts,
    by_count_key,
    by_count_prefix,
    count_from_value,
    count_key,
    count_value,
    day_from_value,
    day_of,
    day_value,
    days_in_window,
    engaged_key,
    engaged_post_prefix,
    engaged_prefix,
    entry_key,
    hour_count_keys,
    hour_count_prefix,
    hour_of,
    latest_after,
    latest_day_count_keys,
    latest_day_count_prefix,
    latest_key,
    latest_post_prefix,
    latest_prefix,
    newest_day_key,
    reverse_key,
    split_by_count_key,
    split_engaged_key,
    split_latest_key,
    start_after,
    topic_prefix,
)

log = logging.getLogger(__name__)
_TIME_BYTES = 8
_HOURS_PER_DAY = DAY_MS // HOUR_MS
# Counting a post from its day keys reads them in sequence; from the latest counts, point
# reads (about twice the cost of a key read in sequence, measured): the cheaper way is taken.
_SCAN_PER_READ = 2


def _value(post: Post) -> bytes:
    return post_to_pb(post).SerializeToString()


def _post(value: bytes) -> Post:
    return post_from_pb(rpc.Post.FromString(value))


class TopicIndexStore:
    """The topics of one partition, each with its posts newest first, their engagement by
    day, and the offset."""

    def __init__(self, path: Path, partition: int) -> None:
        self.path = path
        self.partition = partition
        self._db = open_store(path, FORMAT)
        raw = self._db.get(APPLIED_KEY)
        self.applied = 0 if raw is None else offset_from_value(raw)

    def apply(self, records: Iterable[ConsumerRecord[bytes, bytes]]) -> int:
        """Index a fetch's (topic, post) records and its engagements, and write the next
        offset in the same batch; how many posts were newly listed. Post events fold into
        their (topic, post) entries (domain/topic_entries.py)."""
        folds: list[tuple[str, Envelope, PostEvent]] = []
        engaged: dict[str, list[Engagement]] = {}
        last = -1
        for record in records:
            last = record.offset
            try:
                event = decode(record.value, *POST_EVENTS, TopicEngagement)
                topic = (record.key or b"").decode()
            except (UndecodableEvent, UnicodeDecodeError) as exc:
                log.error("skipping undecodable topic-posts record", extra={
                    "topic": record.topic, "partition": record.partition,
                    "offset": record.offset, "reason": str(exc)})
                continue
            if isinstance(event.payload, TopicEngagement):
                fact = event.payload
                # The writer never logs self-engagement; a record saying otherwise (or filed
                # under another topic's key) is not one to count.
                if topic and fact.topic == topic and fact.user_id and fact.post_id \
                        and fact.user_id != fact.post_author_id:
                    engaged.setdefault(topic, []).append(
                        Engagement(fact.post_id, fact.user_id, fact.at_ms))
                continue
            if topic and isinstance(event.payload, POST_EVENTS):
                folds.append((topic, event.envelope, event.payload))
        if last < 0:
            return 0
        batch = WriteBatch(raw_mode=True)
        new = self._fold_all(batch, folds)
        for topic, found in engaged.items():
            self._engage(batch, topic, found)
        batch.put(APPLIED_KEY, offset_value(last + 1))
        self._db.write(batch)
        self.applied = last + 1
        return new

    def put_published(self, topic: str, post: Post) -> None:
        """Index a post this replica just committed, ahead of the tail (which keeps this copy),
        so the topic page shows it as soon as PublishPost returns."""
        rkey = reverse_key(topic, post.post_id)
        if self._entry(rkey) is None:  # as fold() does with a PostPublished
            batch = WriteBatch(raw_mode=True)
            self._put_entry(batch, topic, post.post_id, None, TopicEntry(post.version, post))
            self._db.write(batch)

    def put_event(self, topic: str, envelope: Envelope, payload: PostEvent) -> None:
        """Apply an edit or deletion this replica just committed, ahead of the tail (which
        applies the same record again: no change), so the topic page follows at once."""
        batch = WriteBatch(raw_mode=True)
        self._fold_all(batch, [(topic, envelope, payload)])
        self._db.write(batch)

    def _entry(self, rkey: bytes) -> TopicEntry | None:
        """The stored state of one (topic, post)."""
        raw = cast(bytes | None, self._db.get(rkey))
        if raw is None:
            return None
        version, deleted, ekey = split_reverse_value(raw)
        value = cast(bytes | None, self._db.get(ekey)) if ekey else None
        return TopicEntry(version, None if value is None else _post(value), deleted)

    def _put_entry(self, batch: WriteBatch, topic: str, post_id: str,
                   before: TopicEntry | None, after: TopicEntry) -> None:
        listed = after.post if after.post is not None else (
            before.post if before is not None else None)
        ekey = b"" if listed is None else entry_key(topic, listed.published_at_ms, post_id)
        if after.post is None and before is not None and before.post is not None:
            batch.delete(ekey)  # the post leaves this topic's pages
        elif after.post is not None:
            batch.put(ekey, _value(after.post))
        batch.put(reverse_key(topic, post_id), reverse_value(after, ekey))

    def _fold_all(self, batch: WriteBatch,
                  events: Iterable[tuple[str, Envelope, PostEvent]]) -> int:
        """Fold post events into their (topic, post) entries (domain/topic_entries.py) in
        ``batch``; how many posts were newly listed."""
        states: dict[bytes, TopicEntry | None] = {}
        new = 0
        for topic, envelope, payload in events:
            rkey = reverse_key(topic, payload.post_id)
            if rkey not in states:
                states[rkey] = self._entry(rkey)
            before = states[rkey]
            after = fold(topic, before, envelope, payload)
            if after is None:
                continue
            states[rkey] = after
            self._put_entry(batch, topic, payload.post_id, before, after)
            if after.post is not None and (before is None or before.post is None):
                new += 1
        return new

    def page(self, topic: str, after: Cursor | None, limit: int
             ) -> tuple[list[Post], Cursor | None]:
        """Up to ``limit`` of the topic's posts after ``after``, newest first, and the next
        page's cursor (None when this is the last)."""
        prefix = topic_prefix(topic)
        posts: list[Post] = []
        it = self._db.iter()
        it.seek(start_after(topic, after))
        while len(posts) <= limit and it.valid():
            key = bytes(it.key())
            if not key.startswith(prefix):
                break
            post = _post(bytes(it.value()))
            if not post.removed_at_ms:  # removed after a report: hidden until restored
                posts.append(post)
            it.next()
        del it
        if len(posts) > limit:
            last = posts[limit - 1]
            return posts[:limit], Cursor(last.published_at_ms, last.post_id)
        return posts, None

    def posts(self, topic: str, post_ids: Iterable[str]) -> dict[str, Post]:
        """The topic's entries for ``post_ids`` (absent: not in the topic)."""
        ids = list(dict.fromkeys(post_ids))
        if not ids:
            return {}
        wanted: list[str | int | float | bytes | bool] = [reverse_key(topic, p) for p in ids]
        states = cast(list[bytes | None], self._db.get(wanted))
        ekeys = [None if raw is None else split_reverse_value(raw)[2] for raw in states]
        present = [(p, k) for p, k in zip(ids, ekeys, strict=True) if k]
        if not present:
            return {}
        keys: list[str | int | float | bytes | bool] = [k for _, k in present]
        values = cast(list[bytes | None], self._db.get(keys))
        found = {p: _post(v) for (p, _), v in zip(present, values, strict=True) if v is not None}
        return {p: post for p, post in found.items() if not post.removed_at_ms}

    def record_engagements(self, topic: str, engagements: Iterable[Engagement]) -> int:
        """Keep each (topic, day, post, user) once with the latest time of that day; days
        older than KEPT_DAYS before the newest are deleted. How many keys were new."""
        batch = WriteBatch(raw_mode=True)
        new = self._engage(batch, topic, engagements)
        self._db.write(batch)
        return new

    def _engage(self, batch: WriteBatch, topic: str, engagements: Iterable[Engagement]) -> int:
        """Add engagements of ``topic`` to ``batch`` (see record_engagements)."""
        found = list(engagements)
        if not found:
            return 0
        hkey = newest_day_key(topic)
        raw_newest = cast(bytes | None, self._db.get(hkey))
        known_newest = 0 if raw_newest is None else day_from_value(raw_newest)
        newest_day = max(known_newest, *(day_of(e.at_ms) for e in found))
        # The horizon never moves back, and nothing before it is written: what is kept does
        # not depend on how the log was cut into fetches (a rebuild equals the live store).
        horizon = newest_day - KEPT_DAYS
        latest: dict[tuple[bytes, int, str], int] = {}
        for e in found:
            day = day_of(e.at_ms)
            if day < horizon:
                continue
            slot = (engaged_key(topic, day, e.post_id, e.user_id), day, e.post_id)
            latest[slot] = max(latest.get(slot, 0), e.at_ms)
        if newest_day > known_newest or raw_newest is None:
            batch.put(hkey, day_value(newest_day))
        if not latest:
            return 0
        keys: list[str | int | float | bytes | bool] = [k for k, _, _ in latest]
        known = cast(list[bytes | None], self._db.get(keys))
        added: dict[tuple[int, str], int] = {}
        raised: dict[tuple[str, str], int] = {}  # (post, user) -> the latest time written
        for (key, day, post_id), stored in zip(latest, known, strict=True):
            at = latest[key, day, post_id]
            if stored is None:
                added[day, post_id] = added.get((day, post_id), 0) + 1
            elif int.from_bytes(stored, "big") >= at:
                continue
            batch.put(key, at.to_bytes(_TIME_BYTES, "big"))
            user_id = key[len(engaged_prefix(topic, day)) + 2 + len(post_id.encode()):].decode()
            raised[post_id, user_id] = max(raised.get((post_id, user_id), 0), at)
        self._count(batch, topic, added)
        self._latest(batch, topic, raised, range(max(horizon, 0), newest_day + 1))
        # Expire whole days past the horizon (one range delete per kind, topic and write).
        if horizon > 0 and newest_day > known_newest:
            hours = horizon * (DAY_MS // HOUR_MS)
            batch.delete_range(engaged_prefix(topic, 0), engaged_prefix(topic, horizon))
            batch.delete_range(count_key(topic, 0), count_key(topic, horizon))
            batch.delete_range(by_count_prefix(topic, 0), by_count_prefix(topic, horizon))
            batch.delete_range(latest_prefix(topic, 0), latest_prefix(topic, hours))
            batch.delete_range(hour_count_prefix(topic, 0), hour_count_prefix(topic, hours))
            batch.delete_range(latest_day_count_prefix(topic, 0),
                               latest_day_count_prefix(topic, horizon))
        return sum(added.values())

    def _latest(self, batch: WriteBatch, topic: str, raised: Mapping[tuple[str, str], int],
                kept: range) -> None:
        """Move each (post, user) whose day keys got a later time to that time's hour, and
        the hours' counts with it: the ``l:`` key is always the latest of the user's day keys
        kept (a fold of them: a rebuild writes the same keys)."""
        if not raised:
            return
        keys: list[str | int | float | bytes | bool] = [
            engaged_key(topic, day, post_id, user_id)
            for post_id, user_id in raised for day in kept]
        known = cast(list[bytes | None], self._db.get(keys))
        n = len(kept)
        moved: dict[tuple[int, str], int] = {}
        for i, ((post_id, user_id), at) in enumerate(raised.items()):
            stored = [int.from_bytes(v, "big") for v in known[i * n:(i + 1) * n] if v]
            before = max(stored, default=None)
            if before is not None and before >= at:
                continue
            if before is not None:
                batch.delete(latest_key(topic, post_id, before, user_id))
                moved[hour_of(before), post_id] = moved.get((hour_of(before), post_id), 0) - 1
            batch.put(latest_key(topic, post_id, at, user_id), b"")
            moved[hour_of(at), post_id] = moved.get((hour_of(at), post_id), 0) + 1
        by_day: dict[tuple[int, str], int] = {}
        for (hour, post_id), delta in moved.items():
            day = hour // (DAY_MS // HOUR_MS)
            by_day[day, post_id] = by_day.get((day, post_id), 0) + delta
        changed = [(hour_count_prefix(topic, hour) + post_id.encode(), delta)
                   for (hour, post_id), delta in moved.items() if delta]
        changed += [(latest_day_count_prefix(topic, day) + post_id.encode(), delta)
                    for (day, post_id), delta in by_day.items() if delta]
        hkeys: list[str | int | float | bytes | bool] = [k for k, _ in changed]
        counts = cast(list[bytes | None], self._db.get(hkeys)) if hkeys else []
        for (hkey, delta), raw in zip(changed, counts, strict=True):
            after = (0 if raw is None else count_from_value(raw)) + delta
            if after > 0:
                batch.put(hkey, count_value(after))
            else:
                batch.delete(hkey)

    def _count(self, batch: WriteBatch, topic: str, added: Mapping[tuple[int, str], int]
               ) -> None:
        """Raise each (day, post)'s user count by its new keys, and move it in the day's list
        (a fold of the ``g:`` keys: a rebuild writes the same counts)."""
        if not added:
            return
        keys: list[str | int | float | bytes | bool] = [
            count_key(topic, day) + post_id.encode() for day, post_id in added]
        known = cast(list[bytes | None], self._db.get(keys))
        for ((day, post_id), more), ckey, raw in zip(added.items(), keys, known, strict=True):
            before = 0 if raw is None else count_from_value(raw)
            if before:
                batch.delete(by_count_key(topic, day, before, post_id))
            batch.put(by_count_key(topic, day, before + more, post_id), b"")
            batch.put(ckey, count_value(before + more))

    def engagements(self, topic: str, now_ms: int, window_ms: int) -> list[Engagement]:
        """Every (post, user) engagement of the topic inside the window (one per day kept):
        the full scan the ranking's definition reads (domain/topics.rank_engaged; pages read
        the counts instead, and tests compare the two)."""
        out: list[Engagement] = []
        it = self._db.iter()
        for day in days_in_window(now_ms, window_ms):
            prefix = engaged_prefix(topic, day)
            it.seek(prefix)
            while it.valid():
                key = bytes(it.key())
                if not key.startswith(prefix):
                    break
                post_id, user_id = split_engaged_key(key, prefix)
                out.append(Engagement(post_id, user_id,
                                      int.from_bytes(bytes(it.value()), "big")))
                it.next()
        del it
        return out

    def counts(self, topic: str) -> EngagementCounts:
        """The topic's day counts and keys as the most-engaged ranking reads them."""
        return _TopicCounts(self, topic)

    def reset(self) -> None:
        """Delete the store and start empty (rebuilt from offset 0 by the tail)."""
        self._db.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._db = open_store(self.path, FORMAT)
        self.applied = 0

    def close(self) -> None:
        """Flush and close."""
        self._db.close()


class _TopicCounts:
    """One topic's engagement counts in a TopicIndexStore (domain/topics.EngagementCounts)."""

    def __init__(self, store: TopicIndexStore, topic: str) -> None:
        self._store = store
        self._topic = topic

    def by_count(self, day: int) -> Iterator[tuple[int, str]]:
        """(users, post id) of the day's posts, most users first."""
        prefix = by_count_prefix(self._topic, day)
        it = self._store._db.iter()
        try:
            it.seek(prefix)
            while it.valid():
                key = bytes(it.key())
                if not key.startswith(prefix):
                    break
                yield split_by_count_key(key, prefix)
                it.next()
        finally:
            del it

    def bounds(self, days: Sequence[int], post_ids: Sequence[str]) -> dict[str, int]:
        """Each post's day counts summed over ``days`` (one multi-get)."""
        if not post_ids:
            return {}
        prefixes = [count_key(self._topic, day) for day in days]
        keys: list[str | int | float | bytes | bool] = [
            p + post_id.encode() for post_id in post_ids for p in prefixes]
        raw = cast(list[bytes | None], self._store._db.get(keys))
        out: dict[str, int] = {}
        n = len(prefixes)
        for i, post_id in enumerate(post_ids):
            out[post_id] = sum(count_from_value(v) for v in raw[i * n:(i + 1) * n]
                               if v is not None)
        return out

    def distinct(self, post_id: str, since_ms: int, now_ms: int, excluded: Collection[str],
                 bound: int) -> int:
        """How many users of the post have a day key in ``(since, now]``, ``excluded`` left
        out: from the days' and hours' latest counts (domain/topics.py), or from its day keys
        when those (at most ``bound``) are fewer to read."""
        days = range(day_of(since_ms), day_of(now_ms) + 1)
        first, last = hour_of(since_ms), hour_of(now_ms)
        raw_newest = cast(bytes | None, self._store._db.get(newest_day_key(self._topic)))
        newest = 0 if raw_newest is None else day_from_value(raw_newest)
        # Hours of the window's first and last days (and any later day a skewed clock
        # wrote), whole days between them.
        end = (max(days[-1], newest) + 1) * _HOURS_PER_DAY
        if len(days) > 2:
            hours = [*range(first + 1, (days[0] + 1) * _HOURS_PER_DAY),
                     *range(days[-1] * _HOURS_PER_DAY, end)]
            whole = days[1:-1]
        else:
            hours, whole = list(range(first + 1, end)), range(0)
        reads = len(hours) + len(whole) + len(excluded) * len(days)
        if bound <= _SCAN_PER_READ * reads:
            return len({u for u, at in self._users(days, post_id)
                        if since_ms < at <= now_ms and u not in excluded})
        keys: list[str | int | float | bytes | bool] = [
            *hour_count_keys(self._topic, hours, post_id),
            *latest_day_count_keys(self._topic, whole, post_id)]
        counts = cast(list[bytes | None], self._store._db.get(keys))
        total = sum(count_from_value(raw) for raw in counts[len(hours):] if raw is not None)
        later: list[str] = []  # users whose latest time is after now (one key each)
        for hour, raw in zip(hours, counts, strict=False):
            if raw is None:
                continue
            if hour < last:
                total += count_from_value(raw)
            elif hour == last:
                total += count_from_value(raw)
                found = self._latest_after(hour, post_id, now_ms)
                total -= len(found)
                later += found
            else:
                later += self._latest_after(hour, post_id, -1)
        # The window's first hour: the latest times after its start (and not after now).
        for user_id, at in self._latest_in(first, post_id, since_ms):
            if at <= now_ms:
                total += 1
            elif first != last:
                continue  # after now: counted in its own hour's list already (``later``)
            else:
                later.append(user_id)
        checked = [*later, *(set(excluded) - set(later))]
        counted = self._counted(days, post_id, checked, since_ms, now_ms)
        total += sum(1 for u in later if counted[u])
        total -= sum(1 for u in excluded if counted[u])
        return total

    def _latest_in(self, hour: int, post_id: str, after_ms: int) -> list[tuple[str, int]]:
        """(user, ms) of the post's latest-time keys in ``hour`` later than ``after_ms``."""
        prefix = latest_post_prefix(self._topic, hour, post_id)
        out: list[tuple[str, int]] = []
        it = self._store._db.iter()
        it.seek(latest_after(prefix, after_ms))
        while it.valid():
            key = bytes(it.key())
            if not key.startswith(prefix):
                break
            at, user_id = split_latest_key(key, prefix)
            out.append((user_id, at))
            it.next()
        del it
        return out

    def _latest_after(self, hour: int, post_id: str, after_ms: int) -> list[str]:
        return [u for u, _ in self._latest_in(hour, post_id, after_ms)]

    def _counted(self, days: range, post_id: str, users: Sequence[str], since_ms: int,
                 now_ms: int) -> dict[str, bool]:
        """Whether each user has a day key of the post in ``(since, now]`` (point reads)."""
        if not users:
            return {}
        keys: list[str | int | float | bytes | bool] = [
            engaged_key(self._topic, day, post_id, u) for u in users for day in days]
        raw = cast(list[bytes | None], self._store._db.get(keys))
        n = len(days)
        return {u: any(v is not None and since_ms < int.from_bytes(v, "big") <= now_ms
                       for v in raw[i * n:(i + 1) * n]) for i, u in enumerate(users)}

    def _users(self, days: range, post_id: str) -> Iterator[tuple[str, int]]:
        """(user, latest time that day) of each of the post's keys on ``days``."""
        it = self._store._db.iter()
        try:
            for day in days:
                prefix = engaged_post_prefix(self._topic, day, post_id)
                it.seek(prefix)
                while it.valid():
                    key = bytes(it.key())
                    if not key.startswith(prefix):
                        break
                    yield key[len(prefix):].decode(), int.from_bytes(bytes(it.value()), "big")
                    it.next()
        finally:
            del it

    def listed(self, post_ids: Sequence[str]) -> Mapping[str, tuple[str, int]]:
        """(author, published ms) of those posts listed on the topic's pages."""
        return {p: (post.creator_id, post.published_at_ms)
                for p, post in self._store.posts(self._topic, post_ids).items()}


class TopicIndexStores(PartitionDirs[TopicIndexStore]):
    """The topic stores of one topic-posts topic under one directory."""

    def __init__(self, root: Path, topic: str) -> None:
        super().__init__(root, topic, TopicIndexStore)
