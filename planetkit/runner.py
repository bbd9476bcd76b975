"""The one way a Planet process runs: logs, health, readiness, signals, graceful stop.

Contract (docs/service-shape.md):

- ``__main__`` loads the service's settings (a subclass of :class:`RunSettings`) and calls
  :func:`run_service` with a builder from ``bootstrap.py``.
- The runner configures structured logs once, then serves grpc.health.v1 on
  ``health_port`` answering NOT_SERVING for the overall service ("") and for the service's
  name, and SERVING for :data:`LIVENESS` (the process and its event loop answer).
- It builds the service and awaits ``service.run(lifecycle)``. The service calls
  ``await lifecycle.ready()`` once it can answer correctly (state restored, partitions
  assigned and positioned); only then do readiness probes pass.
- On SIGTERM/SIGINT the runner reports NOT_SERVING at once (callers and load balancers
  stop sending), sets ``lifecycle.stopping`` and gives ``run`` the grace period to finish
  the work in hand and return; after that it cancels it. The exit code is 0 after a clean
  stop and 1 when ``run`` raised: the supervisor (kubelet, devstack) restarts the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import Field
from pydantic_settings import BaseSettings

from planetkit.grpc_health import Health
from planetkit.structured_logs import configure_logging

log = logging.getLogger(__name__)
# The health service name liveness probes ask for: SERVING while the process answers at
# all, so a service that is restoring (not ready) is not restarted for being slow.
LIVENESS = "liveness"


class RunSettings(BaseSettings):
    """What every service's settings carry for the runner (under the service's env prefix)."""

    # Loopback unless told otherwise: the Helm chart sets 0.0.0.0 inside the pod.
    health_host: str = "127.0.0.1"
    # 0 picks a free port (tests): the bound port is logged and on ``Lifecycle.health_port``.
    health_port: int = Field(default=50060, ge=0, le=65535)
    shutdown_grace_s: float = Field(default=20.0, ge=0)
    log_format: Literal["json", "kv"] = "kv"
    log_level: str = "INFO"


class Lifecycle:
    """What the runner hands a service: how to say "ready", and when to stop."""

    def __init__(self, health: Health, health_port: int) -> None:
        self.health = health
        self.health_port = health_port
        self.stopping = asyncio.Event()
        self.is_ready = False

    async def ready(self) -> None:
        """Report SERVING: call once the service answers correctly, never before."""
        self.is_ready = True
        await self.health.set_serving(True)

    async def not_ready(self) -> None:
        """Report NOT_SERVING again (stopping, or state lost and being rebuilt)."""
        self.is_ready = False
        await self.health.set_serving(False)

    def request_stop(self) -> None:
        """Ask ``run`` to finish the work in hand and return (what SIGTERM does)."""
        self.stopping.set()


class Service(Protocol):
    """A long-running part of a deployable."""

    async def run(self, lifecycle: Lifecycle) -> None:
        """Run until ``lifecycle.stopping`` is set; call ``lifecycle.ready()`` when ready."""


async def serve(
    name: str, build: Callable[[], Awaitable[Service]], settings: RunSettings,
    *, lifecycle_out: Callable[[Lifecycle], None] | None = None,
) -> int:
    """Serve health, build and run the service until it returns or a signal stops it."""
    health = Health(name)
    await health.set_serving(False)
    await health.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
    port = server.add_insecure_port(f"{settings.health_host}:{settings.health_port}")
    await server.start()
    lifecycle = Lifecycle(health, port)
    if lifecycle_out is not None:
        lifecycle_out(lifecycle)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lifecycle.request_stop)
    log.info("health serving", extra={"service": name, "health_port": port})
    try:
        return await _run(name, build, lifecycle, settings.shutdown_grace_s)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await lifecycle.not_ready()
        await server.stop(1.0)


async def _run(
    name: str, build: Callable[[], Awaitable[Service]], lifecycle: Lifecycle, grace_s: float
) -> int:
    async def build_and_run() -> None:
        service = await build()
        await service.run(lifecycle)

    task = asyncio.create_task(build_and_run(), name=f"{name}.run")
    stop = asyncio.create_task(lifecycle.stopping.wait())
    try:
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not task.done():
        # Readiness drops before the work stops, so nothing new is routed here meanwhile.
        await lifecycle.not_ready()
        log.info("stopping", extra={"service": name, "grace_s": grace_s})
        done, _ = await asyncio.wait({task}, timeout=grace_s)
        if not done:
            log.error("grace period over, cancelling", extra={"service": name})
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            return 1
    if task.cancelled():
        return 1
    exc = task.exception()
    if exc is not None:
        log.error("service failed", exc_info=exc, extra={"service": name})
        return 1
    log.info("stopped", extra={"service": name})
    return 0


def run_service(
    name: str, build: Callable[[], Awaitable[Service]], settings: RunSettings
) -> None:
    """The whole of a service's ``__main__``: logs once, then serve until stopped; exits."""
    configure_logging(settings.log_format, settings.log_level)
    raise SystemExit(asyncio.run(serve(name, build, settings)))
