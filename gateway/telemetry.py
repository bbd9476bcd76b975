"""Telemetry batches: the rules on time and items, and the one Kafka record they become.

Telemetry carries only what only a client can see: views and their dwell. Comments, replies,
likes and shares are actions a user takes through the interaction routes, decided and
recorded by content (planet.content.interactions.v1); a client's claim of one here is refused
with a 422 that says where to go instead. Group chats (issue 15) are items too, "group:<id>":
time spent reading one is a view of the group for its owner (resolved through the groups
service, for readers who may read it); messages and reactions are the groups service's own
facts, never telemetry.
"""

from __future__ import annotations

from gateway.errors import Unprocessable
from gateway.schemas import TelemetryBatch
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.engagement_batches import VIEW, EngagementRow, build_batch
from planetkit.envelope import wrap
from planetkit.group_items import group_of_item
from planetkit.service_identities import GATEWAY

# Clients buffer events offline for a while; beyond a week and a day they can no longer
# land in an open week, and clocks more than minutes ahead are wrong, not early.
MAX_FUTURE_MS = 5 * 60 * 1000
MAX_AGE_MS = 8 * 24 * 3600 * 1000
INTERACTIONS_REFUSED = (
    "telemetry takes views and dwell only: a comment or reply is POST "
    "/v1/posts/{post_id}/comments, a like PUT /v1/posts/{post_id}/like (or "
    "/v1/comments/{comment_id}/like), a share POST /v1/posts/{post_id}/shares, a follow "
    "PUT /v1/creators/{user_id}/follow; interaction events here are refused"
)


def check_batch(batch: TelemetryBatch, *, max_events: int, now_ms: int) -> list[str]:
    """The distinct item ids of a batch that fits the size and time rules; Unprocessable else."""
    if len(batch.events) > max_events:
        raise Unprocessable(f"batch has {len(batch.events)} events; the limit is {max_events}")
    claimed = [e.event_id for e in batch.events if e.type != "view"]
    if claimed:
        raise Unprocessable(f"{INTERACTIONS_REFUSED} (events {', '.join(claimed[:10])})")
    seen: set[str] = set()
    dupes: list[str] = []
    for e in batch.events:
        if e.event_id in seen:
            dupes.append(e.event_id)
        seen.add(e.event_id)
    if dupes:
        raise Unprocessable(f"duplicate event ids in batch: {', '.join(sorted(set(dupes))[:10])}")
    future = [e.event_id for e in batch.events if e.occurred_at_ms > now_ms + MAX_FUTURE_MS]
    if future:
        raise Unprocessable(
            f"events more than 5 minutes in the future: {', '.join(future[:10])}"
        )
    old = [e.event_id for e in batch.events if e.occurred_at_ms < now_ms - MAX_AGE_MS]
    if old:
        raise Unprocessable(f"events older than 8 days: {', '.join(old[:10])}")
    return sorted({e.item_id for e in batch.events})


def split_items(item_ids: list[str]) -> tuple[list[str], dict[str, str]]:
    """(post ids, {group id: its item id}) of a batch's distinct items."""
    posts: list[str] = []
    groups: dict[str, str] = {}
    for item in item_ids:
        group = group_of_item(item)
        if group is None:
            posts.append(item)
        else:
            groups[group] = item
    return posts, groups


def unknown_items(item_ids: list[str], authors: dict[str, str]) -> None:
    """Unprocessable naming the items that have no known creator."""
    unknown = [i for i in item_ids if i not in authors]
    if unknown:
        more = f" (and {len(unknown) - 20} more)" if len(unknown) > 20 else ""
        raise Unprocessable(f"unknown items: {', '.join(unknown[:20])}{more}")


def scoped_id(consumer_id: str, client_id: str) -> str:
    """A client-chosen id made unique platform-wide by its consumer: "<len>:<consumer>/<id>".

    Clients pick event and batch ids; without the scope, one consumer reusing (or
    guessing) another's ids would make the aggregator drop that consumer's events as
    duplicates. User ids come from the exchange in any alphabet, so a plain separator is
    ambiguous ("zz" + "q/e1" and "zz/q" + "e1" would meet). The length prefix says where
    the consumer id ends, so two different pairs can never give the same scoped id.
    """
    return f"{len(consumer_id)}:{consumer_id}/{client_id}"


def unscoped(scoped: str) -> tuple[str, str]:
    """The (consumer id, client id) of a scoped id; ValueError if it is not one."""
    length, sep, rest = scoped.partition(":")
    if not sep or not length.isdecimal() or length != str(int(length)):
        raise ValueError(f"not a scoped id: {scoped!r}")
    n = int(length)
    if len(rest) < n + 1 or rest[n] != "/":
        raise ValueError(f"not a scoped id: {scoped!r}")
    return rest[:n], rest[n + 1:]


def batch_envelope(
    batch: TelemetryBatch, consumer_id: str, authors: dict[str, str], now_ms: int
) -> Envelope:
    """The batch as one EngagementBatch envelope keyed by the consumer."""
    rows = [
        EngagementRow(
            event_id=scoped_id(consumer_id, e.event_id),
            item_id=e.item_id,
            creator_id=authors[e.item_id],
            occurred_at_ms=e.occurred_at_ms,
            kind=VIEW,  # check_batch refused anything else
            dwell_seconds=e.dwell_seconds or 0,
            text_length=0,
        )
        for e in batch.events
    ]
    batch_id = scoped_id(consumer_id, batch.batch_id)
    return wrap(
        build_batch(batch_id, consumer_id, rows),
        event_id=batch_id,
        source=GATEWAY,
        aggregate_id=consumer_id,
        occurred_at_ms=now_ms,
    )
