"""The shared grpc.health.v1: a port says NOT_SERVING, for the server and its service, until
its service says it is ready (grpc_health's own servicer starts the server at SERVING)."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from planetkit.grpc_health import Health

NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVING = health_pb2.HealthCheckResponse.SERVING


async def _statuses(port: int, names: tuple[str, ...]) -> list[int]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        return [(await stub.Check(health_pb2.HealthCheckRequest(service=n), timeout=5)).status
                for n in names]


async def test_a_new_port_is_not_serving_until_told_then_follows_its_service() -> None:
    health = Health("planet.test.v1.Thing")
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        names = ("", "planet.test.v1.Thing")
        assert await _statuses(port, names) == [NOT_SERVING, NOT_SERVING]
        await health.set_serving(True)
        assert await _statuses(port, names) == [SERVING, SERVING]
        await health.set_serving(False)
        assert await _statuses(port, names) == [NOT_SERVING, NOT_SERVING]
    finally:
        await server.stop(None)
