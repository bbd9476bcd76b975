"""Composition root: builds the FastAPI app from settings and a backends factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.access_log import AccessLogMiddleware
from gateway.auth import announce_mode, make_verifier
from gateway.backends import open_backends
from gateway.body_limit import BodyLimitMiddleware
from gateway.client_ip import parse_networks
from gateway.deps import make_limiter
from gateway.errors import error_body, install_error_handlers
from gateway.group_refusals import GroupRefused
from gateway.openapi import ReadyBody, errors
from gateway.ports import Backends
from gateway.routes import (
    analytics,
    comments,
    creator_center_page,
    creator_posts,
    creators,
    dev,
    estimates,
    follows,
    groups,
    groups_live,
    posts,
    reactions,
    relations,
    telemetry,
    topics,
    track_record,
    weekly_pool,
)
from gateway.routes import drafts as draft_routes
from gateway.routes import notifications as notification_routes
from gateway.routes import reports as report_routes
from gateway.settings import GatewaySettings

BackendsFactory = Callable[[GatewaySettings], AbstractAsyncContextManager[Backends]]


def _description(settings: GatewaySettings) -> str:
    mode = (
        "\n\n**DEV MODE**: `POST /v1/dev/tokens` mints a token for any user with any role. "
        "Never expose a dev-mode gateway."
        if settings.dev_mode else ""
    )
    return (
        "The HTTP/WebSocket API of Planet, the creator community.\n\n"
        "**Errors** are always `{\"error\": \"...\"}`. Every 429 and 503 carries `Retry-After`.\n\n"
        f"**Limits**: request bodies up to {settings.max_body_bytes} bytes (413 beyond); "
        f"telemetry batches up to {settings.max_batch_events} events; client-chosen ids "
        "(event, batch, Idempotency-Key) and user ids up to 128 characters; post ids are "
        '"post_" + 24 hex digits. Writes are limited per user '
        f"({settings.rate_user_writes_per_minute}/min) and per address "
        f"({settings.rate_ip_writes_per_minute}/min); requests carrying a token per address "
        f"({settings.rate_ip_token_uses_per_minute}/min).\n\n"
        "**WebSocket** `/v1/ws/creators/{creator_id}/estimate`: authenticate with the "
        'subprotocols `["planet.v1", "bearer.<token>"]` (the server answers `planet.v1`), or '
        'send `{"type": "auth", "token": "<token>"}` as the first message. Text frames must '
        f'be JSON of at most {settings.ws_max_message_bytes} bytes; `{{"type": "ping"}}` is '
        "answered with `{\"type\": \"pong\"}`. Close codes: 1003 binary frame, 1007 not JSON, "
        "1008 authentication or authorization failed, 1009 frame too large, 1013 try again later."
        " The server sends the current estimate (the JSON of `GET /v1/creators/{creator_id}/"
        "estimate`), then each newer one as the scoring job writes it (pushed, about every "
        "15 s while engagement changes it); a client too slow to read is closed with 1013: "
        "reconnect for the current estimate."
        "\n\n**Money** is always an integer number of minor units of its `asset` "
        "(`amount_minor`, `asset`), never a float."
        "\n\n**WebSocket** `/v1/ws/notifications`: authenticate the same way, then send "
        '`{"after": <last position seen>}`; the server sends each notification after it '
        '(`{"type": "notification", "position", ...}`), `{"type": "caught_up", ...}`, then '
        "new ones live in position order with no gap and no duplicate, and "
        '`{"type": "read", "read_up_to"}`. A client too slow to read is closed with 1013: '
        "reconnect with the last position received."
        "\n\n**WebSocket** `/v1/ws/groups/{group_id}` (members; anyone for a public group): "
        'authenticate the same way, then send `{"after": <last seq seen>}`; the server sends '
        'each message after it (`{"type": "message", "seq", "message"}`), `{"type": '
        '"caught_up", "last_seq"}`, then live `message`, `edit`, `delete`, `pin`, `unpin` '
        'and `closed` frames in seq order with no gap and no duplicate; `{"type": "position", '
        '"seq"}` when facts the viewer may not see moved the cursor; `{"type": "removed", '
        '"why"}` then close 1008 when the viewer is kicked, banned or leaves. A client too '
        "slow to read is closed with 1013: reconnect with the last seq received."
        + mode
    )


def create_app(
    settings: GatewaySettings, backends_factory: BackendsFactory = open_backends
) -> FastAPI:
    """The gateway app; its backends are opened in the lifespan and closed after it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        announce_mode(settings)  # here, once uvicorn has configured logging
        async with backends_factory(settings) as backends:
            app.state.backends = backends
            app.state.backends_open = True
            try:
                yield
            finally:
                app.state.backends_open = False

    app = FastAPI(
        title="Planet API",
        version="1",
        description=_description(settings),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.verifier = make_verifier(settings)
    app.state.limiter = make_limiter(settings)
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Outermost, so it sees the final status of everything, including 413s.
    app.add_middleware(AccessLogMiddleware)
    install_error_handlers(app, settings.retry_after_s)

    async def on_group_refused(_: Request, exc: Exception) -> JSONResponse:
        # A groups refusal carries its details (retry_after_s, until_ms, rule) in the body.
        assert isinstance(exc, GroupRefused)
        return JSONResponse(exc.body, status_code=exc.status, headers=exc.headers)

    app.add_exception_handler(GroupRefused, on_group_refused)

    app.state.backends_open = False

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    def not_ready(reason: str) -> JSONResponse:
        return JSONResponse(error_body(reason), status_code=503,
                            headers={"Retry-After": str(settings.retry_after_s)})

    @app.get("/readyz", tags=["ops"], response_model=ReadyBody,
             responses=errors(503, s503="Not ready yet; retry after Retry-After seconds."))
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: backends open and tokens checkable (the identity provider's keys loaded).

        A gateway that cannot check tokens would answer every request 503, so it takes no
        traffic until it can: the chart's readiness probe asks here.
        """
        if not request.app.state.backends_open:
            return not_ready("the gateway is starting: backends are not open yet")
        if not await request.app.state.verifier.ready():
            return not_ready("the identity provider's signing keys are not loaded yet")
        return JSONResponse({"status": "ready"})

    if settings.dev_mode:
        app.include_router(dev.router)
    app.include_router(posts.router)
    app.include_router(telemetry.router)
    app.include_router(estimates.router)
    app.include_router(weekly_pool.router)
    app.include_router(analytics.router)
    app.include_router(creators.router)
    app.include_router(creator_posts.router)
    app.include_router(follows.router)
    app.include_router(track_record.router)
    app.include_router(relations.router)
    app.include_router(notification_routes.router)
    app.include_router(topics.router)
    app.include_router(comments.router)
    app.include_router(reactions.router)
    app.include_router(report_routes.router)
    app.include_router(draft_routes.router)
    app.include_router(groups.router)
    app.include_router(groups_live.router)
    # A static page (no data, no token to load it) that calls the API above from the browser.
    app.include_router(creator_center_page.router)
    return app
