"""The incentive service as a real subprocess on one test's topics, and a gRPC client that
calls it as the gateway does, for a given end user (assertions minted at each call)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.incentive.v1.incentive_service_pb2_grpc import IncentiveServiceStub
from planetkit import topics as registry
from planetkit.envelope import decode_envelope, encode, wrap
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import INCENTIVE
from planetkit.topics import with_suffix

REPO = Path(__file__).resolve().parents[3]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class IncentiveProcess:
    """Starts and stops `python -m services.incentive` on the test's topics."""

    def __init__(self, bootstrap: str, suffix: str, workdir: Path) -> None:
        self.grpc_port = free_port()
        self.log_path = workdir / "incentive.log"
        self.service_auth = DevServiceAuth.create(workdir / "service-auth")
        self.env = {
            **os.environ,
            **self.service_auth.env(INCENTIVE),
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PLANET_TOPIC_SUFFIX": suffix,
            "PLANET_INCENTIVE_GRPC_HOST": "127.0.0.1",
            "PLANET_INCENTIVE_GRPC_PORT": str(self.grpc_port),
            "PLANET_INCENTIVE_WEB_HOST": "127.0.0.1",
            "PLANET_INCENTIVE_WEB_PORT": str(free_port()),
            "PLANET_INCENTIVE_HEALTH_PORT": str(free_port()),
            "PLANET_INCENTIVE_DATA_DIR": str(workdir / "state"),
            "PLANET_INCENTIVE_SESSION_TIMEOUT_S": "6",
            "PLANET_INCENTIVE_LOG_LEVEL": "info",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "services.incentive"], cwd=REPO,
                                         env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    async def wait_serving(self, timeout_s: float = 120) -> None:
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)

            async def probe() -> bool:
                assert self.proc is not None and self.proc.poll() is None, self.log_tail()
                try:
                    r = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                except grpc.aio.AioRpcError:
                    return False
                return bool(r.status == health_pb2.HealthCheckResponse.SERVING)

            await poll_until(probe, lambda ok: ok, timeout_s, "incentive never SERVING")


class Api:
    """IncentiveService calls as the gateway makes them, for one end user each."""

    def __init__(self, process: IncentiveProcess, channel: grpc.aio.Channel) -> None:
        self._auth = process.service_auth
        self.stub = IncentiveServiceStub(channel)

    async def call(self, method: str, request: Message, user: str,
                   roles: Iterable[str] = ()) -> Any:
        metadata = self._auth.metadata(INCENTIVE, user, roles)
        # UNAVAILABLE is the service's "retry shortly" (a replica rebalancing when another
        # joins, or catching up): a client retries it, as the gateway's callers do on its 503.
        # Every RPC here is a read or idempotent by its id, so a retry is safe.
        deadline = time.monotonic() + 60
        while True:
            try:
                return await getattr(self.stub, method)(request, metadata=metadata, timeout=60)
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.5)

    async def refused(self, method: str, request: Message, user: str,
                      roles: Iterable[str] = ()) -> tuple[grpc.StatusCode, str]:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await self.call(method, request, user, roles)
        return info.value.code(), str(info.value.details())


class Records:
    """Produces the scoring job's records onto the test's topics, in Kafka transactions (so
    partition ends are transaction markers, as the scoring job leaves them)."""

    def __init__(self, bootstrap: str, suffix: str) -> None:
        self.suffix = suffix
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap,
                                         transactional_id=f"test-{uuid.uuid4()}")
        self.now = int(time.time() * 1000)

    def topic(self, t: registry.Topic) -> str:
        return with_suffix(t, self.suffix).name

    async def send(self, records: list[tuple[registry.Topic, str, Message]]) -> None:
        async with self.producer.transaction():
            for t, key, payload in records:
                env = wrap(payload, event_id=f"ev-{uuid.uuid4()}", source=t.writer,
                           aggregate_id=key, occurred_at_ms=self.now)
                await self.producer.send(self.topic(t), encode(env), key=key.encode())


async def read_all(bootstrap: str, topic: str) -> list[tuple[str, Any]]:
    """Every committed record of ``topic`` now: (envelope type, envelope)."""
    return [(env.type, env) for env in map(decode_envelope, await read_values(bootstrap, topic))]


async def read_values(bootstrap: str, topic: str) -> list[bytes]:
    """Every committed record value of ``topic`` now."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        out: list[bytes] = []
        while True:
            batch = await consumer.getmany(timeout_ms=1000)
            if not batch:
                return out
            for records in batch.values():
                out += [r.value for r in records if r.value is not None]
    finally:
        await consumer.stop()


async def poll_until(fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool],
                     timeout_s: float, what: str) -> T:
    """Call ``fetch`` until ``done`` holds; fail with the last value after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}; last value: {value!r}")
        await asyncio.sleep(0.2)
