"""Posts, comments and moderation → one item's whole ItemStatus.

An item's owner is what content published: PostPublished (a post or an article) or
CommentPosted (a comment: likes of comments are facts on the comment). Moderation records are
on another topic, read in no fixed order relative to the publication, so a removal read first
names the owner provisionally (its author_id) until the publication says; the publication
always wins, and a moderation record never contradicts an owner (which record would be
refused would depend on read order, and a replay must fold the same). Two publications of one
id naming different owners are inconsistent (the second is dead-lettered: both are on one
partition, so which one is second never changes). Removal periods start at ItemRemoved's time
and end at ItemRestored's.
"""

from __future__ import annotations

from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as ix
from planet.content.v1 import reports_pb2 as reports
from planet.content.v1.events_pb2 import PostDeleted, PostEdited, PostKind, PostPublished
from planet.incentive.v1.facts_pb2 import ItemStatus
from planetkit.envelope import DomainEvent, UndecodableEvent
from services.incentive.intake import periods
from services.incentive.intake.interaction_facts import occurred_at

POST_TYPES: tuple[type[Message], ...] = (PostPublished, PostEdited, PostDeleted)
MODERATION_TYPES: tuple[type[Message], ...] = (
    reports.ItemReported, reports.ReportDecided, reports.ItemRemoved, reports.RemovalAppealed,
    reports.AppealDecided, reports.ItemRestored,
)

_POST_KINDS = {PostKind.POST_KIND_UNSPECIFIED: "post", PostKind.POST_KIND_SHORT: "post",
               PostKind.POST_KIND_ARTICLE: "article"}
_MODERATED_KINDS = {reports.ModeratedKind.MODERATED_KIND_POST: "post",
                    reports.ModeratedKind.MODERATED_KIND_COMMENT: "comment"}


def item_key(event: DomainEvent[Message]) -> str | None:
    """The item an event is about, or None when it changes no item's status."""
    p = event.payload
    if isinstance(p, PostPublished):
        return p.post_id or _missing(event, "post_id")
    if isinstance(p, ix.CommentPosted):
        return p.comment_id or _missing(event, "comment_id")
    if isinstance(p, reports.ItemRemoved | reports.ItemRestored):
        return p.item_id or _missing(event, "item_id")
    return None


def fold_item(current: ItemStatus | None, event: DomainEvent[Message]) -> ItemStatus | None:
    """The item's new whole status after ``event``; None when it changes nothing.

    ``current`` is left untouched. UndecodableEvent for an inconsistent record.
    """
    item_id = item_key(event)
    if item_id is None:
        return None
    status = ItemStatus(item_id=item_id)
    if current is not None:
        status.CopyFrom(current)
    before = status.SerializeToString(deterministic=True)
    p = event.payload
    if isinstance(p, PostPublished):
        _publish(status, p.creator_id, event)
        kind = _POST_KINDS.get(p.kind)
        if kind is None:
            raise UndecodableEvent(f"PostPublished {event.event_id}: unknown post kind {p.kind}")
        status.item_kind = kind
        status.published_at_ms = status.published_at_ms or occurred_at(event, p.published_at_ms)
    elif isinstance(p, ix.CommentPosted):
        _publish(status, p.author_id, event)
        status.item_kind = "comment"
        status.published_at_ms = status.published_at_ms or occurred_at(event, p.at_ms)
    elif isinstance(p, reports.ItemRemoved):
        status.creator_id = status.creator_id or p.author_id
        status.item_kind = status.item_kind or _MODERATED_KINDS.get(p.kind, "")
        periods.start(status.removed, occurred_at(event, p.at_ms), f"ItemRemoved {event.event_id}")
    elif isinstance(p, reports.ItemRestored):
        status.creator_id = status.creator_id or p.author_id
        periods.end_open(status.removed, occurred_at(event, p.at_ms),
                         f"ItemRestored {event.event_id}")
    if status.SerializeToString(deterministic=True) == before:
        return None
    status.updated_at_ms = max(status.updated_at_ms, occurred_at(event, _payload_time(p)))
    return status


def _publish(status: ItemStatus, owner: str, event: DomainEvent[Message]) -> None:
    """Set the owner content published; only another publication's owner is a conflict."""
    if not owner:
        _missing(event, "author")
    if status.published_at_ms and status.creator_id != owner:
        raise UndecodableEvent(
            f"{type(event.payload).__name__} {event.event_id} publishes {status.item_id} for "
            f"{owner!r}, already published for {status.creator_id!r}"
        )
    status.creator_id = owner


def _payload_time(p: Message) -> int:
    for field in ("published_at_ms", "at_ms"):
        if hasattr(p, field):
            value = getattr(p, field)
            if isinstance(value, int):
                return value
    return 0


def _missing(event: DomainEvent[Message], what: str) -> str:
    raise UndecodableEvent(f"{type(event.payload).__name__} {event.event_id} lacks {what}")
