"""The composition root: builds the Faust app, its topics, tables, agents and the gRPC service."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import faust

from planetkit.clock import now_ms
from planetkit.service_auth_server import load_verifier
from planetkit.settings import KafkaSettings
from planetkit.topics import POSTS
from services.incentive.api.read_model import TableReadModel
from services.incentive.api.server import IncentiveGrpcServer
from services.incentive.api.servicer import IncentiveServicer
from services.incentive.processor import faust_patches
from services.incentive.processor.agents import register_all
from services.incentive.processor.dead_letters import DeadLetters
from services.incentive.processor.grpc_service import GrpcService
from services.incentive.processor.settings import ProcessorSettings
from services.incentive.processor.tables import ProcessorTables, declare_tables
from services.incentive.processor.topics import ProcessorTopics, declare_topics


@dataclass(frozen=True)
class Processor:
    """The wired processor: the Faust app plus what a worker runs beside it."""

    app: Any
    topics: ProcessorTopics
    tables: ProcessorTables
    grpc: GrpcService


def create_processor(
    settings: ProcessorSettings, kafka: KafkaSettings, topic_suffix: str
) -> Processor:
    """Build a scoring processor for one topic suffix (no module-level app)."""
    # First: a service that cannot authenticate its callers must not start at all.
    verifier = load_verifier(settings.identity, settings.auth)
    faust_patches.apply()
    app_id = settings.full_app_id(topic_suffix)
    datadir = settings.data_dir / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
    app = faust.App(
        app_id,
        broker=[f"kafka://{b.strip()}" for b in kafka.bootstrap_servers.split(",")],
        processing_guarantee="exactly_once",
        store=settings.store,
        datadir=str(datadir),
        web_port=settings.web_port,
        web_bind=settings.web_host,
        topic_partitions=POSTS.partitions,
        topic_replication_factor=1,
        topic_disable_leader=True,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 3),
    )
    topics = declare_topics(app, topic_suffix)
    tables = declare_tables(app)
    register_all(app, topics, tables, DeadLetters(topics.dead_letters))

    read_model = TableReadModel(
        creator_weeks=tables.creator_weeks,
        posts=tables.posts,
        fees=tables.fees,
        kyc=tables.kyc,
        posts_partitions=POSTS.partitions,
    )
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    grpc = GrpcService(lambda: IncentiveGrpcServer(
        IncentiveServicer(read_model, now_ms), address, verifier))
    return Processor(app, topics, tables, grpc)


def run_worker(processor: Processor, loop: asyncio.AbstractEventLoop, log_level: str) -> None:
    """Run the Faust worker (and the gRPC service) on ``loop`` until it is stopped."""
    worker = faust.Worker(processor.app, processor.grpc, loop=loop, loglevel=log_level)
    worker.execute_from_commandline()
