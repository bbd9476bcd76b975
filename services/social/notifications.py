"""Notifications, wired: causes read from the service's topics become positioned notifications,
appended to ``planet.social.notifications.v1`` and stored; the recipient lists and marks them.

Causes (each a ``Tail`` fed by the service's loop, reading from its own offsets):

- ``planet.social.graph.v1`` ``Followed`` -> FOLLOW for the creator (actor: the follower);
- ``planet.content.posts.v1`` ``PostPublished`` -> MENTION for each mentioned user the service
  knows (a handle held now, else a user id with an account: KYC or identity), and NEW_POST to
  the creator's bell subscribers through the batched, resumable fan-out;
- ``planet.social.identities.v1`` ``IdentitySuspended`` / ``IdentityClosed`` /
  ``AccountSanctioned`` / ``SanctionLifted`` / ``AppealDecided`` -> MODERATION for the account
  holder (no actor: the platform acts, operators are not named to users). ``subject_id`` says
  what happened: ``identity:suspended:<version>``, ``identity:closed:<version>``,
  ``sanction:<id>:sanctioned`` / ``:lifted`` / ``:appeal_granted`` / ``:appeal_denied``.
  This topic is also the account stores' input: the loop seeks it to the lowest of their
  offsets; the stores skip by their own offset, this tail by its own (handlers.py).
- ``planet.content.interactions.v1`` ``CommentPosted`` -> REPLY for the post's author (a
  top-level comment) or for the parent comment's author and the post's author (a reply);
  ``subject_id`` is the new comment's id (which carries its post's);
- GROUP_INVITE comes with groups (issue 15).

Mutes and blocks suppress (``GraphStore.relation``; the fan-out reads who mutes the creator);
nobody is notified of their own action.

**How a notification is written.** Under the service's write lock (one transactional producer,
one transaction at a time; this instance is the topic's only writer, fenced by its
transactional id): ``plan`` reads the recipients' last positions and the derived ids from the
store (a cause already notified is dropped), the planned ``NotificationCreated`` records are
appended in one Kafka transaction, then one store write holds the notifications, the
recipients' new last positions, the notifications topic's next offsets, the cause's input
offset and, for a fan-out batch, its progress.

**Why nothing is lost or shown twice** (the crash windows):

1. Crash (or a failed append) before the transaction commits: nothing is visible to any
   reader (consumers read committed); the cause's input offset was not stored, so the cause is
   read again, gets the same id (a digest of the cause) and, since the store did not move, the
   same position.
2. Crash after the commit, before the store write: the topic has notifications the store
   lacks. Before this instance plans anything or answers a list or a mark (``ensure_restored``,
   once per start and after every append whose outcome is unknown), it reads the
   notifications topic from the store's offsets to its end (after the producer has fenced any
   previous owner, so no transaction is still open) and stores what it finds at its logged
   position. The re-read cause then finds its id stored and makes nothing.
3. Crash after the store write: the input offset is past the cause; it is never read again.

So each (recipient, position) is written once with one content, positions count from 1 with
no gap (only one planner, always after the store has all of the log), and a replayed cause
(redelivered, or re-read after a crash) never notifies twice. A commit whose acknowledgement
timed out may still land: the next plan restores first, and if it had not landed yet the
retry appends the identical records (same causes, same ids, same positions), which a reader
(store or gateway) takes once by position. The store rebuilds from the notifications topic
when its directory is lost (the topic is kept forever); cause tails then re-read their inputs
and find every id already there. A fan-out re-run after a rebuild only finds ids (its progress
is not in the log); mutes and accounts are read as they are now, not as they were.

**Fan-out.** A post's NEW_POST notifications go 50 000 per transaction and store write, each
with the fan-out's progress; the lock is taken per batch and the event loop yields between
batches, so gRPC calls and other commands are served during a 1 M fan-out (the loop's other
inputs wait for it). A crash resumes after the last stored batch; the post's input offset is
stored only once its fan-out is done.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message

from planet.content.v1.events_pb2 import PostPublished
from planet.content.v1.interactions_pb2 import CommentPosted
from planet.social.v1 import events_pb2 as ev
from planet.social.v1 import graph_pb2 as graph
from planet.social.v1.notifications_pb2 import (
    NOTIFICATION_KIND_FOLLOW,
    NOTIFICATION_KIND_MENTION,
    NOTIFICATION_KIND_MODERATION,
    NOTIFICATION_KIND_REPLY,
    NotificationCreated,
    NotificationsRead,
)
from planet.social.v1.social_service_pb2 import NotificationPage
from planetkit.envelope import DomainEvent, UndecodableEvent, decode, wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.service_identities import SOCIAL
from planetkit.topics import SOCIAL_IDENTITIES
from services.social.adapters.bell_fanout import next_batch
from services.social.adapters.graph_store import GraphStore
from services.social.adapters.kafka_log import Append, Fenced
from services.social.adapters.notification_store import MAX_PAGE, NotificationStore, Planned
from services.social.domain.errors import EventLogUnavailable, Invalid, NotServing
from services.social.domain.notifications.fanout import FanoutProgress
from services.social.domain.notifications.rules import (
    Cause,
    Relation,
    read_mark,
    should_notify,
    unread,
)
from services.social.domain.validation import check_user_id
from services.social.handlers import SocialHandlers

log = logging.getLogger(__name__)
DEFAULT_PAGE = 100
RETRY_S = 0.5
CHUNK = 10_000
# Subscribers per fan-out transaction (and store write). The broker's transaction round trip
# (~0.1 s here) per 10 000 was a fifth of a 1 M fan-out's time; 50 000 records (~10 MiB)
# stay far below the producer's limits and the publish timeout.
FANOUT_BATCH = 50_000
_MODERATION = (ev.IdentitySuspended, ev.IdentityClosed, ev.AccountSanctioned,
               ev.SanctionLifted, ev.AppealDecided)


async def _pause(size: int) -> None:
    """Let gRPC calls and commands run between the chunks of a large batch."""
    if size > CHUNK:
        await asyncio.sleep(0)


def _source(topic: str, partition: int) -> str:
    return f"{topic}/{partition}"


def _read_event_id(recipient: str, up_to: int) -> str:
    digest = hashlib.sha256(f"read\x00{recipient}\x00{up_to}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


class NotificationLog(Protocol):
    """Where notifications are appended (the service's transactional event log)."""

    async def append_batched(self, appends: list[Append]) -> list[int]:
        """Commit all or nothing and return the offsets; EventLogUnavailable otherwise."""


@dataclass(frozen=True)
class NotificationsTopic:
    """The notifications topic's name and partition count."""

    name: str
    partitions: int


class Notifications:
    """Plans, appends and stores notifications; lists and marks them for their recipient."""

    def __init__(self, accounts: SocialHandlers, store: NotificationStore, log_: NotificationLog,
                 topic: NotificationsTopic, restore_consumer: Callable[[], AIOKafkaConsumer],
                 clock_ms: Callable[[], int]) -> None:
        self.store = store
        self._accounts = accounts
        self._log = log_
        self._topic = topic
        self._restore_consumer = restore_consumer
        self._clock_ms = clock_ms
        self._restored = False
        self._closed = False
        self.appended = 0  # notifications appended by this instance (logs, benchmarks)

    # --- the log, restored before anything is planned -----------------------------------

    async def ensure_restored(self) -> None:
        """Store whatever the notifications topic holds beyond the store's offsets (held
        under the write lock: nothing is appended meanwhile)."""
        if self._restored:
            return
        consumer = self._restore_consumer()
        await consumer.start()
        try:
            tps = [TopicPartition(self._topic.name, p) for p in range(self._topic.partitions)]
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            for tp in tps:
                applied = self.store.applied(_source(tp.topic, tp.partition))
                consumer.seek(tp, min(applied, ends[tp]))
            read = 0
            while True:
                behind = [tp for tp in tps if await consumer.position(tp) < ends[tp]]
                if not behind:
                    break
                fetched = await consumer.getmany(*behind, timeout_ms=500, max_records=10_000)
                for tp, records in fetched.items():
                    read += self._apply_logged(tp, records)
            if read:
                log.info("notifications restored from the log", extra={"records": read})
            self._restored = True
        finally:
            await consumer.stop()

    def _apply_logged(self, tp: TopicPartition,
                      records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        events: list[NotificationCreated | NotificationsRead] = []
        for record in records:
            try:
                payload = decode(record.value, NotificationCreated, NotificationsRead).payload
            except UndecodableEvent as exc:
                log.error("skipping an undecodable notification record", extra={
                    "partition": tp.partition, "offset": record.offset, "error": str(exc)})
                continue
            if isinstance(payload, NotificationCreated | NotificationsRead):
                events.append(payload)
        if records:
            self.store.apply_logged(events, source=_source(tp.topic, tp.partition),
                                    next_offset=records[-1].offset + 1)
        return len(events)

    async def _append(self, payloads: Sequence[NotificationCreated | NotificationsRead],
                      now: int) -> dict[str, int]:
        """Append in one transaction; the notifications topic's next offsets it reached."""
        appends = []
        for i, p in enumerate(payloads):
            if i and not i % CHUNK:
                await asyncio.sleep(0)  # a large append: let calls in between
            if isinstance(p, NotificationCreated):
                env = wrap(p, event_id=p.notification_id, source=SOCIAL,
                           aggregate_id=p.recipient_id, occurred_at_ms=p.at_ms,
                           aggregate_version=p.position)
            else:
                env = wrap(p, event_id=_read_event_id(p.recipient_id, p.up_to_position),
                           source=SOCIAL, aggregate_id=p.recipient_id, occurred_at_ms=now)
            appends.append(Append(self._topic.name,
                                  partition_for(p.recipient_id, self._topic.partitions), env))
        try:
            offsets = await self._log.append_batched(appends)
        except EventLogUnavailable:
            # The outcome is unknown (a timed-out commit may still land): read the log again
            # before the next plan.
            self._restored = False
            raise
        out: dict[str, int] = {}
        for a, offset in zip(appends, offsets, strict=True):
            source = _source(a.topic, a.partition)
            out[source] = max(out.get(source, 0), offset + 1)
        return out

    async def notify(self, causes: Sequence[Cause], *, offsets: dict[str, int] | None = None,
                     fanout: tuple[str, FanoutProgress] | None = None
                     ) -> list[NotificationCreated]:
        """Notify ``causes`` (already filtered by ``should_notify``) not yet notified; store
        them with the input ``offsets`` and the ``fanout`` progress. Retries an unavailable
        log until it answers (a fenced instance raises)."""
        while True:
            try:
                async with self._accounts.write_lock:
                    await self.ensure_restored()
                    # A large batch is planned and stored in chunks with a yield between
                    # them, so calls are served meanwhile; the offsets and the fan-out's
                    # progress go with the last chunk: a crash before it leaves the topic's
                    # offsets behind, and the restore stores the rest from the topic.
                    planned = Planned()
                    created: list[NotificationCreated] = []
                    for lo in range(0, len(causes), CHUNK):
                        created += self.store.plan(causes[lo:lo + CHUNK], planned)
                        await _pause(len(causes))
                    logged = await self._append(created, self._clock_ms()) if created else {}
                    chunks = [created[lo:lo + CHUNK] for lo in range(0, len(created), CHUNK)]
                    for chunk in chunks[:-1]:
                        self.store.commit(chunk, planned=True)
                        await _pause(len(causes))
                    self.store.commit(chunks[-1] if chunks else [],
                                      offsets={**(offsets or {}), **logged}, fanout=fanout,
                                      planned=True)
                    self.appended += len(created)
                    return created
            except Fenced:
                raise
            except EventLogUnavailable as exc:
                log.warning("notifications not appended; retrying", extra={"error": str(exc)})
                await asyncio.sleep(RETRY_S)

    # --- the recipient's reads and marks ------------------------------------------------

    def _ready(self) -> None:
        if not self._accounts.serving:
            raise NotServing("the social service is restoring its state; retry")

    def _page(self, recipient: str, items: list[NotificationCreated]) -> NotificationPage:
        last = self.store.last_position(recipient)
        read = self.store.read_up_to(recipient)
        return NotificationPage(notifications=items, last_position=last, read_up_to=read,
                                unread=unread(last, read))

    async def list(self, recipient: str, after: int, limit: int) -> NotificationPage:
        """The recipient's notifications after position ``after``, oldest first."""
        self._ready()
        check_user_id(recipient)
        if "\x00" in recipient:
            raise Invalid("a user id must not contain NUL")
        limit = limit or DEFAULT_PAGE
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid(f"limit must be 1 to {MAX_PAGE}")
        if after < 0:
            raise Invalid("after_position must not be negative")
        if not self._restored:
            async with self._accounts.write_lock:
                await self.ensure_restored()
        return self._page(recipient, self.store.after(recipient, after, limit))

    async def mark_read(self, recipient: str, up_to: int) -> NotificationPage:
        """Mark read up to ``up_to`` (never backwards, never past the last), logged first."""
        self._ready()
        check_user_id(recipient)
        if "\x00" in recipient:
            raise Invalid("a user id must not contain NUL")
        if up_to < 0:
            raise Invalid("up_to_position must not be negative")
        async with self._accounts.write_lock:
            await self.ensure_restored()
            current = self.store.read_up_to(recipient)
            new = read_mark(current, up_to, self.store.last_position(recipient))
            if new != current:
                now = self._clock_ms()
                read = NotificationsRead(recipient_id=recipient, up_to_position=new, at_ms=now)
                logged = await self._append([read], now)
                self.store.commit([], reads=[read], offsets=logged)
        return self._page(recipient, [])

    def relation_allows(self, graph_store: GraphStore, cause: Cause) -> bool:
        """should_notify, with what the graph knows of the pair."""
        if not cause.actor_id:
            return should_notify(cause, Relation())
        return should_notify(cause, graph_store.relation(cause.recipient_id, cause.actor_id))

    def close(self) -> None:
        """Flush and close the store (once, whichever tail closes first)."""
        if not self._closed:
            self._closed = True
            self.store.close()


class _CauseTail:
    """A tail that turns one topic's facts into causes (the loop's Tail protocol)."""

    def __init__(self, notes: Notifications, graph_store: GraphStore, topic: str,
                 partitions: int) -> None:
        self.notes = notes
        self.graph = graph_store
        self.topic = topic
        self._partitions = partitions

    def close(self) -> None:
        """Flush and close the notification store."""
        self.notes.close()

    def partitions(self) -> list[TopicPartition]:
        """Every partition of its topic (this instance owns them all)."""
        return [TopicPartition(self.topic, p) for p in range(self._partitions)]

    def offset(self, tp: TopicPartition, end: int) -> int:
        """The store's next offset of ``tp`` (never past the end)."""
        applied = self.notes.store.applied(_source(tp.topic, tp.partition))
        if applied > end:
            log.warning("notification store ahead of its input", extra={
                "topic": tp.topic, "partition": tp.partition, "applied": applied, "end": end})
        return min(applied, end)

    def _fresh(self, tp: TopicPartition, records: Sequence[ConsumerRecord[bytes, bytes]]
               ) -> list[ConsumerRecord[bytes, bytes]]:
        applied = self.notes.store.applied(_source(tp.topic, tp.partition))
        return [r for r in records if r.offset >= applied]

    def _allowed(self, causes: Sequence[Cause]) -> list[Cause]:
        return [c for c in causes if self.notes.relation_allows(self.graph, c)]

    async def _finish(self, tp: TopicPartition, causes: Sequence[Cause], last: int) -> int:
        created = await self.notes.notify(
            self._allowed(causes), offsets={_source(tp.topic, tp.partition): last + 1})
        return len(created)


class _FactTail(_CauseTail, ABC):
    """A cause tail whose causes come one record at a time: the records of a fetch not yet
    notified are decoded as ``FACTS`` and ``causes`` says whom each one notifies."""

    FACTS: tuple[type[Message], ...] = ()
    # The log line for a record that is none of FACTS (None: the topic's other facts, which
    # notify nobody, are skipped silently).
    UNDECODABLE: str | None = None

    @abstractmethod
    def causes(self, event: DomainEvent[Message]) -> Iterable[Cause]:
        """Whom one fact notifies."""

    async def apply(self, tp: TopicPartition,
                    records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        """Notify the facts of a fetch not yet notified; how many notifications."""
        fresh = self._fresh(tp, records)
        if not fresh:
            return 0
        causes: list[Cause] = []
        for record in fresh:
            try:
                event = decode(record.value, *self.FACTS)
            except UndecodableEvent as exc:
                if self.UNDECODABLE is not None:
                    log.error(self.UNDECODABLE, extra={
                        "partition": tp.partition, "offset": record.offset, "error": str(exc)})
                continue
            causes.extend(self.causes(event))
        return await self._finish(tp, causes, fresh[-1].offset)


class FollowNotificationsTail(_FactTail):
    """``Followed`` -> FOLLOW for the creator."""

    FACTS = (graph.Followed, graph.Unfollowed, graph.BellSet)
    UNDECODABLE = "skipping an undecodable graph record"

    def causes(self, event: DomainEvent[Message]) -> Iterable[Cause]:
        """A follow notifies the followee."""
        fact = event.payload
        if isinstance(fact, graph.Followed):
            yield Cause(recipient_id=fact.followee_id, kind=NOTIFICATION_KIND_FOLLOW,
                        actor_id=fact.follower_id, subject_id="", at_ms=fact.at_ms)


class ReplyNotificationsTail(_FactTail):
    """``CommentPosted`` -> REPLY for whom the comment answers (never the commenter)."""

    FACTS = (CommentPosted,)  # the topic's other facts (likes, shares, edits) notify nobody

    def causes(self, event: DomainEvent[Message]) -> Iterable[Cause]:
        """A comment notifies its post's author and, for a reply, the parent's author."""
        fact = event.payload
        assert isinstance(fact, CommentPosted)
        recipients = [fact.parent_author_id] if fact.parent_comment_id else []
        recipients.append(fact.post_author_id)
        for recipient in dict.fromkeys(r for r in recipients if r):
            yield Cause(recipient_id=recipient, kind=NOTIFICATION_KIND_REPLY,
                        actor_id=fact.author_id, subject_id=fact.comment_id, at_ms=fact.at_ms)


def moderation_cause(payload: Message, version: int) -> Cause | None:
    """The MODERATION cause of an identities-topic fact (None for the others)."""
    subject: str
    at_ms: int
    if isinstance(payload, ev.IdentitySuspended):
        user, subject, at_ms = payload.user_id, f"identity:suspended:{version}", payload.at_ms
    elif isinstance(payload, ev.IdentityClosed):
        user, subject, at_ms = payload.user_id, f"identity:closed:{version}", payload.at_ms
    elif isinstance(payload, ev.AccountSanctioned):
        user, subject = payload.user_id, f"sanction:{payload.sanction_id}:sanctioned"
        at_ms = payload.at_ms
    elif isinstance(payload, ev.SanctionLifted):
        user, subject = payload.user_id, f"sanction:{payload.sanction_id}:lifted"
        at_ms = payload.at_ms
    elif isinstance(payload, ev.AppealDecided):
        outcome = "appeal_granted" if payload.granted else "appeal_denied"
        user, subject = payload.user_id, f"sanction:{payload.sanction_id}:{outcome}"
        at_ms = payload.at_ms
    else:
        return None
    return Cause(recipient_id=user, kind=NOTIFICATION_KIND_MODERATION, actor_id="",
                 subject_id=subject, at_ms=at_ms)


class ModerationNotificationsTail(_FactTail):
    """Moderation facts on the identities topic -> MODERATION for the account holder."""

    FACTS = SOCIAL_IDENTITIES.payloads  # an undecodable one: the account store logs it

    def causes(self, event: DomainEvent[Message]) -> Iterable[Cause]:
        """A moderation fact notifies the account holder."""
        cause = moderation_cause(event.payload, event.envelope.aggregate_version)
        return () if cause is None else (cause,)


class PostNotificationsTail(_CauseTail):
    """``PostPublished`` -> MENTION for mentioned users, NEW_POST to bell subscribers."""

    def __init__(self, notes: Notifications, graph_store: GraphStore, topic: str,
                 partitions: int, accounts: SocialHandlers,
                 batch_size: int = FANOUT_BATCH) -> None:
        super().__init__(notes, graph_store, topic, partitions)
        self._accounts = accounts
        self._batch_size = batch_size

    def _mentioned(self, name: str) -> str | None:
        """The user a mention names (SocialHandlers.mention_owner), None for nobody."""
        try:
            return self._accounts.mention_owner(name)
        except NotServing:
            return None

    async def apply(self, tp: TopicPartition,
                    records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        """Mentions and bell fan-outs of a fetch's posts; how many notifications."""
        fresh = self._fresh(tp, records)
        if not fresh:
            return 0
        mentions: list[Cause] = []
        made = 0
        for record in fresh:
            try:
                post = decode(record.value, PostPublished).payload
            except UndecodableEvent as exc:
                log.error("skipping an undecodable post", extra={
                    "partition": tp.partition, "offset": record.offset, "error": str(exc)})
                continue
            for name in post.mentions:
                user = self._mentioned(name)
                if user is not None:
                    mentions.append(Cause(recipient_id=user, kind=NOTIFICATION_KIND_MENTION,
                                          actor_id=post.creator_id, subject_id=post.post_id,
                                          at_ms=post.published_at_ms))
            made += await self._fan_out(post)
        return made + await self._finish(tp, mentions, fresh[-1].offset)

    async def _fan_out(self, post: PostPublished) -> int:
        """NEW_POST to the creator's bell subscribers, a batch per transaction, resumable."""
        progress = self.notes.store.fanout_progress(post.post_id)
        made = 0
        while not progress.done:
            causes: list[Cause] = []
            after = progress
            while not after.done and len(causes) < self._batch_size:
                page, after = next_batch(self.graph, after, post_id=post.post_id,
                                         creator_id=post.creator_id,
                                         at_ms=post.published_at_ms,
                                         batch_size=min(CHUNK, self._batch_size))
                causes += page
                await asyncio.sleep(0)  # let gRPC calls and commands run between pages
            if progress.after == "" and after.done and not causes:
                return made  # nobody to notify: no progress worth a key
            made += len(await self.notes.notify(causes, fanout=(post.post_id, after)))
            progress = after
        return made

