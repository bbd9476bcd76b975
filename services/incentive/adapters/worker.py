"""The incentive service on planetkit.runner: Faust's worker and the gRPC API on one loop.

Faust owns its worker (``faust.Worker``: agents, tables, recovery, transactions), but not the
process here: the runner does. So the worker is started as a service on the runner's event
loop instead of through ``execute_from_commandline``:

- signals: the runner's. The worker installs none (``install_signal_handlers`` is a no-op);
  on SIGTERM the runner drops readiness, sets ``lifecycle.stopping``, and ``run`` stops the
  gRPC server (in-flight calls finish) and then the worker (offsets committed, transaction
  ended, group left) within the grace period;
- logs: the runner's structured logs. The worker neither reconfigures logging nor redirects
  stdout (``override_logging=False``, ``redirect_stdouts=False``);
- readiness: reported by this loop from the app's state (``TableReadiness``): SERVING on the
  runner's health port and on the API port only while the tables are recovered and have
  caught up with their sources, NOT_SERVING before, during any later rebalance, and while
  stopping;
- failure: a crashed Faust service (the worker marks itself crashed) ends ``run`` with the
  crash reason, so the process exits 1 and its supervisor restarts it, as it did before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

import faust

from planetkit.runner import Lifecycle
from services.incentive.adapters.grpc_server import IncentiveGrpcServer

log = logging.getLogger(__name__)


class EmbeddedWorker(faust.Worker):
    """faust.Worker as a service on a loop someone else runs (planetkit.runner)."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(
            app, override_logging=False, redirect_stdouts=False, daemon=False, quiet=True,
            **kwargs,
        )
        # No terminal spinner: the runner's logs say when the service is ready.
        self.spinner = None

    def install_signal_handlers(self) -> None:
        """None: SIGTERM/SIGINT belong to planetkit.runner, which stops us in order."""


class Startable(Protocol):
    """A client the API needs while it serves (the operations producer)."""

    async def start(self) -> None:
        """Connect."""

    async def stop(self) -> None:
        """Flush and close."""


class WorkerCrashedError(RuntimeError):
    """The Faust worker crashed; the process must exit so it is restarted."""


class IncentiveWorker:
    """Runs the Faust worker and the gRPC API until stopped; reports readiness meanwhile."""

    def __init__(
        self,
        worker: faust.Worker,
        grpc_server: IncentiveGrpcServer,
        ready: Callable[[], bool],
        *,
        poll_s: float,
        grpc_grace_s: float,
        clients: Sequence[Startable] = (),
        background: Sequence[Callable[[], Coroutine[None, None, None]]] = (),
    ) -> None:
        self._worker = worker
        self._clients = clients
        self._background = background
        self._grpc = grpc_server
        self._ready = ready
        self._poll_s = poll_s
        self._grpc_grace_s = grpc_grace_s

    async def run(self, lifecycle: Lifecycle) -> None:
        """Serve until ``lifecycle.stopping``; raise if the worker crashes."""
        for client in self._clients:
            await client.start()
        # Readiness inputs computed beside the worker (the sources' catch-up at start).
        tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(job(), name="incentive.readiness") for job in self._background
        ]
        await self._grpc.start()
        log.info("incentive gRPC listening (NOT_SERVING until the tables are recovered)",
                 extra={"grpc_port": self._grpc.port})
        # worker.start() returns once the app's first table recovery is complete (Faust's
        # App.on_started waits for it); readiness is watched below meanwhile.
        starting = asyncio.create_task(self._worker.start(), name="incentive.faust-start")
        try:
            await self._watch(lifecycle, starting, tasks)
        finally:
            for task in tasks:
                task.cancel()
            await self._stop(lifecycle, starting)
            for client in self._clients:
                await client.stop()

    async def _watch(self, lifecycle: Lifecycle, starting: asyncio.Task[None],
                     tasks: Sequence[asyncio.Task[None]]) -> None:
        serving = False
        while not lifecycle.stopping.is_set():
            failed = next((t for t in tasks if t.done() and not t.cancelled()
                           and t.exception() is not None), None)
            if failed is not None:
                raise WorkerCrashedError(f"{failed.get_name()} failed") from failed.exception()
            crashed = next((s for s in (self._worker, self._worker.app) if s.crashed), None)
            if crashed is not None:
                raise WorkerCrashedError(f"faust crashed: {crashed.crash_reason!r}")
            if starting.done() and starting.exception() is not None:
                raise WorkerCrashedError("faust worker failed to start") from starting.exception()
            ready = self._ready()
            if ready != serving:
                serving = ready
                if ready:
                    await self._grpc.set_serving(True)
                    await lifecycle.ready()
                else:
                    await lifecycle.not_ready()
                    await self._grpc.set_serving(False)
                log.info("incentive readiness changed", extra={"serving": serving})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lifecycle.stopping.wait(), self._poll_s)

    async def _stop(self, lifecycle: Lifecycle, starting: asyncio.Task[None]) -> None:
        # Callers first (NOT_SERVING, in-flight calls finish), then the worker commits.
        await lifecycle.not_ready()
        await self._grpc.stop(self._grpc_grace_s)
        await self._worker.stop()
        if not starting.done():
            starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await starting
