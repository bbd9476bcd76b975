"""Composition root: builds the FastAPI app from settings and a backends factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from gateway.backends import open_backends
from gateway.body_limit import BodyLimitMiddleware
from gateway.errors import install_error_handlers
from gateway.ports import Backends
from gateway.routes import analytics, dev, estimates, posts, telemetry
from gateway.settings import GatewaySettings

BackendsFactory = Callable[[GatewaySettings], AbstractAsyncContextManager[Backends]]


def create_app(
    settings: GatewaySettings, backends_factory: BackendsFactory = open_backends
) -> FastAPI:
    """The gateway app; its backends are opened in the lifespan and closed after it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with backends_factory(settings) as backends:
            app.state.backends = backends
            yield

    app = FastAPI(
        title="Planet API",
        version="1",
        description="The HTTP/WebSocket API of Planet, the creator community.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    if settings.dev_mode:
        app.include_router(dev.router)
    app.include_router(posts.router)
    app.include_router(telemetry.router)
    app.include_router(estimates.router)
    app.include_router(analytics.router)
    return app
