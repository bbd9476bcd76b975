"""Composition root: the ONLY place that builds social's clients, stores, server and clock."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from planetkit.clock import now_ms
from planetkit.grpc_health import Health
from planetkit.kafka.admin import require_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.runner import Lifecycle
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import SOCIAL
from planetkit.topics import (
    FILLS,
    GROUP_EVENTS,
    INTERACTIONS,
    KYC,
    MODERATION,
    POSTS,
    SOCIAL_BLOCKS,
    SOCIAL_GRAPH,
    SOCIAL_HANDLES,
    SOCIAL_IDENTITIES,
    SOCIAL_NOTIFICATIONS,
    with_suffix,
)
from services.social.adapters.account_store import AccountStores
from services.social.adapters.graph_store import GraphStore
from services.social.adapters.grpc_server import SocialServicer, make_server, new_health
from services.social.adapters.kafka_log import KafkaEventLog
from services.social.adapters.notification_store import NotificationStore
from services.social.adapters.track_record_store import TrackRecordStore
from services.social.content_moderation_notifications import ContentModerationNotificationsTail
from services.social.follows import FollowHandlers, GraphTail
from services.social.group_mention_notifications import GroupMentionNotificationsTail
from services.social.handlers import DAY_MS, LoopConfig, SocialHandlers, SocialService, Topics
from services.social.notifications import (
    FollowNotificationsTail,
    ModerationNotificationsTail,
    Notifications,
    NotificationsTopic,
    PostNotificationsTail,
    ReplyNotificationsTail,
)
from services.social.relations import BLOCK_FACTS, RelationHandlers
from services.social.settings import SocialSettings
from services.social.track_records import TrackRecords, TrackRecordTail

NAME = "social"
log = logging.getLogger(__name__)


async def build(settings: SocialSettings) -> SocialService:
    """Check the topics, bind the port, open the stores and wire the service."""
    verifier = load_verifier(settings.identity, settings.auth)
    bootstrap = settings.kafka.bootstrap_servers
    suffix = settings.topics.topic_suffix
    identities = with_suffix(SOCIAL_IDENTITIES, suffix)
    handles = with_suffix(SOCIAL_HANDLES, suffix)
    kyc = with_suffix(KYC, suffix)
    graph = with_suffix(SOCIAL_GRAPH, suffix)
    blocks = with_suffix(SOCIAL_BLOCKS, suffix)
    if not (identities.partitions == handles.partitions == kyc.partitions == graph.partitions
            == blocks.partitions):
        raise RuntimeError("the social topics and the KYC topic must have one partition count")
    await wait_for_broker(bootstrap)
    fills = with_suffix(FILLS, suffix)
    posts = with_suffix(POSTS, suffix)
    interactions = with_suffix(INTERACTIONS, suffix)
    content_moderation = with_suffix(MODERATION, suffix)  # removals notify their authors
    group_events = with_suffix(GROUP_EVENTS, suffix)  # group mentions notify members
    notes_topic = with_suffix(SOCIAL_NOTIFICATIONS, suffix)
    await require_topics(bootstrap, [identities, handles, kyc, graph, blocks, fills, posts,
                                     notes_topic, interactions, content_moderation,
                                     group_events])

    temp_dir: Path | None = None
    data_dir = settings.data_dir
    if data_dir is None:
        temp_dir = data_dir = Path(tempfile.mkdtemp(prefix="planet-social-"))
        log.warning("no PLANET_SOCIAL_DATA_DIR: stores are temporary and every start "
                    "rebuilds them from the topics", extra={"data_dir": str(data_dir)})
    stores = AccountStores(data_dir, identities.partitions)
    producer = make_producer(bootstrap, writer=SOCIAL, transactional_id=settings.transactional(),
                             linger_ms=0)
    event_log = KafkaEventLog(producer, settings.publish_timeout_s)
    topics = Topics(identities.name, handles.name, kyc.name, identities.partitions)
    handlers = SocialHandlers(stores, event_log, topics, now_ms,
                              settings.handle_reservation_days * DAY_MS)
    graph_store = GraphStore(data_dir / "graph")
    follows = FollowHandlers(handlers, graph_store, event_log, graph.name, graph.partitions,
                             now_ms)
    track_record_store = TrackRecordStore(data_dir / "track-records")
    track_records = TrackRecords(handlers, track_record_store, now_ms)
    health = new_health()
    relations = RelationHandlers(handlers, graph_store, event_log, graph_topic=graph.name,
                                 blocks_topic=blocks.name, partitions=graph.partitions,
                                 clock_ms=now_ms)
    notifications = Notifications(
        handlers, NotificationStore(data_dir / "notifications"), event_log,
        NotificationsTopic(notes_topic.name, notes_topic.partitions),
        lambda: AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                 enable_auto_commit=False, auto_offset_reset="earliest",
                                 isolation_level="read_committed"),
        now_ms)
    server = make_server(SocialServicer(handlers, follows, relations=relations,
                                        track_records=track_records,
                                        notifications=notifications), health, verifier)
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,  # positions live in the stores, in the same write as the state
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    return SocialService(
        LoopConfig(settings.max_records, shutdown_grace_s=settings.shutdown_grace_s),
        topics=topics, server=server, port=port, grpc_health=health, consumer=consumer,
        producer=producer, event_log=event_log, stores=stores, handlers=handlers,
        temp_dir=temp_dir, tails=[
            GraphTail(graph_store, graph.name, graph.partitions),
            # The same store: the graph tail closes it.
            GraphTail(graph_store, blocks.name, blocks.partitions, BLOCK_FACTS,
                      closes_store=False),
            TrackRecordTail(track_record_store, fills.name, fills.partitions),
            FollowNotificationsTail(notifications, graph_store, graph.name, graph.partitions),
            PostNotificationsTail(notifications, graph_store, posts.name, posts.partitions,
                                  handlers),
            ModerationNotificationsTail(notifications, graph_store, identities.name,
                                        identities.partitions),
            ReplyNotificationsTail(notifications, graph_store, interactions.name,
                                   interactions.partitions),
            ContentModerationNotificationsTail(notifications, graph_store,
                                               content_moderation.name,
                                               content_moderation.partitions),
            GroupMentionNotificationsTail(notifications, graph_store, group_events.name,
                                          group_events.partitions)])


@dataclass
class RunningSocial:
    """The service running in this process (tests): its port, service, how to stop it."""

    port: int
    service: SocialService
    lifecycle: Lifecycle
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """What SIGTERM does."""
        self.lifecycle.request_stop()
        await self.task


async def start(settings: SocialSettings, ready_timeout_s: float = 60.0) -> RunningSocial:
    """Build and run the service in this process; return once it reports SERVING."""
    service = await build(settings)
    lifecycle = Lifecycle(Health(NAME), 0)
    task = asyncio.create_task(service.run(lifecycle), name="social.run")
    deadline = asyncio.get_running_loop().time() + ready_timeout_s
    while not lifecycle.is_ready:
        if task.done():
            await task
            raise RuntimeError("social stopped before it was ready")
        if asyncio.get_running_loop().time() > deadline:
            lifecycle.request_stop()
            await task
            raise TimeoutError(f"social was not ready within {ready_timeout_s:.0f}s")
        await asyncio.sleep(0.02)
    return RunningSocial(service.port, service, lifecycle, task)
