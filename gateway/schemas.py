"""JSON shapes of requests and responses, and their protobuf translations."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.ids import (
    MAX_CLIENT_ID_LENGTH,
    MAX_USER_ID_LENGTH,
    TELEMETRY_ITEM_DESCRIPTION,
    TELEMETRY_ITEM_PATTERN,
)
from gateway.schemas_track_record import TrackRecordOut, track_record_out
from planet.content.v1 import content_service_pb2 as content
from planet.content.v1 import events_pb2 as ev
from planet.social.v1 import events_pb2 as social_events
from planet.social.v1 import social_service_pb2 as social

# Generous shape limits here; the content service owns the real rules and their messages.
# The last millisecond of year 9999: any later time is a client's mistake, and the int64
# fields these travel in must never see a value they cannot hold.
MAX_TIME_MS = 253_402_300_799_999
_ID = Field(min_length=1, max_length=MAX_CLIENT_ID_LENGTH)
# Items are posts and group chats (issue 15); an id Planet did not issue is refused before
# any lookup.
_ITEM_ID = Field(pattern=TELEMETRY_ITEM_PATTERN, description=TELEMETRY_ITEM_DESCRIPTION)


class Strict(BaseModel):
    """Unknown fields are errors, so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class TokenRequest(Strict):
    """Dev-only: mint a token for any user."""

    user_id: str = Field(min_length=1, max_length=MAX_USER_ID_LENGTH)
    roles: list[str] = Field(default_factory=list, max_length=20)


class TokenResponse(BaseModel):
    """A bearer token."""

    token: str


class Ticker(Strict):
    """A live coin ticker."""

    symbol: str = Field(max_length=40)


class TradeIdea(Strict):
    """A trade setup; prices are decimal strings (JSON numbers would lose precision)."""

    pair: str = Field(max_length=64)
    side: Literal["long", "short"]
    entry: str = Field(max_length=64)
    target: str = Field(max_length=64)
    stop: str = Field(max_length=64)
    timeframe: str = Field(default="", max_length=16, description=(
        "The chart timeframe: one of 15m, 1h, 4h, 1d, 1w; empty for none (the content "
        "service names any other value in its 422)."))


class TradeLink(Strict):
    """A "trade this" deep link; the server builds the URL (with attribution) when read."""

    pair: str = Field(max_length=64, description="An instrument the exchange lists: BTC/USDT.")
    side: Literal["long", "short"]


class CopyTradeCard(Strict):
    """A card linking the post's creator's copy-trading profile: nothing to choose, `{}`."""


_COMPONENT_KINDS = ("ticker", "trade_idea", "trade_link", "copy_trade")


class Component(Strict):
    """Exactly one of a ticker, a trade idea, a trade link or a copy-trade card."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"ticker": {"symbol": "BTC"}},
        {"trade_idea": {"pair": "SOL/USDT", "side": "long", "entry": "180", "target": "205",
                        "stop": "171", "timeframe": "4h"}},
        {"trade_link": {"pair": "BTC/USDT", "side": "short"}},
        {"copy_trade": {}},
    ]})

    ticker: Ticker | None = None
    trade_idea: TradeIdea | None = None
    trade_link: TradeLink | None = None
    copy_trade: CopyTradeCard | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Component:
        if sum(getattr(self, k) is not None for k in _COMPONENT_KINDS) != 1:
            raise ValueError("a component is exactly one of " + ", ".join(_COMPONENT_KINDS))
        return self


class PublishPostBody(Strict):
    """A post to publish; its author is the token's subject."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"body": "SOL reclaiming the range", "hashtags": ["sol"], "components": [
            {"trade_idea": {"pair": "SOL/USDT", "side": "long", "entry": "180",
                            "target": "205", "stop": "171", "timeframe": "4h"}},
            {"trade_link": {"pair": "SOL/USDT", "side": "long"}},
            {"copy_trade": {}}]},
        {"kind": "article", "title": "Why SOL", "summary": "The range thesis",
         "cover_image_url": "https://cdn.example.com/sol.png",
         "body": "# Range\n\nEntry at **180**.", "components": [{"ticker": {"symbol": "SOL"}}]},
    ]})

    kind: Literal["short", "article"] = "short"
    title: str = ""
    body: str
    hashtags: list[str] = Field(default_factory=list, max_length=100)
    mentions: list[str] = Field(default_factory=list, max_length=100)
    components: list[Component] = Field(default_factory=list, max_length=100)
    # Articles only (the content service checks: summary <= 500 characters, cover an https
    # URL <= 2048); the bounds here only stop absurd sizes before any backend call.
    summary: str = Field(default="", max_length=4_000)
    cover_image_url: str = Field(default="", max_length=4_096)


class StatsOut(BaseModel):
    """Exact counts of a post or comment (kept by content from its interaction facts)."""

    likes: int
    comments: int = Field(description="On a post: its comments and replies; on a comment: "
                                      "its direct replies.")
    shares: int


class PostOut(BaseModel):
    """A published post."""

    post_id: str
    creator_id: str
    kind: Literal["short", "article"]
    title: str
    body: str
    hashtags: list[str]
    mentions: list[str]
    components: list[Component]
    published_at_ms: int
    stats: StatsOut | None = Field(default=None, description=(
        "Likes, comments and shares; null when they cannot be had right now (never a guess)."))
    version: int
    # Articles: a summary and an https cover image URL ("" for short posts).
    summary: str = ""
    cover_image_url: str = ""
    body_html: str = Field(default="", description=(
        "The Markdown body rendered (CommonMark) and sanitised with an allow-list: safe to "
        "insert into a page as is. Links: http, https, mailto only, with "
        'rel="nofollow noopener ugc"; images: https only; raw HTML in the source is shown as '
        "text."))
    revision: int = Field(default=1, description="1 when published, +1 per edit.")
    edited_at_ms: int = Field(default=0, description="0 when never edited.")
    deleted_at_ms: int = Field(default=0, description=(
        "Non-zero once deleted: only its author and operators still see the post."))
    removed_at_ms: int = Field(default=0, description=(
        "Non-zero while removed after a confirmed report: only its author and operators see "
        "the post (why: GET /v1/items/{item_id}/moderation; the author may appeal once)."))


class TelemetryEvent(Strict):
    """One view (with dwell) or one interaction with an item."""

    event_id: str = _ID
    item_id: str = _ITEM_ID
    occurred_at_ms: int = Field(ge=0, le=MAX_TIME_MS)
    type: Literal["view", "interaction"]
    dwell_seconds: int | None = Field(default=None, ge=0, le=86_400)
    interaction: Literal["like", "comment", "reply", "share", "follow", "tip", "qa"] | None = None
    text_length: int | None = Field(default=None, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _kind_fields(self) -> TelemetryEvent:
        if self.type == "view" and (self.dwell_seconds is None or self.interaction is not None):
            raise ValueError("a view has dwell_seconds and no interaction")
        wrong = self.interaction is None or self.dwell_seconds is not None
        if self.type == "interaction" and wrong:
            raise ValueError("an interaction has an interaction kind and no dwell_seconds")
        return self


class TelemetryBatch(Strict):
    """A client's batch of events, all by the token's subject."""

    batch_id: str = _ID
    events: list[TelemetryEvent] = Field(min_length=1)


class Accepted(BaseModel):
    """How many events were accepted."""

    accepted: int


_KINDS = {"short": ev.POST_KIND_SHORT, "article": ev.POST_KIND_ARTICLE}
_SIDES = {"long": ev.TRADE_SIDE_LONG, "short": ev.TRADE_SIDE_SHORT}


def publish_request(body: PublishPostBody, creator_id: str, request_id: str
                    ) -> content.PublishPostRequest:
    """The PublishPost RPC for a JSON body."""
    components = components_pb(body.components)
    return content.PublishPostRequest(
        request_id=request_id,
        creator_id=creator_id,
        kind=_KINDS[body.kind],
        title=body.title,
        body=body.body,
        hashtags=body.hashtags,
        mentions=body.mentions,
        components=components,
        summary=body.summary,
        cover_image_url=body.cover_image_url,
    )


def components_pb(items: list[Component]) -> list[ev.TradingComponent]:
    """The protobuf trading components of a JSON list."""
    components = []
    for comp in items:
        if comp.ticker is not None:
            components.append(ev.TradingComponent(ticker=ev.CoinTicker(symbol=comp.ticker.symbol)))
        elif comp.trade_idea is not None:
            idea = comp.trade_idea
            components.append(ev.TradingComponent(trade_idea=ev.TradeIdea(
                pair=idea.pair, side=_SIDES[idea.side], entry=idea.entry,
                target=idea.target, stop=idea.stop, timeframe=idea.timeframe,
            )))
        elif comp.trade_link is not None:
            components.append(ev.TradingComponent(trade_link=ev.TradeLink(
                pair=comp.trade_link.pair, side=_SIDES[comp.trade_link.side])))
        elif comp.copy_trade is not None:
            components.append(ev.TradingComponent(copy_trade=ev.CopyTradeCard()))
    return components


def post_out(post: content.Post) -> PostOut:
    """JSON of a post."""
    components: list[Component] = []
    for comp in post.components:
        if comp.WhichOneof("component") == "ticker":
            components.append(Component(ticker=Ticker(symbol=comp.ticker.symbol)))
        elif comp.WhichOneof("component") == "trade_idea":
            i = comp.trade_idea
            side: Literal["long", "short"] = "long" if i.side == ev.TRADE_SIDE_LONG else "short"
            components.append(Component(trade_idea=TradeIdea(
                pair=i.pair, side=side, entry=i.entry, target=i.target, stop=i.stop,
                timeframe=i.timeframe,
            )))
        elif comp.WhichOneof("component") == "trade_link":
            link_side: Literal["long", "short"] = (
                "long" if comp.trade_link.side == ev.TRADE_SIDE_LONG else "short")
            components.append(Component(trade_link=TradeLink(pair=comp.trade_link.pair,
                                                             side=link_side)))
        elif comp.WhichOneof("component") == "copy_trade":
            components.append(Component(copy_trade=CopyTradeCard()))
    kind: Literal["short", "article"] = "article" if post.kind == ev.POST_KIND_ARTICLE else "short"
    return PostOut(
        post_id=post.post_id,
        creator_id=post.creator_id,
        kind=kind,
        title=post.title,
        body=post.body,
        hashtags=list(post.hashtags),
        mentions=list(post.mentions),
        components=components,
        published_at_ms=post.published_at_ms,
        stats=StatsOut(likes=post.stats.likes, comments=post.stats.comments,
                       shares=post.stats.shares) if post.HasField("stats") else None,
        version=post.version,
        summary=post.summary,
        cover_image_url=post.cover_image_url,
        body_html=post.body_html,
        revision=post.revision or 1,
        edited_at_ms=post.edited_at_ms,
        deleted_at_ms=post.deleted_at_ms,
        removed_at_ms=post.removed_at_ms,
    )


# --- creators (the social service owns the rules; these are shape and size limits) --------

_HANDLE = Field(min_length=3, max_length=30, pattern="^[a-z0-9_]+$",
                description="3-30 characters of a-z, 0-9 and _; some words are reserved.")
_URL = Field(max_length=300, description="An absolute https URL.")


class ProfileBody(Strict):
    """A creator's public profile."""

    display_name: str = Field(min_length=1, max_length=50)
    bio: str = Field(default="", max_length=500)
    avatar_url: str = Field(default="", max_length=300, description="An https URL, or empty.")
    links: list[Annotated[str, _URL]] = Field(default_factory=list, max_length=5)
    topics: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=list, max_length=10)


class OpenIdentityBody(ProfileBody):
    """A new identity: its handle and profile."""

    handle: str = _HANDLE


class HandleBody(Strict):
    """A new handle."""

    handle: str = _HANDLE


class ReasonBody(Strict):
    """An operator's reason, recorded with the decision."""

    reason: str = Field(min_length=1, max_length=500)


class SanctionBody(ReasonBody):
    """A sanction: its reason, and its end (ms since the epoch) or none."""

    until_ms: int | None = Field(default=None, ge=0, le=MAX_TIME_MS)


class AppealDecisionBody(ReasonBody):
    """An operator's decision on an appeal: grant (lifts the sanction from now) or deny."""

    grant: bool


class AppealBody(Strict):
    """The account holder's one appeal."""

    text: str = Field(min_length=1, max_length=2000)


IdentityStatusName = Literal["open", "suspended", "closed", "none"]
_STATUS: dict[int, IdentityStatusName] = {
    social.IDENTITY_STATUS_OPEN: "open", social.IDENTITY_STATUS_SUSPENDED: "suspended",
    social.IDENTITY_STATUS_CLOSED: "closed"}
SanctionStatusName = Literal["active", "lifted", "expired", "unknown"]
_SANCTION_STATUS: dict[int, SanctionStatusName] = {
    social.SANCTION_STATUS_ACTIVE: "active", social.SANCTION_STATUS_LIFTED: "lifted",
    social.SANCTION_STATUS_EXPIRED: "expired"}


class IdentityOut(BaseModel):
    """The caller's (or a moderated) identity."""

    user_id: str
    handle: str
    display_name: str
    bio: str
    avatar_url: str
    links: list[str]
    topics: list[str]
    status: IdentityStatusName
    opened_at_ms: int
    previous_handles: list[str]


class HomePageOut(BaseModel):
    """A creator's public home page. Later issues add fields (followers, posts, track
    record...); clients must ignore fields they do not know."""

    user_id: str
    handle: str
    display_name: str
    bio: str
    avatar_url: str
    links: list[str]
    topics: list[str]
    status: IdentityStatusName
    opened_at_ms: int
    follower_count: int = 0
    following_count: int = 0
    # Computed from the exchange's fills (GET /v1/creators/{user_id}/track-record defines
    # it); null when its creator hid it, except for the creator and operators.
    track_record: TrackRecordOut | None = None
    track_record_hidden: bool = False
    # The creator's latest posts, newest first (GET /v1/creators/{user_id}/posts pages on from
    # posts_next_cursor; null when there are no more).
    posts: list[PostOut] = []
    posts_next_cursor: str | None = None


class SanctionOut(BaseModel):
    """A sanction as its holder and operators see it."""

    sanction_id: str
    user_id: str
    reason: str
    until_ms: int | None
    operator_id: str
    at_ms: int
    status: SanctionStatusName
    appealed: bool
    appeal_decision: str
    lifted_reason: str
    appeal_note: str
    appeal_decided_at_ms: int | None
    lifted_at_ms: int | None


class SanctionsOut(BaseModel):
    """An account's sanctions."""

    sanctions: list[SanctionOut]


def profile_pb(body: ProfileBody) -> social_events.Profile:
    """The Profile message of a body."""
    return social_events.Profile(display_name=body.display_name, bio=body.bio,
                                 avatar_url=body.avatar_url, links=body.links,
                                 topics=body.topics)


def identity_out(i: social.Identity) -> IdentityOut:
    """JSON of an identity."""
    p = i.profile
    return IdentityOut(user_id=i.user_id, handle=i.handle, display_name=p.display_name,
                       bio=p.bio, avatar_url=p.avatar_url, links=list(p.links),
                       topics=list(p.topics), status=_STATUS.get(i.status, "none"),
                       opened_at_ms=i.opened_at_ms, previous_handles=list(i.previous_handles))


def home_page_out(h: social.HomePage) -> HomePageOut:
    """JSON of a home page."""
    return HomePageOut(user_id=h.user_id, handle=h.handle, display_name=h.display_name,
                       bio=h.bio, avatar_url=h.avatar_url, links=list(h.links),
                       topics=list(h.topics), status=_STATUS.get(h.status, "none"),
                       opened_at_ms=h.opened_at_ms, follower_count=h.follower_count,
                       following_count=h.following_count,
                       track_record=(track_record_out(h.track_record)
                                     if h.HasField("track_record") else None),
                       track_record_hidden=h.track_record_hidden)


def sanction_out(s: social.Sanction) -> SanctionOut:
    """JSON of a sanction."""
    return SanctionOut(sanction_id=s.sanction_id, user_id=s.user_id, reason=s.reason,
                       until_ms=s.until_ms or None, operator_id=s.operator_id, at_ms=s.at_ms,
                       status=_SANCTION_STATUS.get(s.status, "unknown"), appealed=s.appealed,
                       appeal_decision=s.appeal_decision, lifted_reason=s.lifted_reason,
                       appeal_note=s.appeal_note,
                       appeal_decided_at_ms=s.appeal_decided_at_ms or None,
                       lifted_at_ms=s.lifted_at_ms or None)
