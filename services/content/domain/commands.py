"""Commands: what a caller asks the content service to do."""

from __future__ import annotations

from dataclasses import dataclass

from services.content.domain.model import PostKind, TradingComponent


@dataclass(frozen=True)
class PublishPost:
    """Publish a post; ``request_id`` is the caller's idempotency key."""

    request_id: str
    creator_id: str
    kind: PostKind
    title: str
    body: str
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    components: tuple[TradingComponent, ...] = ()
    summary: str = ""
    cover_image_url: str = ""
