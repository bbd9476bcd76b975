"""An edit: which fields it replaces, and the post it makes (pure, validated like a publish)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from services.content.domain.commands import PublishPost
from services.content.domain.model import Post, TradingComponent
from services.content.domain.validation import validate


@dataclass(frozen=True)
class EditPost:
    """Replace some of a post's content; None fields are kept as they are."""

    post_id: str
    editor_id: str
    # The client's idempotency key ("" for none): a retried edit answers the revision it made.
    request_id: str
    # 0: unconditional; else the revision the client edited.
    expected_revision: int = 0
    title: str | None = None
    body: str | None = None
    summary: str | None = None
    cover_image_url: str | None = None
    hashtags: tuple[str, ...] | None = None
    mentions: tuple[str, ...] | None = None
    components: tuple[TradingComponent, ...] | None = None


T = TypeVar("T")


def _keep(new: T | None, old: T) -> T:
    return old if new is None else new


def edited(current: Post, cmd: EditPost, now_ms: int) -> Post:
    """``current`` with the edit applied as the next revision; InvalidPost when the result
    breaks a rule a published post must keep (the same rules and limits as publishing)."""
    checked = validate(PublishPost(
        request_id=cmd.request_id or current.post_id,
        creator_id=current.creator_id,
        kind=current.kind,
        title=_keep(cmd.title, current.title),
        body=_keep(cmd.body, current.body),
        hashtags=_keep(cmd.hashtags, current.hashtags),
        mentions=_keep(cmd.mentions, current.mentions),
        components=_keep(cmd.components, current.components),
        summary=_keep(cmd.summary, current.summary),
        cover_image_url=_keep(cmd.cover_image_url, current.cover_image_url),
    ))
    return replace(
        current,
        title=checked.title, body=checked.body, hashtags=checked.hashtags,
        mentions=checked.mentions, components=checked.components, summary=checked.summary,
        cover_image_url=checked.cover_image_url,
        revision=current.revision + 1, edited_at_ms=now_ms, version=current.version + 1,
        body_html="",  # rendered by post_events.apply, as every store renders it
    )
