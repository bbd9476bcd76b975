"""The use cases (publish a post, read posts, list an author's posts, resolve authors) and
the replica's loop.

A post lives on the partition its id hashes to (murmur2, like Kafka's default partitioner),
and each partition is owned by one replica at a time (the consumer group decides). A
request about a post another replica owns is forwarded to that owner, once: a forwarded
call that lands on a replica that no longer owns the partition (it is moving) answers
UNAVAILABLE, which callers retry, instead of bouncing between replicas.

An author's list lives on the author's partition of the author-posts topic, which has as many
partitions as the posts topic and is assigned with it (the replica that owns posts partition
p owns author-posts partition p): the owner of murmur2(author id) answers it alone. Each
post is appended to both topics in one Kafka transaction (adapters/kafka_log.py).

The loop tails the owned partitions into their stores (a restart catches up from each
store's offset) and reports SERVING only when every owned partition is caught up to where
it ended when assigned and the owner of every other partition is known.

Nothing here builds a client, a store or a clock: bootstrap.py hands them in.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.structs import ConsumerRecord
from grpc_health.v1 import health_pb2

from planet.content.v1 import content_service_pb2 as rpc
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import wrap
from planetkit.grpc_health import Health
from planetkit.kafka.partitioning import partition_for
from planetkit.runner import LIVENESS, Lifecycle
from planetkit.service_auth import Caller
from planetkit.service_identities import CONTENT
from services.content.domain.author_index import Cursor, encode_cursor
from services.content.domain.codec import post_from_pb, post_published, request_from_command
from services.content.domain.commands import PublishPost
from services.content.domain.errors import EventLogUnavailable, NotPublisher, NotServing
from services.content.domain.ids import event_id_for, post_id_for
from services.content.domain.model import Post, Published
from services.content.domain.validation import validate
from services.content.routing import owner_address
from services.content.topics import PublishHooks, ReferenceTable

SOURCE = CONTENT
# Re-exported: the errors a caller of the use cases handles.
__all__ = ["ContentHandlers", "ContentReplica", "EventLogUnavailable", "NotServing", "Ownership",
           "Published"]
log = logging.getLogger(__name__)


class EventLog(Protocol):
    """Where PostPublished envelopes are appended (the posts topic and its per-author copy)."""

    async def append(
        self, envelope: Envelope, partition: int, author_id: str, author_partition: int,
        topics: Sequence[tuple[str, int]] = (),
    ) -> None:
        """Append to ``partition`` of the posts and ``author_partition`` of the author-posts
        (and each (topic, partition) of the topic-posts) in one transaction; return once
        committed, EventLogUnavailable otherwise."""

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for these partitions (fencing their previous owners)."""

    async def close(self) -> None:
        """Stop appending."""


class Store(Protocol):
    """One partition's posts."""

    def get(self, post_id: str) -> Post | None:
        """The post, if this partition has it."""

    def authors(self, post_ids: list[str]) -> dict[str, str]:
        """Creator of each id this partition knows."""

    def put_published(self, post_id: str, creator_id: str, version: int, payload: bytes) -> None:
        """Store a post just appended to the log."""


class Stores(Protocol):
    """The partition stores of this replica."""

    def store(self, partition: int) -> Store:
        """The store of ``partition``."""


class IndexStore(Protocol):
    """One partition's authors and their posts, newest first."""

    def page(self, author_id: str, after: Cursor | None, limit: int
             ) -> tuple[list[Post], Cursor | None]:
        """Up to ``limit`` posts after ``after``, and the next page's cursor (None: last)."""

    def put_published(self, post: Post, payload: bytes) -> None:
        """Index a post just committed to the log."""


class IndexStores(Protocol):
    """The author-index stores of this replica."""

    def store(self, partition: int) -> IndexStore:
        """The store of ``partition``."""


class PublisherGate(Protocol):
    """Whether a creator may publish (the social service's CheckPublisher)."""

    async def refusal(self, creator_id: str, caller: Caller,
                      mentions: Sequence[str] = ()) -> str:
        """"" when allowed; else why not. IdentityCheckUnavailable when unknown; InvalidPost
        when a mention names nobody."""

    async def close(self) -> None:
        """Close the connection to the social service."""


class Peers(Protocol):
    """The other replicas, by address (PeerFailed when one does not answer)."""

    async def get_post(self, addr: str, post_id: str, caller: Caller) -> rpc.Post | None:
        """The owner's answer, or None when it has no such post."""

    async def resolve_authors(self, addr: str, ids: list[str], caller: Caller) -> dict[str, str]:
        """Creator of each id the owner knows."""

    async def publish(
        self, addr: str, request: rpc.PublishPostRequest, caller: Caller
    ) -> rpc.Post:
        """The owner's answer to the request."""

    async def list_author_posts(
        self, addr: str, request: rpc.ListAuthorPostsRequest, caller: Caller
    ) -> rpc.ListAuthorPostsResponse:
        """The owner's page of the author's posts."""

    async def close(self) -> None:
        """Close every connection."""


@dataclass
class Ownership:
    """Who owns which partition (as the last rebalance said) and whether this replica serves."""

    partitions: int
    addr: str
    owners: dict[int, str] = field(default_factory=dict)
    local: frozenset[int] = frozenset()
    serving: bool = False

    def partition_of(self, post_id: str) -> int:
        """The partition a post id lives on."""
        return partition_for(post_id, self.partitions)

    def set_owners(self, owners: dict[int, str]) -> None:
        """The owner map the group leader handed out with this generation's assignment."""
        self.owners = dict(owners)

    def knows_every_owner(self) -> bool:
        """True when every partition has an owner with an address."""
        return all(self.owners.get(p) for p in range(self.partitions))


class ContentHandlers:
    """The use cases over the local partition stores, the event log and the other replicas."""

    def __init__(
        self, stores: Stores, index: IndexStores, log: EventLog, peers: Peers,
        ownership: Ownership, clock_ms: Callable[[], int], publishers: PublisherGate,
        topics: PublishHooks | None = None,
    ) -> None:
        self._publishers = publishers
        # Instruments and topics (services/content/topics.py); None in bare unit tests.
        self._topics = topics
        self._stores = stores
        self._index = index
        self._log = log
        self._peers = peers
        self._ownership = ownership
        self._clock_ms = clock_ms
        # One lock per post id in flight, so a retry racing its original waits for it
        # instead of appending a second event.
        self._locks: dict[str, asyncio.Lock] = {}
        self._inflight = 0
        self._drained = asyncio.Condition()

    def _owner(self, partition: int, caller: Caller) -> str | None:
        """None when this replica serves ``partition``; else the owner's address to forward to."""
        return owner_address(self._ownership, partition, caller, "posts")

    async def publish_post(self, cmd: PublishPost, caller: Caller) -> Published:
        """Validate, append PostPublished, then store it; a repeated request returns the first."""
        cmd = validate(cmd)
        if self._topics is not None:
            self._topics.check(cmd)  # unknown symbols, hashtags that are not topics
        # Only an open, non-suspended creator identity publishes. A call forwarded by another
        # replica was checked there, for the same creator.
        if caller.service != CONTENT:
            reason = await self._publishers.refusal(cmd.creator_id, caller, cmd.mentions)
            if reason:
                raise NotPublisher(reason)
        post_id = post_id_for(cmd.creator_id, cmd.request_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answered = await self._peers.publish(owner, request_from_command(cmd), caller)
            return Published(post_from_pb(answered), created=False)
        store = self._stores.store(partition)
        if (existing := store.get(post_id)) is not None:
            return Published(existing, created=False)
        lock = self._locks.setdefault(post_id, asyncio.Lock())
        self._inflight += 1
        try:
            async with lock:
                if (existing := store.get(post_id)) is not None:
                    return Published(existing, created=False)
                # Ownership may have moved while this call waited for the lock.
                self._owner(partition, caller)
                now = self._clock_ms()
                post = Post(
                    post_id=post_id,
                    creator_id=cmd.creator_id,
                    kind=cmd.kind,
                    title=cmd.title,
                    body=cmd.body,
                    hashtags=cmd.hashtags,
                    mentions=cmd.mentions,
                    components=cmd.components,
                    published_at_ms=now,
                    version=1,
                    summary=cmd.summary,
                    cover_image_url=cmd.cover_image_url,
                )
                envelope = wrap(
                    post_published(post),
                    event_id=event_id_for(post_id, 1),
                    source=SOURCE,
                    aggregate_id=post_id,
                    occurred_at_ms=now,
                    aggregate_version=1,
                )
                author_partition = self._ownership.partition_of(post.creator_id)
                targets = [] if self._topics is None else self._topics.targets(post)
                if targets:
                    await self._log.append(envelope, partition, post.creator_id,
                                           author_partition, topics=targets)
                else:
                    await self._log.append(envelope, partition, post.creator_id, author_partition)
                store.put_published(post_id, post.creator_id, 1, envelope.payload)
                # As stored: with its rendered body (domain/post_events.py).
                post = store.get(post_id) or post
                if author_partition in self._ownership.local:
                    # The author's list shows it at once when it is kept here; elsewhere its
                    # owner's tail indexes it a fetch later.
                    self._index.store(author_partition).put_published(post, envelope.payload)
                if self._topics is not None:
                    self._topics.indexed(post, targets)
                return Published(post, created=True)
        finally:
            if not lock.locked() and self._locks.get(post_id) is lock:
                del self._locks[post_id]
            self._inflight -= 1
            async with self._drained:
                self._drained.notify_all()

    async def drain(self, timeout_s: float) -> None:
        """Wait (bounded) for publishes in flight, so a revoked partition's last append is
        in the log before its next owner reads where the log ends."""
        async with self._drained:
            try:
                await asyncio.wait_for(
                    self._drained.wait_for(lambda: self._inflight == 0), timeout_s)
            except TimeoutError:
                log.warning("publishes still in flight at revocation",
                            extra={"inflight": self._inflight})

    async def get_post(self, post_id: str, caller: Caller) -> Post | None:
        """The post called ``post_id``, if published (asked of its owner when not here)."""
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is None:
            return self._stores.store(partition).get(post_id)
        answered = await self._peers.get_post(owner, post_id, caller)
        return None if answered is None else post_from_pb(answered)

    async def list_author_posts(
        self, author_id: str, after: Cursor | None, limit: int, caller: Caller
    ) -> tuple[list[Post], str]:
        """A page of the author's posts, newest first, and the next page's cursor ("" when
        this is the last), from the replica that owns the author's partition.

        Every post the log holds is listed: removed and deleted posts do not exist yet (issue
        13 adds them and filters them in the index store's page, see AuthorIndexStore.page).
        """
        partition = self._ownership.partition_of(author_id)
        owner = self._owner(partition, caller)
        if owner is None:
            posts, following = self._index.store(partition).page(author_id, after, limit)
            return posts, "" if following is None else encode_cursor(following)
        answered = await self._peers.list_author_posts(owner, rpc.ListAuthorPostsRequest(
            author_id=author_id, cursor="" if after is None else encode_cursor(after),
            limit=limit), caller)
        return [post_from_pb(p) for p in answered.posts], answered.next_cursor

    async def close_publishers(self) -> None:
        """Close the channel to the social service (it was never closed before: each stopped
        replica left a connection, and in tests a warning, behind)."""
        await self._publishers.close()

    async def resolve_authors(self, item_ids: Iterable[str], caller: Caller) -> dict[str, str]:
        """Creator of each known item id: local partitions read here, the rest per owner."""
        by_partition: dict[int, list[str]] = {}
        for item_id in dict.fromkeys(item_ids):
            by_partition.setdefault(self._ownership.partition_of(item_id), []).append(item_id)
        found: dict[str, str] = {}
        remote: dict[str, list[str]] = {}
        for partition, ids in by_partition.items():
            owner = self._owner(partition, caller)
            if owner is None:
                found.update(self._stores.store(partition).authors(ids))
            else:
                remote.setdefault(owner, []).extend(ids)
        answers = await asyncio.gather(
            *(self._peers.resolve_authors(addr, ids, caller) for addr, ids in remote.items()))
        for answer in answers:
            found.update(answer)
        return found


class ReplicaStore(Protocol):
    """A partition store (posts or author index) as the loop drives it."""

    applied: int

    def apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> int:
        """Write a fetch and its next offset in one batch; how many entries were new."""

    def reset(self) -> None:
        """Start empty (rebuilt from offset 0)."""


class PartitionStores(Protocol):
    """What the loop needs of a topic's stores."""

    def store(self, partition: int) -> ReplicaStore:
        """The store of ``partition``."""

    def close(self) -> None:
        """Close every store."""


@dataclass
class ReplicaStats:
    """Counters for logs, tests and the restart benchmark."""

    records_read: int = 0
    posts_new: int = 0
    # Entries added to the author index (posts of the authors this replica keeps).
    indexed_new: int = 0
    rebalances: int = 0
    # Seconds from the latest assignment to caught up (the restore time).
    last_restore_s: float = 0.0
    # Records read to catch up after the latest assignment.
    last_restore_records: int = 0


@dataclass(frozen=True)
class ReplicaConfig:
    """How the loop reads."""

    topic: str
    # The author-posts topic: same partition count, assigned with ``topic``.
    index_topic: str
    max_records: int = 5_000
    fetch_timeout_ms: int = 200
    shutdown_grace_s: float = 5.0
    publish_timeout_s: float = 10.0
    # planet.content.interactions.v1: same partition count, assigned with ``topic``.
    interactions_topic: str = ""


class ContentReplica:
    """One replica: serves gRPC, owns some partitions of both topics (group-assigned), tails
    them into its stores."""

    def __init__(
        self,
        config: ReplicaConfig,
        *,
        server: grpc.aio.Server,
        port: int,
        grpc_health: Health,
        consumer: AIOKafkaConsumer,
        event_log: EventLog,
        stores: PartitionStores,
        index_stores: PartitionStores,
        handlers: ContentHandlers,
        ownership: Ownership,
        peers: Peers,
        listener: Callable[[ContentReplica], ConsumerRebalanceListener],
        temp_dir: Path | None = None,
        topic_stores: tuple[str, PartitionStores] | None = None,
        interaction_stores: PartitionStores | None = None,
        tails: Sequence[ReferenceTable] = (),
        timer: Callable[[], float] = time.monotonic,
        # Further co-partitioned topics' stores (name, stores), assigned with ``topic``.
        more_stores: Sequence[tuple[str, PartitionStores]] = (),
    ) -> None:
        self.config = config
        self.port = port
        self.stats = ReplicaStats()
        self.ownership = ownership
        self._server = server
        self._grpc_health = grpc_health
        self._consumer = consumer
        self._log = event_log
        self._stores = {config.topic: stores, config.index_topic: index_stores}
        if topic_stores is not None:
            # planet.content.topic-posts.v1 (name, stores): assigned with ``topic``.
            self._stores[topic_stores[0]] = topic_stores[1]
        if interaction_stores is not None:
            self._stores[config.interactions_topic] = interaction_stores
        self._stores.update(more_stores)
        # Instruments, arenas, sanctions: read whole before SERVING, followed after.
        self._tails = tuple(tails)
        self._tail_tasks: list[asyncio.Task[None]] = []
        self._handlers = handlers
        self._peers = peers
        self._listener = listener
        self._temp_dir = temp_dir
        self._timer = timer
        self._lifecycle: Lifecycle | None = None
        # Per owned partition of either topic: the end offset when it was assigned (the
        # restore target).
        self._targets: dict[TopicPartition, int] | None = None
        self._assigned_at = 0.0
        self._read_since_assignment = 0

    def _store(self, tp: TopicPartition) -> ReplicaStore:
        return self._stores[tp.topic].store(tp.partition)

    async def _serving(self, serving: bool) -> None:
        self.ownership.serving = serving
        await self._grpc_health.set_serving(serving)
        if self._lifecycle is not None:
            if serving:
                await self._lifecycle.ready()
            else:
                await self._lifecycle.not_ready()

    async def on_revoked(self, revoked: set[TopicPartition]) -> None:
        """NOT_SERVING until the next assignment is restored; let in-flight publishes land."""
        self._targets = None
        await self._serving(False)
        self.ownership.local = frozenset()
        await self._handlers.drain(self.config.publish_timeout_s)
        if revoked:
            log.info("partitions revoked", extra={"partitions": sorted(
                tp.partition for tp in revoked if tp.topic == self.config.topic)})

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Fence the previous owners, then position each owned partition of both topics at
        its store's offset and remember where each log ends."""
        self.stats.rebalances += 1
        posts = {tp.partition for tp in assigned if tp.topic == self.config.topic}
        index = {tp.partition for tp in assigned if tp.topic == self.config.index_topic}
        if posts != index:
            # The assignor hands out both topics' partitions together; anything else is a
            # bug, and serving an author list from a partition another replica appends to
            # without being read here would show stale pages.
            log.error("posts and author-posts partitions assigned apart", extra={
                "posts": sorted(posts), "author_posts": sorted(index)})
        # Before reading where the logs end: starting the transactional producers aborts any
        # transaction a previous owner left open, so the ends below are final for them.
        await self._log.own(posts)
        tps = sorted(assigned, key=lambda tp: (tp.topic, tp.partition))
        ends = await self._consumer.end_offsets(tps) if tps else {}
        targets: dict[TopicPartition, int] = {}
        for tp in tps:
            store = self._store(tp)
            if store.applied > ends[tp]:
                # The store is ahead of the log: the topic was recreated. Start over from it.
                log.warning("store ahead of its topic; rebuilding", extra={
                    "topic": tp.topic, "partition": tp.partition, "applied": store.applied,
                    "end": ends[tp]})
                store.reset()
            self._consumer.seek(tp, store.applied)
            targets[tp] = ends[tp]
        self.ownership.local = frozenset(posts & index)
        self._targets = targets
        self._assigned_at = self._timer()
        self._read_since_assignment = 0
        log.info("partitions assigned", extra={
            "partitions": sorted(posts),
            "to_read": sum(end - self._store(tp).applied for tp, end in targets.items()),
            "owners": {str(p): a for p, a in sorted(self.ownership.owners.items())}})

    async def _caught_up(self, targets: dict[TopicPartition, int]) -> bool:
        # Positions, not stored offsets: a transaction's commit marker takes an offset no
        # record has, and the consumer's position moves past it.
        for tp, end in targets.items():
            if await self._consumer.position(tp) < end:
                return False
        return True

    async def _maybe_ready(self) -> None:
        for task in self._tail_tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise RuntimeError(f"reference table {task.get_name()} stopped") \
                    from task.exception()
        if self.ownership.serving or self._targets is None:
            return
        if not self.ownership.knows_every_owner():
            return
        if not all(t.loaded for t in self._tails):
            return
        if not await self._caught_up(self._targets):
            return
        self.stats.last_restore_s = self._timer() - self._assigned_at
        self.stats.last_restore_records = self._read_since_assignment
        await self._serving(True)
        log.info("serving", extra={
            "partitions": sorted(self.ownership.local),
            "restore_s": round(self.stats.last_restore_s, 3),
            "records_read": self._read_since_assignment})

    async def run(self, lifecycle: Lifecycle) -> None:
        """Serve and tail until ``lifecycle.stopping``; then stop serving and close cleanly."""
        self._lifecycle = lifecycle
        # The gRPC port answers liveness probes too (SERVING while the process runs).
        await self._grpc_health.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        self._tail_tasks = [asyncio.create_task(t.run(lifecycle.stopping), name=t.name)
                            for t in self._tails]
        try:
            await self._server.start()
            self._consumer.subscribe(list(self._stores), listener=self._listener(self))
            await self._consumer.start()
            while not lifecycle.stopping.is_set():
                fetched = await self._consumer.getmany(
                    timeout_ms=self.config.fetch_timeout_ms, max_records=self.config.max_records)
                for tp, records in fetched.items():
                    if self._targets is None or tp not in self._targets:
                        continue  # fetched before a revocation: the next owner reads it
                    new = self._store(tp).apply(records)
                    if tp.topic == self.config.topic:
                        self.stats.posts_new += new
                    elif tp.topic == self.config.index_topic:
                        self.stats.indexed_new += new
                    self.stats.records_read += len(records)
                    self._read_since_assignment += len(records)
                await self._maybe_ready()
        finally:
            await self._serving(False)
            await self._grpc_health.shutting_down()
            await self._server.stop(self.config.shutdown_grace_s)
            await self._consumer.stop()
            for task in self._tail_tasks:
                task.cancel()
            await asyncio.gather(*self._tail_tasks, return_exceptions=True)
            await self._log.close()
            await self._peers.close()
            await self._handlers.close_publishers()
            for stores in self._stores.values():
                stores.close()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
