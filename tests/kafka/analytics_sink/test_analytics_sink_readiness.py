"""Ready means ready: the analytics service reports SERVING only with its store open and
migrated and its sink's consumer assigned, NOT_SERVING while stopping, and a sink that
cannot own its store never reports SERVING at all."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from analytics_sink_process import SinkProcess
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from planetkit.grpc_health import Health
from planetkit.runner import LIVENESS, Lifecycle
from planetkit.service_auth_assertion import ServiceAuthSettings
from planetkit.service_auth_dev import DevServiceAuth
from planetkit.settings import KafkaSettings, TopicSettings
from services.analytics.adapters.chdb_store import ChdbStore
from services.analytics.adapters.grpc_server import SERVICE_NAME
from services.analytics.bootstrap import NAME, build
from services.analytics.settings import AnalyticsSettings

pytestmark = pytest.mark.kafka
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class WatchedLifecycle(Lifecycle):
    """A Lifecycle that records, at every change of readiness, what held at that moment."""

    def __init__(self, conditions: object) -> None:
        super().__init__(Health(NAME), 0)
        self.conditions = conditions
        self.changes: list[tuple[bool, object]] = []

    async def ready(self) -> None:
        self.changes.append((True, self._now()))
        await super().ready()

    async def not_ready(self) -> None:
        self.changes.append((False, self._now()))
        await super().not_ready()

    def _now(self) -> object:
        assert callable(self.conditions)
        return self.conditions()


async def _grpc_status(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2)
    return int(reply.status)


async def test_serving_only_with_the_store_migrated_and_the_consumer_assigned(
    tmp_path: Path, kafka_bootstrap: str, registered_topics: str
) -> None:
    auth = DevServiceAuth.create(tmp_path / "keys")
    service = await build(AnalyticsSettings(
        grpc_port=0, chdb_path=str(tmp_path / "chdb"), group_id=f"analytics-{registered_topics}",
        shutdown_grace_s=10, auth=ServiceAuthSettings(trust_file=auth.keyring.trust_file),
        kafka=KafkaSettings(bootstrap_servers=kafka_bootstrap),
        topics=TopicSettings(topic_suffix=registered_topics),
        pseudonym_key=SecretStr("readiness-test-pseudonym-key-of-32-bytes")))
    lifecycle = WatchedLifecycle(
        lambda: (service.store_open, service.consumer_assigned))
    task = asyncio.create_task(service.run(lifecycle))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while not lifecycle.is_ready:
        assert not task.done(), task.exception()
        assert loop.time() < deadline, "analytics did not become ready"
        await asyncio.sleep(0.02)
    # The moment it said SERVING, the store was open and the group had assigned it.
    assert lifecycle.changes == [(True, (True, True))]
    # The analytics gRPC port says the same (devstack and older probes ask it), under both
    # names, and answers liveness.
    for name in ("", SERVICE_NAME, LIVENESS):
        assert await _grpc_status(service.port, name) == SERVING, name

    lifecycle.request_stop()
    await asyncio.wait_for(task, 30)
    assert task.exception() is None
    # NOT_SERVING first, while the store was still open (queries were finishing).
    assert lifecycle.changes[1] == (False, (True, True))
    assert not lifecycle.is_ready and not service.store_open


def test_the_runners_health_port_serves_readiness_and_liveness(sink: SinkProcess) -> None:
    assert sink.health("") == SERVING
    assert sink.health("analytics") == SERVING
    assert sink.health(LIVENESS) == SERVING


def test_a_sink_that_cannot_own_its_store_never_serves_and_exits_1(
    tmp_path: Path, kafka_bootstrap: str, registered_topics: str
) -> None:
    # This test process holds the embedded engine's directory lock, as a second sink would.
    with ChdbStore(str(tmp_path / "chdb")):
        process = SinkProcess(kafka_bootstrap, registered_topics, tmp_path / "chdb",
                              tmp_path / "sink.log", group_id=f"analytics-{registered_topics}",
                              auth=DevServiceAuth.create(tmp_path / "service-auth"))
        with pytest.raises(AssertionError, match="sink exited with 1"):
            process.start(timeout_s=60)
    assert "locked by another process" in process.log()
    assert "level=info logger=services.analytics.handlers msg=serving" not in process.log()
