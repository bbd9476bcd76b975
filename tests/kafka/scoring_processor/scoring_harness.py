"""Run the scoring processor as a real subprocess and poll it to a deadline."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planetkit.service_auth_client import SigningInterceptor
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import INCENTIVE

REPO = Path(__file__).resolve().parents[3]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ProcessorProcess:
    """Starts, kills and restarts `python -m services.incentive` (or ``command``)."""

    def __init__(self, bootstrap: str, suffix: str, workdir: Path,
                 command: tuple[str, ...] = ("-m", "services.incentive")) -> None:
        self.command = command
        self.grpc_port = free_port()
        self.health_port = free_port()
        self.data_dir = workdir / "state"
        self.log_path = workdir / "processor.log"
        # The processor trusts these keys; the tests call it as the gateway does.
        self.service_auth = DevServiceAuth.create(workdir / "service-auth")
        self.env = {
            **self.service_auth.env(INCENTIVE),
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "PLANET_TOPIC_SUFFIX": suffix,
            "PLANET_INCENTIVE_GRPC_HOST": "127.0.0.1",
            "PLANET_INCENTIVE_GRPC_PORT": str(self.grpc_port),
            "PLANET_INCENTIVE_WEB_HOST": "127.0.0.1",
            "PLANET_INCENTIVE_WEB_PORT": str(free_port()),
            "PLANET_INCENTIVE_HEALTH_PORT": str(self.health_port),
            "PLANET_INCENTIVE_DATA_DIR": str(self.data_dir),
            "PLANET_INCENTIVE_SESSION_TIMEOUT_S": "6",
            "PLANET_INCENTIVE_LOG_LEVEL": "info",
        }
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def signing(self) -> SigningInterceptor:
        """Signs calls as the gateway for an operator (who may see every creator)."""
        return self.service_auth.interceptor(INCENTIVE, "olga", ["operator"])

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, *self.command],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill9()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    async def wait_serving(self, timeout_s: float = 60) -> None:
        """Until the gRPC health check answers SERVING."""
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)

            async def probe() -> bool:
                assert self.proc is not None and self.proc.poll() is None, self.log_tail()
                try:
                    r = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                except grpc.aio.AioRpcError:
                    return False
                return bool(r.status == health_pb2.HealthCheckResponse.SERVING)

            await poll_until(probe, lambda ok: ok, timeout_s, "processor gRPC never SERVING")


async def poll_until(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout_s: float, what: str
) -> T:
    """Call ``fetch`` until ``done`` holds; fail with the last value after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}; last value: {value!r}")
        await asyncio.sleep(0.2)
