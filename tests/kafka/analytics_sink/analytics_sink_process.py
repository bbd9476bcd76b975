"""The analytics sink as a real subprocess, and polling helpers for tests that use it."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planet.analytics.v1 import analytics_service_pb2 as rpc
from planet.analytics.v1 import analytics_service_pb2_grpc as rpc_grpc
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.service_identities import ANALYTICS

REPO_ROOT = Path(__file__).resolve().parents[3]
T = TypeVar("T")


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def poll(check: Callable[[], T | None], timeout_s: float, what: str) -> T:
    """The first non-None answer of ``check`` within the deadline; AssertionError otherwise."""
    deadline = time.monotonic() + timeout_s
    last: object = None
    while time.monotonic() < deadline:
        try:
            answer = check()
        except grpc.RpcError as exc:
            answer, last = None, exc
        if answer is not None:
            return answer
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last error: {last})")


@dataclass
class SinkProcess:
    """``python -m services.analytics`` on its own topics, group, data directory, port, service
    keys (callers sign as the gateway) and pseudonym key."""

    bootstrap: str
    suffix: str
    chdb_path: Path
    log_path: Path
    group_id: str
    auth: DevServiceAuth
    port: int = field(default_factory=free_port)
    # The runner's health server (readiness and "liveness"); the gRPC port answers the same.
    health_port: int = field(default_factory=free_port)
    pseudonym_key: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60) -> None:
        """Spawn the sink and wait until its health check says SERVING."""
        env = {k: v for k, v in os.environ.items() if k != "CLICKHOUSE_URL"}
        env.update({
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "PLANET_TOPIC_SUFFIX": self.suffix,
            "PLANET_ANALYTICS_CHDB_PATH": str(self.chdb_path),
            "PLANET_ANALYTICS_GRPC_HOST": "127.0.0.1",
            "PLANET_ANALYTICS_GRPC_PORT": str(self.port),
            "PLANET_ANALYTICS_GROUP_ID": self.group_id,
            "PLANET_ANALYTICS_HEALTH_PORT": str(self.health_port),
            # Within the 20 s stop() waits; a clean stop returns well before it.
            "PLANET_ANALYTICS_SHUTDOWN_GRACE_S": "10",
            "PLANET_ANALYTICS_PSEUDONYM_KEY": self.pseudonym_key,
            **self.auth.env(ANALYTICS),
        })
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.analytics"], cwd=REPO_ROOT, env=env,
                stdout=log, stderr=subprocess.STDOUT,
            )

        def serving() -> bool | None:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"sink exited with {self.process.returncode}:\n{self.log()}")
            with grpc.insecure_channel(self.address) as channel:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=2)
            return True if reply.status == health_pb2.HealthCheckResponse.SERVING else None

        try:
            poll(serving, timeout_s, "the sink to report SERVING")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.log()}") from None

    @property
    def address(self) -> str:
        """host:port of its gRPC server."""
        return f"127.0.0.1:{self.port}"

    def health(self, service: str = "", port: int | None = None) -> int:
        """The grpc.health.v1 status of ``service`` on the runner's health port (or ``port``)."""
        with grpc.insecure_channel(f"127.0.0.1:{port or self.health_port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2)
        return int(reply.status)

    def query(self, sql: str, roles: Iterable[str] = ("analyst",)) -> rpc.QueryResponse:
        """One Query call, signed by the gateway for a user with ``roles``."""
        metadata = self.auth.metadata(ANALYTICS, "test-user", roles)
        with grpc.insecure_channel(self.address) as channel:
            response: rpc.QueryResponse = rpc_grpc.AnalyticsServiceStub(channel).Query(
                rpc.QueryRequest(sql=sql), timeout=30, metadata=metadata)
            return response

    def kill9(self) -> None:
        """SIGKILL: no shutdown code runs, like a crashed pod."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code (None if it had to be killed)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None

    def log(self) -> str:
        """The tail of its output, for failure messages."""
        return self.log_path.read_text(errors="replace")[-4000:]
