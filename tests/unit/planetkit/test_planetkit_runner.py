"""The shared runner over a real gRPC health server: readiness, stop, grace, exit codes."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planetkit.runner import LIVENESS, Lifecycle, RunSettings, serve
from planetkit.structured_logs import JsonFormatter, KeyValueFormatter

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SETTINGS = RunSettings(health_port=0, shutdown_grace_s=0.5)


class Gated:
    """A service that becomes ready, and finishes after a stop, only when told."""

    def __init__(self, *, honour_stop: bool = True, fail: bool = False) -> None:
        self.may_be_ready = asyncio.Event()
        self.may_finish = asyncio.Event()
        self.honour_stop = honour_stop
        self.fail = fail

    async def run(self, lifecycle: Lifecycle) -> None:
        await self.may_be_ready.wait()
        if self.fail:
            raise RuntimeError("broker gone")
        await lifecycle.ready()
        await lifecycle.stopping.wait()
        if self.honour_stop:
            await self.may_finish.wait()
        else:
            await asyncio.Event().wait()  # never returns: only cancellation ends it


async def status(port: int, service: str = "") -> int:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=2
        )
    return int(reply.status)


async def until(predicate, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met before the deadline")


async def start(service: Gated) -> tuple[asyncio.Task[int], Lifecycle]:
    box: list[Lifecycle] = []

    async def build() -> Gated:
        return service

    task = asyncio.create_task(serve("svc", build, SETTINGS, lifecycle_out=box.append))

    async def bound() -> bool:
        return bool(box)

    await until(bound)
    return task, box[0]


async def test_not_serving_until_ready_serving_then_not_serving_while_stopping() -> None:
    service = Gated()
    task, lifecycle = await start(service)
    port = lifecycle.health_port
    assert await status(port) == NOT_SERVING
    assert await status(port, "svc") == NOT_SERVING
    assert await status(port, LIVENESS) == SERVING  # alive while not ready: no restart
    service.may_be_ready.set()

    async def serving() -> bool:
        return await status(port) == SERVING

    await until(serving)
    lifecycle.request_stop()  # what SIGTERM does

    async def draining() -> bool:
        return await status(port) == NOT_SERVING

    await until(draining)
    assert not task.done(), "the runner waits for the work in hand"
    service.may_finish.set()
    assert await task == 0


async def test_a_service_that_ignores_stop_is_cancelled_after_the_grace_period() -> None:
    service = Gated(honour_stop=False)
    service.may_be_ready.set()
    task, lifecycle = await start(service)
    lifecycle.request_stop()
    assert await asyncio.wait_for(task, 10) == 1


async def test_a_failing_service_exits_1_and_never_reports_serving() -> None:
    service = Gated(fail=True)
    task, lifecycle = await start(service)
    assert await status(lifecycle.health_port) == NOT_SERVING
    service.may_be_ready.set()
    assert await asyncio.wait_for(task, 10) == 1


def test_log_lines_are_one_line_with_extra_fields() -> None:
    record = logging.LogRecord("planet.x", logging.INFO, __file__, 1, "restored %d", (3,), None)
    record.partitions = [0, 1]
    line = KeyValueFormatter().format(record)
    assert "\n" not in line and 'msg="restored 3"' in line and "partitions=[0,1]" in line
    parsed = json.loads(JsonFormatter().format(record))
    assert parsed["msg"] == "restored 3" and parsed["partitions"] == [0, 1]
    assert parsed["level"] == "info" and parsed["logger"] == "planet.x"
