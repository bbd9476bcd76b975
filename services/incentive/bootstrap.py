"""Composition root: the ONLY place that builds the incentive service's app, clients and clock.

One deployable: a Faust worker folding the domain events into per creator-week tables, and
the gRPC API answering estimates from those tables, on one event loop (planetkit.runner's).
"""

from __future__ import annotations

import asyncio

import faust

from planetkit.clock import now_ms
from planetkit.kafka.admin import TopicContractError, ensure_topics, require_topics, wait_for_broker
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import INCENTIVE
from planetkit.topics import POSTS, profile_named, with_suffix
from services.incentive.adapters import faust_patches
from services.incentive.adapters.dead_letters import DeadLetters
from services.incentive.adapters.faust_agents import register
from services.incentive.adapters.faust_readiness import TableReadiness
from services.incentive.adapters.faust_tables import (
    ProcessorTables,
    changelog_topics,
    declare_tables,
)
from services.incentive.adapters.faust_topics import (
    SOURCES,
    ProcessorTopics,
    declare_topics,
    registry_topics,
)
from services.incentive.adapters.grpc_server import IncentiveGrpcServer
from services.incentive.adapters.grpc_servicer import IncentiveServicer
from services.incentive.adapters.worker import EmbeddedWorker, IncentiveWorker
from services.incentive.domain.estimate.read_model import TableReadModel
from services.incentive.handlers import on_deltas, on_fee, on_kyc, on_post
from services.incentive.settings import IncentiveSettings

# The service's one name: health, logs, envelopes, dead letters and the chart all use it.
NAME = INCENTIVE


def create_app(settings: IncentiveSettings) -> faust.App:
    """The Faust app (no module-level app): exactly-once, raw codecs, tables per partition."""
    faust_patches.apply()
    app_id = settings.full_app_id()
    datadir = settings.data_dir / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    return faust.App(
        app_id,
        broker=[f"kafka://{b.strip()}" for b in settings.kafka.bootstrap_servers.split(",")],
        processing_guarantee="exactly_once",
        store=settings.store,
        datadir=str(datadir),
        web_port=settings.web_port,
        web_bind=settings.web_host,
        topic_partitions=POSTS.partitions,
        # Faust's own topics get as many copies as the registered ones (dev 1, production 3).
        topic_replication_factor=profile_named(settings.topics.topic_profile).replication_factor,
        topic_disable_leader=True,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
    )


def register_agents(
    app: faust.App, topics: ProcessorTopics, tables: ProcessorTables, dead_letters: DeadLetters,
    quote_asset: str,
) -> None:
    """The agents: which handler folds which topic into which table."""
    # Count PostPublished per creator and ISO week.
    register(app, topics.posts, "count-posts",
             lambda m: on_post(m.value, m.partition, tables.posts), dead_letters)
    # Sum TradeFeeCharged quote values per consumer and ISO week, once per fee id.
    register(app, topics.trade_fees, "sum-fees",
             lambda m: on_fee(m.value, tables.fees, quote_asset), dead_letters)
    # Remember KYC-verified users.
    register(app, topics.kyc, "mark-verified",
             lambda m: on_kyc(m.value, tables.kyc), dead_letters)
    # Apply engagement-delta records, one table write per (creator, week) per record.
    register(app, topics.engagement_deltas, "apply-engagement-deltas",
             lambda m: on_deltas(m.value, m.partition, tables.creator_weeks,
                                 tables.applied_deltas),
             dead_letters)


async def build(settings: IncentiveSettings) -> IncentiveWorker:
    """Check the caller keys and the topics, then wire the worker and the API (not started)."""
    # First: a service that cannot authenticate its callers must not start at all.
    verifier = load_verifier(settings.identity, settings.auth)
    bootstrap = settings.kafka.bootstrap_servers
    suffix = settings.topics.topic_suffix
    await wait_for_broker(bootstrap)
    # Registered topics are the topics tool's to create; a missing one stops the start.
    try:
        await require_topics(bootstrap, registry_topics(suffix))
    except TopicContractError as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    # The changelogs are internal to this service, so it creates them, before the worker
    # starts: left to Faust, an agent can see "0 partitions" on a fresh broker and crash
    # for good (faust_tables.changelog_topics).
    await ensure_topics(
        bootstrap, changelog_topics(settings.full_app_id()),
        profile=profile_named(settings.topics.topic_profile),
    )
    app = create_app(settings)
    topics = declare_topics(app, suffix)
    tables = declare_tables(app)
    register_agents(app, topics, tables, DeadLetters(topics.dead_letters, now_ms),
                    settings.quote_asset)
    ready = TableReadiness(
        app, {with_suffix(t, suffix).name: t.partitions for t in SOURCES}
    )
    read_model = TableReadModel(
        creator_weeks=tables.creator_weeks,
        posts=tables.posts,
        fees=tables.fees,
        kyc=tables.kyc,
        posts_partitions=POSTS.partitions,
    )
    grpc_server = IncentiveGrpcServer(
        IncentiveServicer(read_model, now_ms, ready=ready),
        f"{settings.grpc_host}:{settings.grpc_port}",
        verifier,
    )
    worker = EmbeddedWorker(app, loop=asyncio.get_running_loop())
    return IncentiveWorker(
        worker, grpc_server, ready,
        poll_s=settings.readiness_poll_s,
        # In-flight estimates finish within a slice of the grace; the worker gets the rest.
        grpc_grace_s=min(2.0, settings.shutdown_grace_s / 4),
    )
