"""Composition root: the ONLY place that builds the incentive service's app, clients and clock.

One deployable, on one event loop (planetkit.runner's):
- the intake (Faust agents, services/incentive/adapters/faust_intake.py): source events →
  interaction facts and item/user statuses;
- the read side (Faust agents + GlobalTables, adapters/faust_readside.py): the pool's output
  topics → tables any replica answers from;
- the gRPC API (IncentiveService) over those tables, writing operator decisions to
  INCENTIVE_OPERATIONS.
"""

from __future__ import annotations

import asyncio

import faust

from planetkit.clock import now_ms
from planetkit.kafka.admin import TopicContractError, ensure_topics, require_topics, wait_for_broker
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import INCENTIVE
from planetkit.topics import POSTS, profile_named, with_suffix
from services.incentive.adapters import faust_intake, faust_patches
from services.incentive.adapters.dead_letters import DeadLetters
from services.incentive.adapters.faust_readiness import SourcesCaughtUp, TableReadiness
from services.incentive.adapters.faust_readside import (
    READSIDE_SOURCES,
    declare_readside_tables,
    readside_changelogs,
    register_readside,
)
from services.incentive.adapters.grpc_server import IncentiveGrpcServer
from services.incentive.adapters.grpc_servicer import IncentiveServicer
from services.incentive.adapters.pool_operations import PoolOperations
from services.incentive.adapters.shadow_runner import ShadowRunner
from services.incentive.adapters.worker import EmbeddedWorker, IncentiveWorker
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


async def build(settings: IncentiveSettings) -> IncentiveWorker:
    """Check the caller keys and the topics, then wire the worker and the API (not started)."""
    # First: a service that cannot authenticate its callers must not start at all.
    verifier = load_verifier(settings.identity, settings.auth)
    bootstrap = settings.kafka.bootstrap_servers
    suffix = settings.topics.topic_suffix
    app_id = settings.full_app_id()
    await wait_for_broker(bootstrap)
    # Registered topics are the topics tool's to create; a missing one stops the start.
    readside_topics = [with_suffix(t, suffix) for t in READSIDE_SOURCES]
    try:
        await require_topics(bootstrap, [*faust_intake.registry_topics(suffix), *readside_topics])
    except TopicContractError as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    # The changelogs are internal to this service, so it creates them, before the worker
    # starts: left to Faust, an agent can see "0 partitions" on a fresh broker and crash
    # for good.
    await ensure_topics(
        bootstrap, [*faust_intake.changelog_topics(app_id), *readside_changelogs(app_id)],
        profile=profile_named(settings.topics.topic_profile),
    )
    app = create_app(settings)
    intake = faust_intake.declare_intake(app, suffix)
    dead_letters = DeadLetters(intake.dead_letters, now_ms)
    faust_intake.register_intake(app, intake, dead_letters, settings.quote_asset)
    tables = declare_readside_tables(app)
    register_readside(app, suffix, tables, dead_letters)
    # The Faust group id is the app id: the read side is caught up once that group has
    # processed what its sources held at start.
    caught_up = SourcesCaughtUp(bootstrap, app_id, [t.name for t in readside_topics])
    ready = TableReadiness(app, caught_up)
    operations = PoolOperations(bootstrap, suffix)
    grpc_server = IncentiveGrpcServer(
        IncentiveServicer(
            creators_table=tables.creators, weeks_table=tables.weeks, operations=operations,
            shadow=ShadowRunner(bootstrap, suffix, settings.quote_asset),
            quote_asset=settings.quote_asset, now_ms=now_ms, ready=ready,
        ),
        f"{settings.grpc_host}:{settings.grpc_port}",
        verifier,
    )
    worker = EmbeddedWorker(app, loop=asyncio.get_running_loop())
    return IncentiveWorker(
        worker, grpc_server, ready,
        poll_s=settings.readiness_poll_s,
        # In-flight calls finish within a slice of the grace; the worker gets the rest.
        grpc_grace_s=min(2.0, settings.shutdown_grace_s / 4),
        clients=[operations],
        background=[caught_up.run],
    )
