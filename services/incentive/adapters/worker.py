"""A mode.Service that runs the incentive gRPC server on the Faust worker's event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mode

from services.incentive.api.server import IncentiveGrpcServer


class GrpcService(mode.Service):
    """Starts the gRPC server with the worker and stops it gracefully with the worker."""

    def __init__(self, build: Callable[[], IncentiveGrpcServer], **kwargs: Any) -> None:
        self._build = build
        self._server: IncentiveGrpcServer | None = None
        super().__init__(**kwargs)

    async def on_start(self) -> None:
        """Build the server here: grpc.aio binds to the loop that is running."""
        self._server = self._build()
        await self._server.start()
        self.log.info("incentive gRPC serving on port %s", self._server.port)

    async def on_stop(self) -> None:
        """Drain in-flight calls, then stop."""
        if self._server is not None:
            await self._server.stop()
