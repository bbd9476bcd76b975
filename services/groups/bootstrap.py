"""Composition root: the ONLY place that builds groups' clients, stores, server and clock."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc
from aiokafka import AIOKafkaConsumer

from planetkit.clock import now_ms
from planetkit.grpc_health import Health
from planetkit.kafka.admin import require_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.runner import Lifecycle
from planetkit.service_auth_assertion import AssertionSigner, load_signer
from planetkit.service_auth_server import load_verifier
from planetkit.service_identities import GROUPS
from planetkit.topics import GROUP_EVENTS, GROUP_MEMBER_INDEX, with_suffix
from services.groups.adapters.creators import GrpcCreatorCheck
from services.groups.adapters.grpc_server import GroupsServicer, make_server, new_health
from services.groups.adapters.kafka_log import KafkaEventLog
from services.groups.adapters.store import Stores
from services.groups.handlers import GroupsHandlers, GroupsService, LoopConfig, Topics
from services.groups.settings import GroupsSettings

NAME = "groups"
log = logging.getLogger(__name__)


async def build(settings: GroupsSettings) -> GroupsService:
    """Check the topics, bind the port, open the stores and wire the service."""
    verifier = load_verifier(settings.identity, settings.auth)
    signer: AssertionSigner | None
    try:
        signer = load_signer(settings.identity, settings.auth)
    except ValueError:
        signer = None  # CreateGroup answers UNAVAILABLE until a key is configured
    bootstrap = settings.kafka.bootstrap_servers
    suffix = settings.topics.topic_suffix
    events = with_suffix(GROUP_EVENTS, suffix)
    index = with_suffix(GROUP_MEMBER_INDEX, suffix)
    if events.partitions != index.partitions:
        raise RuntimeError("the group events and member index must have one partition count")
    await wait_for_broker(bootstrap)
    await require_topics(bootstrap, [events, index])
    temp_dir: Path | None = None
    data_dir = settings.data_dir
    if data_dir is None:
        temp_dir = data_dir = Path(tempfile.mkdtemp(prefix="planet-groups-"))
        log.warning("no PLANET_GROUPS_DATA_DIR: stores are temporary and every start "
                    "rebuilds them from the topics", extra={"data_dir": str(data_dir)})
    stores = Stores(data_dir, events.partitions)
    producer = make_producer(bootstrap, writer=GROUPS, transactional_id=settings.transactional(),
                             linger_ms=0)
    event_log = KafkaEventLog(producer, settings.publish_timeout_s)
    topics = Topics(events.name, index.name, events.partitions)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,  # positions live in the stores, in the same write as the state
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    # Reads nothing: its end offsets include open transactions (handlers.caught_up).
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False, isolation_level="read_uncommitted")
    creators = GrpcCreatorCheck(grpc.aio.insecure_channel(settings.social_addr), signer,
                                settings.social_identity, settings.social_timeout_s)
    service_ref: list[GroupsService] = []

    async def caught_up(partition: int) -> bool | None:
        return await service_ref[0].caught_up(partition)

    handlers = GroupsHandlers(stores, event_log, topics, creators, now_ms, caught_up,
                              max_batch=settings.max_batch)
    health = new_health()
    server = make_server(GroupsServicer(handlers), health, verifier)
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    service = GroupsService(
        LoopConfig(settings.max_records, shutdown_grace_s=settings.shutdown_grace_s),
        topics=topics, server=server, port=port, grpc_health=health, consumer=consumer,
        probe=probe, producer=producer, event_log=event_log, stores=stores, handlers=handlers,
        closers=[creators.close], temp_dir=temp_dir)
    service_ref.append(service)
    return service


@dataclass
class RunningGroups:
    """The service running in this process (tests): its port, service, how to stop it."""

    port: int
    service: GroupsService
    lifecycle: Lifecycle
    task: asyncio.Task[None]

    async def stop(self) -> None:
        """What SIGTERM does."""
        self.lifecycle.request_stop()
        await self.task


async def start(settings: GroupsSettings, ready_timeout_s: float = 60.0) -> RunningGroups:
    """Build and run the service in this process; return once it reports SERVING."""
    service = await build(settings)
    lifecycle = Lifecycle(Health(NAME), 0)
    task = asyncio.create_task(service.run(lifecycle), name="groups.run")
    deadline = asyncio.get_running_loop().time() + ready_timeout_s
    while not lifecycle.is_ready:
        if task.done():
            await task
            raise RuntimeError("groups stopped before it was ready")
        if asyncio.get_running_loop().time() > deadline:
            lifecycle.request_stop()
            await task
            raise TimeoutError(f"groups was not ready within {ready_timeout_s:.0f}s")
        await asyncio.sleep(0.02)
    return RunningGroups(service.port, service, lifecycle, task)
