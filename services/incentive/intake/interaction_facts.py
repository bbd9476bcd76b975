"""Content interactions and social follows → one FactRows per source event.

A fact is the act: a comment, a reply, a like, a share, a follow, at the moment it was done.
Withdrawing it later (an unlike, a deleted comment, an unfollow) writes no fact and removes
none: the week counts what consumers did, and an edit changes no act either. Moderation is
the one way an item stops earning (its removal periods in ItemStatus), never a user's undo.

Each record's only row carries the SOURCE envelope's event id (and its event key and check
digest, ``planetkit.fact_rows``), so the settlement's dedup by
event id recognises a source event however often it was read; the consumer is the actor, the
creator the one the owning service named (content's post or item author, social's followee).
"""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as ix
from planet.incentive.v1.facts_pb2 import FactRows
from planet.social.v1 import graph_pb2 as graph
from planetkit.envelope import DomainEvent, UndecodableEvent
from planetkit.fact_rows import COMMENT, FOLLOW, LIKE, REPLY, SHARE, FactRow, build_facts

# Every payload type of the two source topics: the ones that are no fact are read (and
# ignored), never dead-lettered.
INTERACTION_TYPES: tuple[type[Message], ...] = (
    ix.CommentPosted, ix.CommentEdited, ix.CommentDeleted, ix.ItemLiked, ix.ItemUnliked,
    ix.ItemShared,
)
GRAPH_TYPES: tuple[type[Message], ...] = (graph.Followed, graph.Unfollowed, graph.BellSet)

# The item a follow is "of": the creator's home, one item per creator.
HOME_PREFIX = "home:"

# Text lengths are uint32 in the contract; content caps texts far below this.
_MAX_TEXT = 2**32 - 1


def home_item(creator_id: str) -> str:
    """The item id a follow of ``creator_id`` counts on."""
    return f"{HOME_PREFIX}{creator_id}"


def interaction_fact(event: DomainEvent[Message]) -> FactRows | None:
    """The fact of one interactions-topic event; None for the kinds that are no act."""
    p = event.payload
    if isinstance(p, ix.CommentPosted):
        kind = REPLY if p.parent_comment_id else COMMENT
        return _one(event, consumer=p.author_id, item=p.post_id, creator=p.post_author_id,
                    at_ms=p.at_ms, kind=kind, text_length=p.text_length, what="CommentPosted")
    if isinstance(p, ix.ItemLiked):
        return _one(event, consumer=p.user_id, item=p.item_id, creator=p.item_author_id,
                    at_ms=p.at_ms, kind=LIKE, text_length=0, what="ItemLiked")
    if isinstance(p, ix.ItemShared):
        return _one(event, consumer=p.user_id, item=p.item_id, creator=p.item_author_id,
                    at_ms=p.at_ms, kind=SHARE, text_length=p.quote_length, what="ItemShared")
    return None  # CommentEdited, CommentDeleted, ItemUnliked: no act (module docstring)


def follow_fact(event: DomainEvent[Message]) -> FactRows | None:
    """The fact of one graph-topic event: a Followed; None for unfollows and bells."""
    p = event.payload
    if not isinstance(p, graph.Followed):
        return None
    return _one(event, consumer=p.follower_id, item=home_item(p.followee_id) if p.followee_id
                else "", creator=p.followee_id, at_ms=p.at_ms, kind=FOLLOW, text_length=0,
                what="Followed")


def occurred_at(event: DomainEvent[Any], at_ms: int) -> int:
    """The source record's time: the payload's own, else the envelope's."""
    return at_ms or event.envelope.occurred_at_ms


def _one(event: DomainEvent[Message], *, consumer: str, item: str, creator: str, at_ms: int,
         kind: int, text_length: int, what: str) -> FactRows:
    missing = [name for name, value in (("consumer", consumer), ("item", item),
                                        ("creator", creator)) if not value]
    if missing:
        raise UndecodableEvent(f"{what} {event.event_id} lacks its {', '.join(missing)} id")
    when = occurred_at(event, at_ms)
    if when <= 0:
        raise UndecodableEvent(f"{what} {event.event_id} has no time (at_ms and the "
                               "envelope's occurred_at_ms are 0)")
    if not 0 <= text_length <= _MAX_TEXT:
        raise UndecodableEvent(f"{what} {event.event_id}: text length {text_length} out of range")
    row = FactRow(event_id=event.event_id, item_id=item, creator_id=creator,
                  occurred_at_ms=when, kind=kind, text_length=text_length)
    # With its event key and check digest: the weekly reader then hashes no interaction
    # (it verifies a record's first row; a one-row record costs it what hashing would,
    # records of more rows much less).
    return build_facts(f"{event.event_id}:0", consumer, [row], keyed=True)
