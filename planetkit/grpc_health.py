"""The standard grpc.health.v1 service and abort helper every gRPC service shares."""

from __future__ import annotations

from typing import NoReturn

import grpc
from grpc_health.v1 import health_pb2

# The asyncio health servicer: grpc_health's stubs only describe the threaded one.
from grpc_health.v1._async import HealthServicer


class Health:
    """grpc.health.v1 for the server ("") and one named service; NOT_SERVING until told."""

    def __init__(self, service_name: str) -> None:
        self.service_name = service_name
        self.servicer = HealthServicer()
        # grpc_health's servicer answers SERVING for the server ("") from construction: the
        # port would say ready before its service has restored anything (a probe or a client
        # checking "" would send traffic to a replica still reading its changelog). Nothing
        # watches yet, so the table is set directly rather than through the async ``set``.
        self.servicer._server_status = {
            "": health_pb2.HealthCheckResponse.NOT_SERVING,
            service_name: health_pb2.HealthCheckResponse.NOT_SERVING,
        }

    async def set_serving(self, serving: bool) -> None:
        """Report the overall and the named service's status."""
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", self.service_name):
            await self.servicer.set(name, status)

    async def shutting_down(self) -> None:
        """NOT_SERVING for good: callers stop sending before the server stops."""
        await self.servicer.enter_graceful_shutdown()


async def abort(context: grpc.aio.ServicerContext[object, object], code: grpc.StatusCode,
                message: str) -> NoReturn:
    """End the call with ``code`` and ``message``."""
    await context.abort(code, message)
    raise AssertionError("context.abort returned")  # abort always raises
