"""Translation between the domain model and its protobuf messages (events, RPCs, stores)."""

from __future__ import annotations

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import events_pb2 as ev
from services.content.domain.commands import PublishPost
from services.content.domain.model import (
    CoinTicker,
    CopyTrade,
    Post,
    PostKind,
    TradeIdea,
    TradeLink,
    TradeSide,
    TradingComponent,
)
from services.content.domain.validation import InvalidPost

_KIND_TO_PB = {PostKind.SHORT: ev.POST_KIND_SHORT, PostKind.ARTICLE: ev.POST_KIND_ARTICLE}
_KIND_FROM_PB = {v: k for k, v in _KIND_TO_PB.items()}
_SIDE_TO_PB = {TradeSide.LONG: ev.TRADE_SIDE_LONG, TradeSide.SHORT: ev.TRADE_SIDE_SHORT}
_SIDE_FROM_PB = {v: k for k, v in _SIDE_TO_PB.items()}


def component_to_pb(comp: TradingComponent) -> ev.TradingComponent:
    """A domain trading component as protobuf."""
    if isinstance(comp, CoinTicker):
        return ev.TradingComponent(ticker=ev.CoinTicker(symbol=comp.symbol))
    if isinstance(comp, TradeLink):
        return ev.TradingComponent(trade_link=ev.TradeLink(pair=comp.pair,
                                                           side=_SIDE_TO_PB[comp.side]))
    if isinstance(comp, CopyTrade):
        return ev.TradingComponent(copy_trade=ev.CopyTradeCard())
    return ev.TradingComponent(
        trade_idea=ev.TradeIdea(
            pair=comp.pair,
            side=_SIDE_TO_PB[comp.side],
            entry=comp.entry,
            target=comp.target,
            stop=comp.stop,
            timeframe=comp.timeframe,
        )
    )


def component_from_pb(comp: ev.TradingComponent, where: str) -> TradingComponent:
    """A protobuf trading component in domain terms; InvalidPost when it is empty or sideless."""
    which = comp.WhichOneof("component")
    if which == "ticker":
        return CoinTicker(comp.ticker.symbol)
    if which == "trade_idea":
        idea = comp.trade_idea
        side = _SIDE_FROM_PB.get(idea.side)
        if side is None:
            raise InvalidPost(f"{where}: trade idea side must be long or short")
        return TradeIdea(idea.pair, side, idea.entry, idea.target, idea.stop, idea.timeframe)
    if which == "trade_link":
        link_side = _SIDE_FROM_PB.get(comp.trade_link.side)
        if link_side is None:
            raise InvalidPost(f"{where}: trade link side must be long or short")
        return TradeLink(comp.trade_link.pair, link_side)
    if which == "copy_trade":
        return CopyTrade()
    raise InvalidPost(f"{where}: must be a ticker or a trade idea")


def command_from_request(req: rpc.PublishPostRequest) -> PublishPost:
    """The PublishPost command a request asks for; InvalidPost for shapes validation cannot see."""
    kind = _KIND_FROM_PB.get(req.kind)
    if kind is None:
        raise InvalidPost("kind must be short or article")
    return PublishPost(
        request_id=req.request_id,
        creator_id=req.creator_id,
        kind=kind,
        title=req.title,
        body=req.body,
        hashtags=tuple(req.hashtags),
        mentions=tuple(req.mentions),
        components=tuple(
            component_from_pb(c, f"component {i}") for i, c in enumerate(req.components, 1)
        ),
        summary=req.summary,
        cover_image_url=req.cover_image_url,
    )


def post_published(post: Post) -> ev.PostPublished:
    """The PostPublished event of a post."""
    return ev.PostPublished(
        post_id=post.post_id,
        creator_id=post.creator_id,
        kind=_KIND_TO_PB[post.kind],
        title=post.title,
        body=post.body,
        hashtags=post.hashtags,
        mentions=post.mentions,
        components=[component_to_pb(c) for c in post.components],
        published_at_ms=post.published_at_ms,
        summary=post.summary,
        cover_image_url=post.cover_image_url,
    )


def post_from_event(event: ev.PostPublished, version: int) -> Post:
    """The post a PostPublished event describes (the log is trusted: it has one writer)."""
    return Post(
        post_id=event.post_id,
        creator_id=event.creator_id,
        kind=_KIND_FROM_PB.get(event.kind, PostKind.SHORT),
        title=event.title,
        body=event.body,
        hashtags=tuple(event.hashtags),
        mentions=tuple(event.mentions),
        components=tuple(
            component_from_pb(c, f"component {i}") for i, c in enumerate(event.components, 1)
        ),
        published_at_ms=event.published_at_ms,
        version=version,
        summary=event.summary,
        cover_image_url=event.cover_image_url,
    )


def post_to_pb(post: Post) -> rpc.Post:
    """A post as the RPC message."""
    return rpc.Post(
        post_id=post.post_id,
        creator_id=post.creator_id,
        kind=_KIND_TO_PB[post.kind],
        title=post.title,
        body=post.body,
        hashtags=post.hashtags,
        mentions=post.mentions,
        components=[component_to_pb(c) for c in post.components],
        published_at_ms=post.published_at_ms,
        version=post.version,
        summary=post.summary,
        cover_image_url=post.cover_image_url,
        body_html=post.body_html,
        revision=post.revision,
        edited_at_ms=post.edited_at_ms,
        deleted_at_ms=post.deleted_at_ms,
        removed_at_ms=post.removed_at_ms,
        moderation_version=post.moderation_version,
    )


def post_from_pb(post: rpc.Post) -> Post:
    """A post as another replica answered it (it validated the post when it published)."""
    return Post(
        post_id=post.post_id,
        creator_id=post.creator_id,
        kind=_KIND_FROM_PB.get(post.kind, PostKind.SHORT),
        title=post.title,
        body=post.body,
        hashtags=tuple(post.hashtags),
        mentions=tuple(post.mentions),
        components=tuple(
            component_from_pb(c, f"component {i}") for i, c in enumerate(post.components, 1)
        ),
        published_at_ms=post.published_at_ms,
        version=post.version,
        summary=post.summary,
        cover_image_url=post.cover_image_url,
        body_html=post.body_html,
        revision=post.revision or 1,
        edited_at_ms=post.edited_at_ms,
        deleted_at_ms=post.deleted_at_ms,
        removed_at_ms=post.removed_at_ms,
        moderation_version=post.moderation_version,
    )


def request_from_command(cmd: PublishPost) -> rpc.PublishPostRequest:
    """The request that asks another replica for ``cmd`` (already validated here)."""
    return rpc.PublishPostRequest(
        request_id=cmd.request_id,
        creator_id=cmd.creator_id,
        kind=_KIND_TO_PB[cmd.kind],
        title=cmd.title,
        body=cmd.body,
        hashtags=cmd.hashtags,
        mentions=cmd.mentions,
        components=[component_to_pb(c) for c in cmd.components],
        summary=cmd.summary,
        cover_image_url=cmd.cover_image_url,
    )
