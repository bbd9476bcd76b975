"""The gRPC server: IncentiveService plus the standard health service."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2_grpc

from planet.incentive.v1 import incentive_service_pb2, incentive_service_pb2_grpc
from planetkit.grpc_health import Health
from services.incentive.api.servicer import IncentiveServicer

SERVICE_NAME = incentive_service_pb2.DESCRIPTOR.services_by_name["IncentiveService"].full_name


class IncentiveGrpcServer:
    """A grpc.aio server on the caller's event loop; health says SERVING while it runs."""

    def __init__(self, servicer: IncentiveServicer, address: str) -> None:
        self._server = grpc.aio.server()
        self._health = Health(SERVICE_NAME)
        incentive_service_pb2_grpc.add_IncentiveServiceServicer_to_server(servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health.servicer, self._server)
        self.port = self._server.add_insecure_port(address)

    async def start(self) -> None:
        """Start serving and report SERVING for the server and IncentiveService."""
        await self._server.start()
        await self._health.set_serving(True)

    async def stop(self, grace_s: float = 2.0) -> None:
        """Report NOT_SERVING, then let in-flight calls finish within ``grace_s``."""
        await self._health.shutting_down()
        await self._server.stop(grace_s)
