"""The use cases (publish a post, read posts, resolve authors) and the replica's loop.

A post lives on the partition its id hashes to (murmur2, like Kafka's default partitioner),
and each partition is owned by one replica at a time (the consumer group decides). A
request about a post another replica owns is forwarded to that owner, once: a forwarded
call that lands on a replica that no longer owns the partition (it is moving) answers
UNAVAILABLE, which callers retry, instead of bouncing between replicas.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
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
from services.content.domain.codec import post_from_pb, post_published, request_from_command
from services.content.domain.commands import PublishPost
from services.content.domain.errors import EventLogUnavailable, NotPublisher, NotServing
from services.content.domain.ids import event_id_for, post_id_for
from services.content.domain.model import Post, Published
from services.content.domain.validation import validate

SOURCE = CONTENT
# Re-exported: the errors a caller of the use cases handles.
__all__ = ["ContentHandlers", "ContentReplica", "EventLogUnavailable", "NotServing", "Ownership",
           "Published"]
log = logging.getLogger(__name__)


class EventLog(Protocol):
    """Where PostPublished envelopes are appended (the POSTS topic in production)."""

    async def append(self, envelope: Envelope, partition: int) -> None:
        """Append to ``partition`` and return once durable; EventLogUnavailable otherwise."""


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


class PublisherGate(Protocol):
    """Whether a creator may publish (the social service's CheckPublisher)."""

    async def refusal(self, creator_id: str, caller: Caller) -> str:
        """"" when allowed; else why not. IdentityCheckUnavailable when unknown."""

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
        self, stores: Stores, log: EventLog, peers: Peers, ownership: Ownership,
        clock_ms: Callable[[], int], publishers: PublisherGate,
    ) -> None:
        self._publishers = publishers
        self._stores = stores
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
        own = self._ownership
        if not own.serving:
            raise NotServing("content is restoring or rebalancing its partitions; retry")
        if partition in own.local:
            return None
        addr = own.owners.get(partition)
        if caller.service == CONTENT or not addr or addr == own.addr:
            raise NotServing(f"partition {partition} of the posts is moving between replicas; "
                             "retry")
        return addr

    async def publish_post(self, cmd: PublishPost, caller: Caller) -> Published:
        """Validate, append PostPublished, then store it; a repeated request returns the first."""
        cmd = validate(cmd)
        # Only an open, non-suspended creator identity publishes. A call forwarded by another
        # replica was checked there, for the same creator.
        if caller.service != CONTENT:
            reason = await self._publishers.refusal(cmd.creator_id, caller)
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
                )
                envelope = wrap(
                    post_published(post),
                    event_id=event_id_for(post_id, 1),
                    source=SOURCE,
                    aggregate_id=post_id,
                    occurred_at_ms=now,
                    aggregate_version=1,
                )
                await self._log.append(envelope, partition)
                store.put_published(post_id, post.creator_id, 1, envelope.payload)
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


class PartitionStores(Stores, Protocol):
    """What the loop needs of the stores beyond the use cases."""

    def store(self, partition: int) -> ReplicaStore:
        """The store of ``partition``."""

    def close(self) -> None:
        """Close every store."""


class ReplicaStore(Store, Protocol):
    """A store as the loop drives it."""

    applied: int

    def apply(self, records: list[ConsumerRecord[bytes, bytes]]) -> int:
        """Write a fetch and its next offset in one batch; how many posts were new."""

    def reset(self) -> None:
        """Start empty (rebuilt from offset 0)."""


@dataclass
class ReplicaStats:
    """Counters for logs, tests and the restart benchmark."""

    records_read: int = 0
    posts_new: int = 0
    rebalances: int = 0
    # Seconds from the latest assignment to caught up (the restore time).
    last_restore_s: float = 0.0
    # Records read to catch up after the latest assignment.
    last_restore_records: int = 0


@dataclass(frozen=True)
class ReplicaConfig:
    """How the loop reads."""

    topic: str
    max_records: int = 5_000
    fetch_timeout_ms: int = 200
    shutdown_grace_s: float = 5.0
    publish_timeout_s: float = 10.0


class ContentReplica:
    """One replica: serves gRPC, owns some partitions (group-assigned), tails them."""

    def __init__(
        self,
        config: ReplicaConfig,
        *,
        server: grpc.aio.Server,
        port: int,
        grpc_health: Health,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        stores: PartitionStores,
        handlers: ContentHandlers,
        ownership: Ownership,
        peers: Peers,
        listener: Callable[[ContentReplica], ConsumerRebalanceListener],
        temp_dir: Path | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.port = port
        self.stats = ReplicaStats()
        self.ownership = ownership
        self._server = server
        self._grpc_health = grpc_health
        self._consumer = consumer
        self._producer = producer
        self._stores = stores
        self._handlers = handlers
        self._peers = peers
        self._listener = listener
        self._temp_dir = temp_dir
        self._timer = timer
        self._lifecycle: Lifecycle | None = None
        # Per owned partition: the end offset when it was assigned (restore target).
        self._targets: dict[int, int] | None = None
        self._assigned_at = 0.0
        self._read_since_assignment = 0

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
                tp.partition for tp in revoked)})

    async def on_assigned(self, assigned: set[TopicPartition]) -> None:
        """Position each owned partition at its store's offset; remember where the log ends."""
        self.stats.rebalances += 1
        tps = sorted(assigned, key=lambda tp: tp.partition)
        ends = await self._consumer.end_offsets(tps) if tps else {}
        targets: dict[int, int] = {}
        for tp in tps:
            store = self._stores.store(tp.partition)
            if store.applied > ends[tp]:
                # The store is ahead of the log: the topic was recreated. Start over from it.
                log.warning("post store ahead of the topic; rebuilding", extra={
                    "partition": tp.partition, "applied": store.applied, "end": ends[tp]})
                store.reset()
            self._consumer.seek(tp, store.applied)
            targets[tp.partition] = ends[tp]
        self.ownership.local = frozenset(targets)
        self._targets = targets
        self._assigned_at = self._timer()
        self._read_since_assignment = 0
        log.info("partitions assigned", extra={
            "partitions": sorted(targets),
            "to_read": sum(targets[p] - self._stores.store(p).applied for p in targets),
            "owners": {str(p): a for p, a in sorted(self.ownership.owners.items())}})

    async def _maybe_ready(self) -> None:
        if self.ownership.serving or self._targets is None:
            return
        if not self.ownership.knows_every_owner():
            return
        if any(self._stores.store(p).applied < end for p, end in self._targets.items()):
            return
        self.stats.last_restore_s = self._timer() - self._assigned_at
        self.stats.last_restore_records = self._read_since_assignment
        await self._serving(True)
        log.info("serving", extra={
            "partitions": sorted(self._targets), "restore_s": round(self.stats.last_restore_s, 3),
            "records_read": self._read_since_assignment})

    async def run(self, lifecycle: Lifecycle) -> None:
        """Serve and tail until ``lifecycle.stopping``; then stop serving and close cleanly."""
        self._lifecycle = lifecycle
        # The gRPC port answers liveness probes too (SERVING while the process runs).
        await self._grpc_health.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        try:
            await self._producer.start()
            await self._server.start()
            self._consumer.subscribe([self.config.topic], listener=self._listener(self))
            await self._consumer.start()
            while not lifecycle.stopping.is_set():
                fetched = await self._consumer.getmany(
                    timeout_ms=self.config.fetch_timeout_ms, max_records=self.config.max_records)
                for tp, records in fetched.items():
                    if self._targets is None or tp.partition not in self._targets:
                        continue  # fetched before a revocation: the next owner reads it
                    self.stats.posts_new += self._stores.store(tp.partition).apply(records)
                    self.stats.records_read += len(records)
                    self._read_since_assignment += len(records)
                await self._maybe_ready()
        finally:
            await self._serving(False)
            await self._grpc_health.shutting_down()
            await self._server.stop(self.config.shutdown_grace_s)
            await self._consumer.stop()
            await self._producer.stop()
            await self._peers.close()
            await self._handlers.close_publishers()
            self._stores.close()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
