"""The real groups service (and the real social it asks about creators) on loopback ports,
against the real broker, with calls signed as the gateway for an end user."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import grpc

from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from planet.groups.v1 import groups_service_pb2_grpc as rpc_grpc
from planetkit.kafka.admin import ensure_topics
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import GATEWAY, GROUPS
from planetkit.settings import KafkaSettings, TopicSettings
from planetkit.topics import GROUP_EVENTS, GROUP_MEMBER_INDEX, with_suffix
from services.groups.adapters.grpc_server import REFUSAL_METADATA
from services.groups.bootstrap import RunningGroups, start
from services.groups.settings import GroupsSettings

T = TypeVar("T")


async def ensure_groups_topics(bootstrap: str, suffix: str) -> None:
    """The two topics groups writes, created as the topics tool would."""
    await ensure_topics(bootstrap, [with_suffix(t, suffix)
                                    for t in (GROUP_EVENTS, GROUP_MEMBER_INDEX)])


def groups_settings(bootstrap: str, suffix: str, auth: DevServiceAuth, data_dir: Path | None,
                    social_port: int) -> GroupsSettings:
    """Groups on a free port over this test's topics, asking this test's social."""
    return GroupsSettings(
        grpc_port=0, shutdown_grace_s=0, data_dir=data_dir, auth=auth.settings(GROUPS),
        social_addr=f"127.0.0.1:{social_port}",
        kafka=KafkaSettings(bootstrap_servers=bootstrap),
        topics=TopicSettings(topic_suffix=suffix))


async def start_groups(bootstrap: str, suffix: str, auth: DevServiceAuth,
                       data_dir: Path | None, social_port: int) -> RunningGroups:
    """Groups in this process, once SERVING."""
    await ensure_groups_topics(bootstrap, suffix)
    return await start(groups_settings(bootstrap, suffix, auth, data_dir, social_port))


def refusal_of(exc: grpc.aio.AioRpcError) -> rpc.Refusal:
    """The Refusal a refused call carries in its trailing metadata."""
    for item in exc.trailing_metadata() or ():
        key, value = cast(tuple[str, bytes | str], item)  # (key, value) pairs at run time
        if key == REFUSAL_METADATA:
            return rpc.Refusal.FromString(value if isinstance(value, bytes) else value.encode())
    raise AssertionError(f"no refusal in {exc.code()} {exc.details()}")


class Client:
    """GroupsService calls made by the gateway for one user (operator by role)."""

    def __init__(self, channel: grpc.aio.Channel, auth: DevServiceAuth, user: str,
                 operator: bool = False) -> None:
        self.stub = rpc_grpc.GroupsServiceStub(channel)
        self.auth = auth
        self.user = user
        self.roles = ["operator"] if operator else []

    def md(self) -> tuple[tuple[str, str]]:
        """Fresh signed metadata (minted per call)."""
        return self.auth.metadata(GROUPS, self.user, self.roles, as_=GATEWAY)

    async def call(self, method: str, **fields: Any) -> Any:
        """``method`` with ``actor_id`` = this user; UNAVAILABLE (restoring) is retried."""
        stub_method = getattr(self.stub, method)
        request = _REQUESTS[method](actor_id=self.user, **fields)
        deadline = time.monotonic() + 30
        while True:
            try:
                return await stub_method(request, metadata=self.md(), timeout=15)
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.1)

    async def refused(self, method: str, **fields: Any) -> rpc.Refusal:
        """The Refusal ``method`` answers (it must be refused)."""
        try:
            await self.call(method, **fields)
        except grpc.aio.AioRpcError as exc:
            return refusal_of(exc)
        raise AssertionError(f"{method} was not refused")


def _requests() -> dict[str, Any]:
    service = rpc.DESCRIPTOR.services_by_name["GroupsService"]
    return {m.name: getattr(rpc, m.input_type.name) for m in service.methods}


_REQUESTS = _requests()


def profile(name: str, private: bool = False) -> ev.GroupProfile:
    """A group's profile."""
    return ev.GroupProfile(
        name=name, description="a test group", topics=["btc"],
        visibility=ev.GROUP_VISIBILITY_PRIVATE if private else ev.GROUP_VISIBILITY_PUBLIC,
        join_mode=ev.JOIN_MODE_INVITE_ONLY if private else ev.JOIN_MODE_FREE,
        member_limit=1000)


async def eventually(check: Callable[[], Awaitable[T]], timeout_s: float = 20) -> T:
    """``check()`` once it stops raising AssertionError."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.1)


def dump(data_dir: Path) -> dict[bytes, bytes]:
    """Every key and value of a stopped service's stores (its partitions, offsets included)."""
    from planetkit.topics import GROUP_EVENTS as EVENTS_TOPIC
    from services.groups.adapters.store import Stores
    stores = Stores(data_dir, EVENTS_TOPIC.partitions)
    try:
        out: dict[bytes, bytes] = {}
        for store in stores.all():
            for key, value in store.scan(b"", b"", 10_000_000):
                out[bytes([store.partition]) + key] = value
        return out
    finally:
        stores.close()
