"""In-memory backends and helpers for unit tests of the gateway's own logic."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.auth import Principal, issue_token
from gateway.errors import NotFound
from gateway.ports import Backends
from gateway.settings import GatewaySettings
from planet.content.v1 import content_service_pb2 as content
from planet.events.v1.envelope_pb2 import Envelope
from planet.incentive.v1 import incentive_service_pb2 as incentive
from planet.incentive.v1 import weekly_pool_pb2 as pool
from services.content.domain.ids import post_id_for

SECRET = "unit-test-secret-of-at-least-32-bytes!"
# PyJWT checks expiry against the real clock, so the fake clock starts at real now.
NOW_MS = time.time_ns() // 1_000_000


@dataclass
class FakeContent:
    """Posts in a dict; publish echoes the request. Records whom each call was made for."""

    posts: dict[str, content.Post] = field(default_factory=dict)
    callers: list[Principal] = field(default_factory=list)

    async def publish_post(
        self, caller: Principal, request: content.PublishPostRequest
    ) -> content.Post:
        self.callers.append(caller)
        post = content.Post(
            post_id=post_id_for(request.creator_id, request.request_id),
            creator_id=request.creator_id,
            kind=request.kind, title=request.title, body=request.body,
            hashtags=request.hashtags, mentions=request.mentions,
            components=request.components, published_at_ms=NOW_MS, version=1,
        )
        self.posts.setdefault(post.post_id, post)
        return self.posts[post.post_id]

    async def get_post(self, caller: Principal, post_id: str) -> content.Post:
        self.callers.append(caller)
        if post_id not in self.posts:
            raise NotFound(f"post {post_id!r} not found")
        return self.posts[post_id]

    async def resolve_authors(self, caller: Principal, item_ids: list[str]) -> dict[str, str]:
        self.callers.append(caller)
        return {i: self.posts[i].creator_id for i in item_ids if i in self.posts}

    async def list_author_posts(
        self, caller: Principal, request: content.ListAuthorPostsRequest
    ) -> content.ListAuthorPostsResponse:
        self.callers.append(caller)
        mine = sorted((p for p in self.posts.values() if p.creator_id == request.author_id),
                      key=lambda p: (-p.published_at_ms, p.post_id))
        return content.ListAuthorPostsResponse(posts=mine[:request.limit or 20])


@dataclass
class FakeIncentive:
    """Returns a fixed estimate with a settable amount."""

    estimated_minor: int = 1500
    callers: list[Principal] = field(default_factory=list)

    async def creator_estimate(
        self, caller: Principal, request: incentive.CreatorWeekRequest
    ) -> pool.CreatorEstimate:
        self.callers.append(caller)
        return pool.CreatorEstimate(
            creator_id=request.creator_id, week=request.week or "2025-W48", as_of_ms=NOW_MS,
            estimated_minor=self.estimated_minor, asset="USDT",
            activity=pool.WeekActivity(views=3))


@dataclass
class FakeEvents:
    """Keeps published envelopes."""

    published: list[Envelope] = field(default_factory=list)

    async def publish_batch(self, envelope: Envelope) -> None:
        self.published.append(envelope)


@dataclass
class Fakes:
    content: FakeContent
    incentive: FakeIncentive
    events: FakeEvents


def settings(**overrides: object) -> GatewaySettings:
    """Gateway settings for tests."""
    values: dict[str, object] = {"jwt_secret": SECRET, "dev_mode": True, "max_body_bytes": 4096,
                                 "max_batch_events": 5, "ws_poll_s": 0.05}
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


def client_for(gateway_settings: GatewaySettings, fakes: Fakes) -> TestClient:
    """A TestClient whose lifespan opens the fakes."""

    @asynccontextmanager
    async def factory(_: GatewaySettings) -> AsyncIterator[Backends]:
        yield Backends(fakes.content, fakes.incentive, fakes.events, lambda: NOW_MS)

    return TestClient(create_app(gateway_settings, factory))


def bearer(user_id: str, roles: list[str] | None = None, ttl_s: int = 600) -> dict[str, str]:
    """An Authorization header for ``user_id``."""
    token = issue_token(SECRET, user_id, roles or [], now_s=int(time.time()), ttl_s=ttl_s)
    return {"Authorization": f"Bearer {token}"}
