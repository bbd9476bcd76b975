"""Enveloped source events for the intake's unit tests (as content, social, exchange write)."""

from __future__ import annotations

from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as ix
from planet.content.v1 import reports_pb2 as reports
from planet.content.v1.events_pb2 import PostKind, PostPublished
from planet.exchange.v2 import events_pb2 as v2
from planet.social.v1 import events_pb2 as social
from planet.social.v1 import graph_pb2 as graph
from planetkit.envelope import DomainEvent, decode, encode, wrap
from planetkit.service_identities import CONTENT, EXCHANGE, SOCIAL

T0 = 1_780_000_000_000  # a Wednesday in 2026, UTC
DAY = 86_400_000


def raw(payload: Message, event_id: str, *, source: str = CONTENT, at_ms: int = T0,
        key: str = "k") -> bytes:
    return encode(wrap(payload, event_id=event_id, source=source, aggregate_id=key,
                       occurred_at_ms=at_ms))


def event(payload: Message, event_id: str, *, source: str = CONTENT,
          at_ms: int = T0) -> DomainEvent[Message]:
    return decode(raw(payload, event_id, source=source, at_ms=at_ms), type(payload))


def comment(author: str = "u_c", post_author: str = "u_p", *, parent: str = "",
            length: int = 12, at_ms: int = T0, cid: str = "cmt_1") -> ix.CommentPosted:
    return ix.CommentPosted(comment_id=cid, post_id="post_1", post_author_id=post_author,
                            author_id=author, parent_comment_id=parent, text="x" * length,
                            text_length=length, at_ms=at_ms)


def like(user: str = "u_l", item: str = "post_1", author: str = "u_p",
         at_ms: int = T0) -> ix.ItemLiked:
    return ix.ItemLiked(item_id=item, item_author_id=author, user_id=user, at_ms=at_ms,
                        post_id="post_1")


def share(user: str = "u_s", quote_length: int = 5, at_ms: int = T0) -> ix.ItemShared:
    return ix.ItemShared(share_id="shr_1", item_id="post_1", item_author_id="u_p", user_id=user,
                         quote="q" * quote_length, at_ms=at_ms, post_id="post_1",
                         quote_length=quote_length)


def followed(follower: str = "u_f", followee: str = "u_p", at_ms: int = T0) -> graph.Followed:
    return graph.Followed(follower_id=follower, followee_id=followee, at_ms=at_ms)


def published(post: str = "post_1", creator: str = "u_p", *, article: bool = False,
              at_ms: int = T0) -> PostPublished:
    kind = PostKind.POST_KIND_ARTICLE if article else PostKind.POST_KIND_SHORT
    return PostPublished(post_id=post, creator_id=creator, kind=kind, published_at_ms=at_ms)


def removed(item: str = "post_1", author: str = "u_p",
            at_ms: int = T0 + DAY) -> reports.ItemRemoved:
    return reports.ItemRemoved(item_id=item, kind=reports.ModeratedKind.MODERATED_KIND_POST,
                               post_id="post_1", author_id=author, at_ms=at_ms)


def restored(item: str = "post_1", author: str = "u_p",
             at_ms: int = T0 + 2 * DAY) -> reports.ItemRestored:
    return reports.ItemRestored(item_id=item, kind=reports.ModeratedKind.MODERATED_KIND_POST,
                                post_id="post_1", author_id=author, at_ms=at_ms)


def opened(user: str = "u_p", at_ms: int = T0) -> social.CreatorIdentityOpened:
    return social.CreatorIdentityOpened(user_id=user, handle="h", opened_at_ms=at_ms)


def sanctioned(user: str = "u_p", sid: str = "s1", at_ms: int = T0,
               until_ms: int = 0) -> social.AccountSanctioned:
    return social.AccountSanctioned(user_id=user, sanction_id=sid, reason="r",
                                    until_ms=until_ms, at_ms=at_ms)


def fee(user: str = "u_c", fee_id: str = "f1", value: int = 100, *, at_ms: int = T0,
        asset: str = "USDT") -> v2.TradeFeeCharged:
    return v2.TradeFeeCharged(fee_id=fee_id, user_id=user,
                              fee=v2.Money(amount_minor=value, asset=asset),
                              quote_value=v2.Money(amount_minor=value, asset=asset),
                              charged_at_ms=at_ms)


__all__ = ["CONTENT", "EXCHANGE", "SOCIAL"]
