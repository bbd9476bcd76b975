"""The real backends' lifecycle: opened on startup, closed on shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
from aiokafka import AIOKafkaConsumer

from gateway.adapters.analytics_client import GrpcAnalytics
from gateway.adapters.content_client import GrpcContent
from gateway.adapters.drafts_client import GrpcDrafts
from gateway.adapters.groups_client import GrpcGroups
from gateway.adapters.incentive_client import GrpcIncentive
from gateway.adapters.interactions_client import GrpcInteractions
from gateway.adapters.kafka_events import KafkaEvents
from gateway.adapters.lifecycle_client import GrpcPostLifecycle
from gateway.adapters.reports_client import GrpcReports
from gateway.adapters.service_calls import CallSigner
from gateway.adapters.social_client import GrpcSocial
from gateway.adapters.topics_client import GrpcTopics
from gateway.estimate_hub import EstimateHub
from gateway.group_hub import GroupHub
from gateway.notification_hub import NotificationHub
from gateway.ports import Backends
from gateway.settings import GatewaySettings
from planetkit.clock import now_ms
from planetkit.kafka.admin import require_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_auth_assertion import load_signer
from planetkit.service_identities import GATEWAY
from planetkit.topics import (
    ENGAGEMENT_BATCHES,
    ESTIMATES,
    GROUP_EVENTS,
    SOCIAL_NOTIFICATIONS,
    with_suffix,
)


@asynccontextmanager
async def open_backends(settings: GatewaySettings) -> AsyncIterator[Backends]:
    """gRPC channels to content, incentive, analytics and social, an idempotent Kafka producer
    and the live notification and estimate hubs (one Kafka consumer each).

    Every gRPC call is signed with the gateway's own key for the user it is made for; without
    a key the gateway does not start.
    """
    signer = load_signer(GATEWAY, settings.service_auth)
    topic = with_suffix(ENGAGEMENT_BATCHES, settings.topics.topic_suffix)
    bootstrap = settings.kafka.bootstrap_servers
    notifications = with_suffix(SOCIAL_NOTIFICATIONS, settings.topics.topic_suffix)
    estimates = with_suffix(ESTIMATES, settings.topics.topic_suffix)
    group_events = with_suffix(GROUP_EVENTS, settings.topics.topic_suffix)
    await require_topics(bootstrap, [topic, notifications, estimates, group_events])
    producer = make_producer(bootstrap, writer=GATEWAY)
    await producer.start()
    # Every gateway process reads every notification for its own sockets (no group).
    hub = NotificationHub(lambda: AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        isolation_level="read_committed"), notifications.name, notifications.partitions)
    # Likewise every estimate, pushed to this process's estimate sockets (no poll per socket).
    estimate_hub = EstimateHub(lambda: AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        isolation_level="read_committed"), estimates.name, estimates.partitions)
    # And every group fact, pushed to this process's group sockets (docs: group_hub.py).
    group_hub = GroupHub(lambda: AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        isolation_level="read_committed"), group_events.name, group_events.partitions)
    try:
        await hub.start()
        await estimate_hub.start()
        await group_hub.start()
        async with (
            grpc.aio.insecure_channel(settings.content_addr) as content,
            grpc.aio.insecure_channel(settings.incentive_addr) as incentive,
            grpc.aio.insecure_channel(settings.analytics_addr) as analytics,
            grpc.aio.insecure_channel(settings.social_addr) as social,
            grpc.aio.insecure_channel(settings.groups_addr) as groups,
        ):
            yield Backends(
                content=GrpcContent(content, settings.grpc_timeout_s,
                                    CallSigner(signer, settings.content_identity)),
                incentive=GrpcIncentive(incentive, settings.grpc_timeout_s,
                                        CallSigner(signer, settings.incentive_identity)),
                events=KafkaEvents(producer, topic, settings.publish_timeout_s),
                clock_ms=now_ms,
                analytics=GrpcAnalytics(analytics, settings.analytics_timeout_s,
                                        CallSigner(signer, settings.analytics_identity)),
                social=GrpcSocial(social, settings.grpc_timeout_s,
                                  CallSigner(signer, settings.social_identity)),
                notifications=hub,
                topics=GrpcTopics(content, settings.grpc_timeout_s,
                                  CallSigner(signer, settings.content_identity)),
                interactions=GrpcInteractions(content, settings.grpc_timeout_s,
                                              CallSigner(signer, settings.content_identity)),
                lifecycle=GrpcPostLifecycle(content, settings.grpc_timeout_s,
                                            CallSigner(signer, settings.content_identity)),
                drafts=GrpcDrafts(content, settings.grpc_timeout_s,
                                  CallSigner(signer, settings.content_identity)),
                reports=GrpcReports(content, settings.grpc_timeout_s,
                                    CallSigner(signer, settings.content_identity)),
                estimates=estimate_hub,
                groups=GrpcGroups(groups, settings.grpc_timeout_s,
                                  CallSigner(signer, settings.groups_identity)),
                group_hub=group_hub,
            )
    finally:
        await group_hub.stop()
        await estimate_hub.stop()
        await hub.stop()
        await producer.stop()
