"""Composition root: the ONLY place that builds content's clients, stores, server and clock."""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc
from aiokafka import AIOKafkaConsumer

from planetkit.clock import now_ms
from planetkit.grpc_health import Health
from planetkit.kafka.admin import require_topics, wait_for_broker
from planetkit.kafka.producer import MAX_REQUEST_BYTES, make_producer
from planetkit.runner import Lifecycle
from planetkit.service_auth_assertion import load_signer
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import CONTENT
from planetkit.topics import AUTHOR_POSTS, DRAFTS, INTERACTIONS, POSTS, with_suffix
from services.content.adapters.author_index_store import AuthorIndexStores
from services.content.adapters.draft_store import DraftStores
from services.content.adapters.grpc_drafts import add_drafts
from services.content.adapters.grpc_interactions import InteractionPeersClient, add_interactions
from services.content.adapters.grpc_lifecycle import add_lifecycle
from services.content.adapters.grpc_server import ContentServicer, make_server, new_health
from services.content.adapters.grpc_topics import KafkaArenaLog, TopicPeersClient, add_topics
from services.content.adapters.instrument_store import reference_tails
from services.content.adapters.interaction_log import KafkaInteractionLog
from services.content.adapters.interaction_store import InteractionStores
from services.content.adapters.kafka_log import KafkaEventLog
from services.content.adapters.lifecycle_peers import LifecyclePeers
from services.content.adapters.membership import RebalanceListener, owner_map_assignor
from services.content.adapters.partition_writer import PartitionTransactions
from services.content.adapters.peers import Peers
from services.content.adapters.post_store import PostStores
from services.content.adapters.publishers import GrpcPublisherGate
from services.content.adapters.relations import GrpcBlockCheck
from services.content.adapters.sanctions_snapshot import SanctionsSnapshot
from services.content.adapters.topic_store import TopicIndexStores
from services.content.domain.assignment import Claim
from services.content.domain.components import Instruments
from services.content.domain.topics import Arenas, Sanctions
from services.content.drafts import DraftHandlers
from services.content.handlers import ContentHandlers, ContentReplica, Ownership, ReplicaConfig
from services.content.interactions import InteractionHandlers
from services.content.moderation_wiring import ModerationSide
from services.content.post_lifecycle import PostLifecycle
from services.content.settings import ContentSettings
from services.content.topic_engagement import TopicEngagementCopies
from services.content.topics import Closing, TopicHandlers, TopicTopics

NAME = "content"
log = logging.getLogger(__name__)


def advertised(settings: ContentSettings, port: int) -> str:
    """The address the other replicas dial: set explicitly, or derived from the bind host."""
    if settings.advertised_addr:
        return settings.advertised_addr
    host = settings.grpc_host
    if host in ("0.0.0.0", "::", ""):
        # Inside a pod the hostname resolves to the pod's IP; the chart sets the address
        # explicitly anyway (PLANET_CONTENT_ADVERTISED_ADDR from the downward API).
        host = socket.gethostbyname(socket.gethostname())
    return f"{host}:{port}"


async def build(settings: ContentSettings) -> ContentReplica:
    """Check the topic, bind the port, open the store root and wire one replica."""
    # First: a service that cannot authenticate its callers must not start at all.
    verifier = load_verifier(settings.identity, settings.auth)
    # Forwarding to the other replicas needs content's own key; without one this replica
    # still serves every partition it owns, and says why it cannot forward.
    signer = load_signer(CONTENT, settings.auth) if settings.auth.key_file else None
    if signer is None:
        log.warning("no service key: this replica cannot forward to other replicas "
                    "(set PLANET_SERVICE_AUTH_KEY_FILE to run more than one)")
    bootstrap = settings.kafka.bootstrap_servers
    topic = with_suffix(POSTS, settings.topics.topic_suffix)
    index_topic = with_suffix(AUTHOR_POSTS, settings.topics.topic_suffix)
    interactions_topic = with_suffix(INTERACTIONS, settings.topics.topic_suffix)
    if interactions_topic.partitions != topic.partitions:
        raise ValueError(f"{interactions_topic.name} must have as many partitions as {topic.name}")
    if index_topic.partitions != topic.partitions:
        # Co-partitioned by contract: the owner of posts partition p keeps author partition p.
        raise ValueError(f"{index_topic.name} must have as many partitions as {topic.name}")
    # Topics, arenas, instruments, sanctions (services/content/topics.py).
    side = TopicTopics.with_suffix(settings.topics.topic_suffix)
    if side.topic_posts.partitions != topic.partitions:
        raise ValueError(f"{side.topic_posts.name} must have as many partitions as {topic.name}")
    await wait_for_broker(bootstrap)
    await require_topics(bootstrap, side.all())
    await require_topics(bootstrap, [topic, index_topic, interactions_topic])
    drafts_topic = with_suffix(DRAFTS, settings.topics.topic_suffix)
    if drafts_topic.partitions != topic.partitions:  # decided by the author index's owner
        raise ValueError(f"{drafts_topic.name} must have as many partitions as {topic.name}")
    await require_topics(bootstrap, [drafts_topic])

    temp_dir: Path | None = None
    data_dir = settings.data_dir
    if data_dir is None:
        temp_dir = data_dir = Path(tempfile.mkdtemp(prefix="planet-content-"))
        log.warning("no PLANET_CONTENT_DATA_DIR: stores are temporary and every start "
                    "rebuilds them from the topic", extra={"data_dir": str(data_dir)})
    stores = PostStores(data_dir, topic.name)
    index_stores = AuthorIndexStores(data_dir, index_topic.name)
    topic_stores = TopicIndexStores(data_dir, side.topic_posts.name)
    interaction_stores = InteractionStores(data_dir, interactions_topic.name)
    moderation = ModerationSide(settings.topics.topic_suffix, data_dir, topic, stores,
                                interaction_stores)
    await moderation.require(bootstrap)
    interaction_log = KafkaInteractionLog(
        lambda txn_id: make_producer(bootstrap, writer=CONTENT, linger_ms=0,
                                     transactional_id=txn_id),
        settings.group(), interactions_topic, settings.publish_timeout_s)
    event_log = KafkaEventLog(
        lambda txn_id: make_producer(bootstrap, writer=CONTENT, linger_ms=0,
                                     transactional_id=txn_id),
        settings.group(), topic, index_topic, settings.publish_timeout_s,
        topic_posts=side.topic_posts)
    health = new_health()
    peers = Peers(signer, settings.identity, settings.forward_timeout_s)
    # The address is known once the port is bound; it is read only when the group is joined.
    ownership = Ownership(topic.partitions, addr="")
    publishers = GrpcPublisherGate(
        grpc.aio.insecure_channel(settings.social_addr), signer, settings.social_identity,
        settings.publisher_check_timeout_s)
    instruments, arenas, sanctions = Instruments(), Arenas(), Sanctions()
    topic_peers = TopicPeersClient(signer, settings.identity, settings.forward_timeout_s)
    arena_log = KafkaArenaLog(lambda: make_producer(bootstrap, writer=CONTENT), side.arenas)
    topic_handlers = TopicHandlers(topic_stores, ownership, topic_peers, instruments, arenas,
                                   sanctions, arena_log, now_ms)
    handlers = ContentHandlers(
        moderation.posts, index_stores, event_log, peers, ownership, now_ms, publishers,
        topics=topic_handlers)
    lifecycle = PostLifecycle(moderation.posts, index_stores, event_log,
                              LifecyclePeers(signer, settings.identity, settings.forward_timeout_s),
                              ownership, now_ms, topics=topic_handlers)
    interaction_peers = InteractionPeersClient(signer, settings.identity,
                                               settings.forward_timeout_s)
    block_check = GrpcBlockCheck(
        grpc.aio.insecure_channel(settings.social_addr), signer, settings.social_identity,
        settings.publisher_check_timeout_s)
    interactions = InteractionHandlers(
        moderation.posts, moderation.interactions, interaction_log, interaction_peers,
        ownership, block_check,
        now_ms, engagement=TopicEngagementCopies(side.topic_posts))
    server = make_server(ContentServicer(handlers, stats=interactions), health, verifier,
                         more=[lambda s: add_lifecycle(s, lifecycle)])
    add_interactions(server, interactions)
    draft_stores, draft_log = DraftStores(data_dir, drafts_topic.name), PartitionTransactions(
        lambda txn_id: make_producer(bootstrap, writer=CONTENT, linger_ms=0,
                                     transactional_id=txn_id),
        settings.group(), "drafts", settings.publish_timeout_s)
    draft_peers = LifecyclePeers(signer, settings.identity, settings.forward_timeout_s)
    add_drafts(server, DraftHandlers(draft_stores, draft_log, drafts_topic.name, draft_peers,
                                     ownership, handlers, now_ms))
    add_topics(server, topic_handlers, settings.exchange_url)
    moderation_closer = moderation.serve(
        server, lambda txn_id: make_producer(bootstrap, writer=CONTENT, linger_ms=0,
                                             transactional_id=txn_id),
        settings.group(), settings.publish_timeout_s, signer, settings.identity,
        settings.forward_timeout_s, ownership, index_topic.name, side.topic_posts.name,
        index_stores, topic_stores, now_ms)
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    ownership.addr = advertised(settings, port)
    assignor = owner_map_assignor(
        lambda: Claim(ownership.addr, stores.on_disk()), ownership.set_owners)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=settings.group(),
        # Positions live in the stores, in the same write as the state; the group only
        # decides ownership.
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        partition_assignment_strategy=(assignor,),
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=max(settings.session_timeout_ms // 5, 300),
        max_partition_fetch_bytes=MAX_REQUEST_BYTES,
        fetch_max_bytes=32 * 1024 * 1024,
    )
    return ContentReplica(
        ReplicaConfig(topic.name, index_topic.name, settings.max_records,
                      shutdown_grace_s=settings.shutdown_grace_s,
                      publish_timeout_s=settings.publish_timeout_s,
                      interactions_topic=interactions_topic.name),
        server=server, port=port, grpc_health=health, consumer=consumer, event_log=event_log,
        interaction_stores=interaction_stores,
        stores=stores, index_stores=index_stores, handlers=handlers, ownership=ownership,
        peers=peers,
        listener=lambda r: RebalanceListener(r.on_revoked, r.on_assigned),
        temp_dir=temp_dir,
        topic_stores=(side.topic_posts.name, topic_stores),
        # Read whole before SERVING (a group-less consumer each, every partition).
        tails=[*reference_tails(
            lambda: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                     enable_auto_commit=False, auto_offset_reset="earliest",
                                     isolation_level="read_committed"),
            side.instruments, side.arenas, side.identities,
            instruments, arenas, sanctions, sanctions_checkpoint=(
                snapshot := SanctionsSnapshot(data_dir / side.identities.name / "sanctions",
                                              sanctions), snapshot.apply())),
            Closing(topic_peers.close, arena_log.close),
            Closing(interaction_log.close, interaction_peers.close, block_check.close),
            Closing(draft_log.close, draft_peers.close), moderation_closer],
        more_stores=[(drafts_topic.name, draft_stores),
                     (moderation.topic.name, moderation.stores)],
    )


@dataclass
class RunningContent:
    """A replica running in this process (tests): its port, its replica, how to stop it."""

    port: int
    replica: ContentReplica
    lifecycle: Lifecycle
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """What SIGTERM does: NOT_SERVING, finish in-flight calls, close Kafka and stores."""
        self.lifecycle.request_stop()
        await self.task


async def start(settings: ContentSettings, ready_timeout_s: float = 60.0) -> RunningContent:
    """Build and run a replica in this process; return once it reports SERVING."""
    replica = await build(settings)
    lifecycle = Lifecycle(Health(NAME), 0)
    task = asyncio.create_task(replica.run(lifecycle), name="content.run")
    deadline = asyncio.get_running_loop().time() + ready_timeout_s
    while not lifecycle.is_ready:
        if task.done():
            await task  # raises what stopped it
            raise RuntimeError("content stopped before it was ready")
        if asyncio.get_running_loop().time() > deadline:
            lifecycle.request_stop()
            await task
            raise TimeoutError(f"content was not ready within {ready_timeout_s:.0f}s")
        await asyncio.sleep(0.02)
    return RunningContent(replica.port, replica, lifecycle, task)
