"""The gRPC server: IncentiveService plus the standard health service."""

from __future__ import annotations

from grpc_health.v1 import health_pb2_grpc

from planet.incentive.v1 import incentive_service_pb2, incentive_service_pb2_grpc
from planetkit.grpc_health import Health
from planetkit.service_auth_assertion import AssertionVerifier
from planetkit.service_auth_server import MethodPolicy, authenticating_server, method_name
from planetkit.service_identities import GATEWAY
from services.incentive.adapters.grpc_servicer import IncentiveServicer

SERVICE_NAME = incentive_service_pb2.DESCRIPTOR.services_by_name["IncentiveService"].full_name
# Which caller services may call which method (anything not named here is refused).
# Every RPC is the gateway's to call; the end user's rights are checked in the servicer.
POLICY: MethodPolicy = {
    method_name(SERVICE_NAME, m.name): frozenset({GATEWAY})
    for m in incentive_service_pb2.DESCRIPTOR.services_by_name["IncentiveService"].methods
}


class IncentiveGrpcServer:
    """A grpc.aio server on the caller's event loop, NOT_SERVING until told it is ready.

    Its health answers what the service's readiness says (set by whoever watches the
    tables), so a caller probing this port never sees SERVING while the tables recover.
    Every call but health must carry an assertion ``verifier`` accepts.
    """

    def __init__(
        self, servicer: IncentiveServicer, address: str, verifier: AssertionVerifier
    ) -> None:
        self._server = authenticating_server(verifier, POLICY)
        self._health = Health(SERVICE_NAME)
        incentive_service_pb2_grpc.add_IncentiveServiceServicer_to_server(servicer, self._server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health.servicer, self._server)
        self.port = self._server.add_insecure_port(address)

    async def start(self) -> None:
        """Start answering; health says NOT_SERVING until ``set_serving(True)``."""
        await self._health.set_serving(False)
        await self._server.start()

    async def set_serving(self, serving: bool) -> None:
        """Report SERVING or NOT_SERVING for the server and IncentiveService."""
        await self._health.set_serving(serving)

    async def stop(self, grace_s: float = 2.0) -> None:
        """Report NOT_SERVING, then let in-flight calls finish within ``grace_s``."""
        await self._health.shutting_down()
        await self._server.stop(grace_s)
