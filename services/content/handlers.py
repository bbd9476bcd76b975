"""The service layer: publish a post, read posts, resolve authors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import wrap
from planetkit.service_identities import CONTENT
from services.content.codec import post_published
from services.content.domain.catalog import PostCatalog
from services.content.domain.commands import PublishPost
from services.content.domain.ids import event_id_for, post_id_for
from services.content.domain.model import Post
from services.content.domain.validation import validate

SOURCE = CONTENT


class EventLogUnavailable(RuntimeError):
    """The event log did not acknowledge an append; nothing was applied."""


class EventLog(Protocol):
    """Where PostPublished envelopes are appended (the POSTS topic in production)."""

    async def append(self, envelope: Envelope) -> None:
        """Append and return once durable; EventLogUnavailable otherwise."""


@dataclass(frozen=True)
class Published:
    """The outcome of PublishPost: the post, and whether this call created it."""

    post: Post
    created: bool


class ContentHandlers:
    """Handlers over one catalog and one event log."""

    def __init__(self, catalog: PostCatalog, log: EventLog, clock_ms: Callable[[], int]) -> None:
        self._catalog = catalog
        self._log = log
        self._clock_ms = clock_ms
        # One lock per post id in flight, so a retry racing its original waits for it
        # instead of appending a second event.
        self._locks: dict[str, asyncio.Lock] = {}

    async def publish_post(self, cmd: PublishPost) -> Published:
        """Validate, append PostPublished, then apply it; a repeated request returns the first."""
        cmd = validate(cmd)
        post_id = post_id_for(cmd.creator_id, cmd.request_id)
        if (existing := self._catalog.get(post_id)) is not None:
            return Published(existing, created=False)
        lock = self._locks.setdefault(post_id, asyncio.Lock())
        try:
            async with lock:
                if (existing := self._catalog.get(post_id)) is not None:
                    return Published(existing, created=False)
                now = self._clock_ms()
                post = Post(
                    post_id=post_id,
                    creator_id=cmd.creator_id,
                    kind=cmd.kind,
                    title=cmd.title,
                    body=cmd.body,
                    hashtags=cmd.hashtags,
                    mentions=cmd.mentions,
                    components=cmd.components,
                    published_at_ms=now,
                    version=1,
                )
                envelope = wrap(
                    post_published(post),
                    event_id=event_id_for(post_id, 1),
                    source=SOURCE,
                    aggregate_id=post_id,
                    occurred_at_ms=now,
                    aggregate_version=1,
                )
                await self._log.append(envelope)
                self._catalog.apply(post)
                return Published(post, created=True)
        finally:
            if not lock.locked() and self._locks.get(post_id) is lock:
                del self._locks[post_id]

    def get_post(self, post_id: str) -> Post | None:
        """The post called ``post_id``, if published."""
        return self._catalog.get(post_id)

    def resolve_authors(self, item_ids: Iterable[str]) -> dict[str, str]:
        """Creator of each known item id."""
        return self._catalog.authors(item_ids)
