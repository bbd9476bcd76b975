"""Topic pages, arenas and the exchange's instruments.

Content normalises the topic (NFKC, casefold: ``#ＢＴＣ``, ``BTC`` and ``btc`` are one page) and
answers a page from the replica that keeps the topic; the gateway checks shapes, names the
caller and documents the answers. Every post carries ``rendered``: per component, the listed
instrument, its current price (exact decimal string, as the exchange reports it; null when it
reports none) and the server-built link ("trade this": ``side``, ``ref=planet``, ``ref_post``,
``ref_creator``; copy trade: ``ref_post``). Arenas are operator-curated sets of topics.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import Forbidden, UpstreamUnavailable
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends, TopicsPort
from gateway.schemas import PostOut, Strict, post_out
from planet.content.v1 import topics_pb2 as rpc

router = APIRouter(tags=["topics"])

MAX_PAGE = 100
OPERATOR_ROLES = frozenset({"operator", "admin"})
TopicParam = Annotated[str, Path(min_length=1, max_length=200, description=(
    "A hashtag as typed (`#ＢＴＣ`, `BTC`, `btc`: one topic). After NFKC and casefolding, "
    "1-50 letters, digits, combining marks or _."))]
ArenaId = Annotated[str, Path(min_length=1, max_length=40, pattern="^[a-z0-9_-]+$",
                              description="1-40 of a-z 0-9 - _.")]
Cursor = Annotated[str, Query(max_length=64, pattern="^[A-Za-z0-9_-]*$",
                              description="next_cursor of the previous page (opaque: up to 64 "
                                          "of A-Z a-z 0-9 - _); empty for the first.")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Posts per page (1-100).")]
Order = Literal["newest", "engaged_24h", "engaged_7d"]
_ORDERS = {"newest": rpc.TOPIC_ORDER_NEWEST, "engaged_24h": rpc.TOPIC_ORDER_ENGAGED_24H,
           "engaged_7d": rpc.TOPIC_ORDER_ENGAGED_7D}


class RenderedOut(BaseModel):
    """A component as read now: its instrument, current price and link."""

    instrument: str | None
    last_price: str | None = Field(description="Exact decimal string; null when the exchange "
                                               "reports no price.")
    last_price_at_ms: int | None
    link: str | None


class TopicPostOut(BaseModel):
    """A post on a topic page."""

    post: PostOut
    rendered: list[RenderedOut] = Field(description="Index-aligned with post.components.")
    engaged_users: int = Field(description="Distinct users who commented, liked or shared in "
                                           "the order's window, the author and sanctioned "
                                           "accounts excluded (0 for newest first).")


class TopicPageOut(BaseModel):
    """A page of a topic or an arena; pass next_cursor for the next (null on the last)."""

    topic: str | None
    posts: list[TopicPostOut]
    next_cursor: str | None


class ArenaBody(Strict):
    """An arena's name and its topics (hashtags, normalised by content; 1-20)."""

    name: str = Field(min_length=1, max_length=80)
    topics: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        min_length=1, max_length=20)


class ArenaOut(BaseModel):
    """An operator-curated set of topics."""

    arena_id: str
    name: str
    topics: list[str]
    updated_at_ms: int


class ArenasOut(BaseModel):
    """Every arena, by id."""

    arenas: list[ArenaOut]


class InstrumentOut(BaseModel):
    """An instrument as the exchange last reported it."""

    symbol: str
    base: str
    quote: str
    status: str = Field(description="trading, halted or delisted")
    last_price: str | None = Field(description="Exact decimal string; null when none.")
    at_ms: int


class InstrumentsOut(BaseModel):
    """The exchange's instrument list, by symbol."""

    instruments: list[InstrumentOut]


def _topics(backends: Backends) -> TopicsPort:
    if backends.topics is None:
        raise UpstreamUnavailable("the topic service is not configured")
    return backends.topics


def _page(page: rpc.ListTopicPostsResponse) -> TopicPageOut:
    return TopicPageOut(
        topic=page.topic or None, next_cursor=page.next_cursor or None,
        posts=[TopicPostOut(post=post_out(p.post), engaged_users=p.engaged_users, rendered=[
            RenderedOut(instrument=r.instrument or None, last_price=r.last_price or None,
                        last_price_at_ms=r.last_price_at_ms or None, link=r.link or None)
            for r in p.post.rendered]) for p in page.posts])


def _arena(a: rpc.Arena) -> ArenaOut:
    return ArenaOut(arena_id=a.arena_id, name=a.name, topics=list(a.topics),
                    updated_at_ms=a.updated_at_ms)


@router.get("/v1/topics/{topic}/posts", response_model=TopicPageOut,
            responses=errors(*AUTHED, s422="A bad parameter: a hashtag that is not a topic, "
                                           "an order, limit or cursor out of range."))
async def topic_posts(topic: TopicParam, user: UserDep, backends: BackendsDep,
                      order: Order = "newest", cursor: Cursor = "",
                      limit: Limit = 20) -> TopicPageOut:
    """A topic's posts: newest first, or most engaged in the last 24 h / 7 days."""
    return _page(await _topics(backends).list_topic_posts(user, rpc.ListTopicPostsRequest(
        topic=topic, order=_ORDERS[order], cursor=cursor, limit=limit)))


@router.get("/v1/arenas", response_model=ArenasOut, responses=errors(*AUTHED))
async def arenas(user: UserDep, backends: BackendsDep) -> ArenasOut:
    """Every arena."""
    answer = await _topics(backends).list_arenas(user)
    return ArenasOut(arenas=[_arena(a) for a in answer.arenas])


@router.get("/v1/arenas/{arena_id}/posts", response_model=TopicPageOut,
            responses=errors(*AUTHED, 404, s404="No arena has that id."))
async def arena_posts(arena_id: ArenaId, user: UserDep, backends: BackendsDep,
                      cursor: Cursor = "", limit: Limit = 20) -> TopicPageOut:
    """An arena's posts, newest first across its topics (a post in two of them once)."""
    return _page(await _topics(backends).list_arena_posts(user, rpc.ListArenaPostsRequest(
        arena_id=arena_id, cursor=cursor, limit=limit)))


@router.put("/v1/operator/arenas/{arena_id}", response_model=ArenaOut,
            responses=errors(*AUTHED, *WITH_BODY, 403, s403="Only operators curate arenas."))
async def put_arena(arena_id: ArenaId, body: ArenaBody, user: WriterDep,
                    backends: BackendsDep) -> ArenaOut:
    """Operators: define or replace an arena (an ArenaDefined event; idempotent: the same
    body again changes nothing a reader sees)."""
    if not user.roles & OPERATOR_ROLES:
        raise Forbidden("only operators curate arenas")
    return _arena(await _topics(backends).put_arena(user, rpc.PutArenaRequest(
        arena_id=arena_id, name=body.name, topics=body.topics)))


@router.get("/v1/instruments", response_model=InstrumentsOut, responses=errors(*AUTHED))
async def instruments(user: UserDep, backends: BackendsDep) -> InstrumentsOut:
    """The exchange's instruments (what trading components may name), with last prices."""
    answer = await _topics(backends).list_instruments(user)
    return InstrumentsOut(instruments=[InstrumentOut(
        symbol=i.symbol, base=i.base, quote=i.quote, status=i.status,
        last_price=i.last_price or None, at_ms=i.at_ms) for i in answer.instruments])
