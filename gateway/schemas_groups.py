"""Request and response shapes of the group chat routes (gateway/routes/groups*.py).

Shapes only: the groups service decides every rule (rights, ranks, limits, filters); the
bounds here stop what can never be valid before a call (a text's own limit is the service's:
over it answers 413 ``too_long``, so the field allows more than the limit).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from fastapi import Header, Path
from pydantic import BaseModel, Field

from gateway.group_refusals import right_name, rule_out
from gateway.schemas import (
    Component,
    CopyTradeCard,
    Strict,
    Ticker,
    TradeIdea,
    TradeLink,
)
from planet.content.v1 import events_pb2 as tc
from planet.content.v1 import reports_pb2 as rp
from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc

GROUP_ID_PATTERN = "^g[0-9a-f]{24}$"
LINK_ID_PATTERN = "^[A-Za-z0-9_-]{16,64}$"
USER_ID_PATTERN = "^[A-Za-z0-9._:@-]{1,128}$"
MAX_SEQ = 2**62
# The service refuses a text over 4 096 characters with 413; a body this large is 422 here.
MAX_TEXT_FIELD = 16_384

GroupId = Annotated[str, Path(pattern=GROUP_ID_PATTERN, description="The group (g + 24 hex).")]
UserId = Annotated[str, Path(pattern=USER_ID_PATTERN, description="A user id.")]
MessageSeq = Annotated[int, Path(ge=1, le=MAX_SEQ, description="A message's id (its seq).")]
LinkId = Annotated[str, Path(pattern=LINK_ID_PATTERN, description="An invite link's code.")]
RequestKey = Annotated[str | None, Header(
    alias="Idempotency-Key", min_length=1, max_length=64, pattern="^[A-Za-z0-9._:-]+$",
    description="Optional: a retry with the same key appends nothing new and answers the "
                "first result (without one, each call is a new command).")]

Visibility = Literal["public", "private"]
JoinModeName = Literal["free", "request", "invite_only"]
RoleName = Literal["member", "moderator", "admin"]
RightName = Literal["invite", "approve", "pin", "delete_messages", "restrict", "ban",
                    "change_info", "slow_mode", "filters", "announce", "promote"]
ReasonName = Literal["spam", "scam", "market_manipulation", "harassment", "hate", "illegal",
                     "misinformation", "impersonation", "other"]
Reason = Annotated[str, Field(max_length=500, description="Why (shown in the admin log).")]

_VISIBILITY = {"public": ev.GROUP_VISIBILITY_PUBLIC, "private": ev.GROUP_VISIBILITY_PRIVATE}
_JOIN = {"free": ev.JOIN_MODE_FREE, "request": ev.JOIN_MODE_REQUEST,
         "invite_only": ev.JOIN_MODE_INVITE_ONLY}
_ROLE = {"member": ev.MEMBER_ROLE_MEMBER, "moderator": ev.MEMBER_ROLE_MODERATOR,
         "admin": ev.MEMBER_ROLE_ADMIN}
_KIND = {"keyword": ev.FILTER_KIND_KEYWORD, "link_domain": ev.FILTER_KIND_LINK_DOMAIN,
         "any_link": ev.FILTER_KIND_ANY_LINK}
_ACTION = {"block": ev.FILTER_ACTION_BLOCK, "hold": ev.FILTER_ACTION_HOLD}


def _enum_name(enum: Any, value: int, prefix: str) -> str:
    try:
        return str(enum.Name(value)).removeprefix(prefix).lower()
    except ValueError:
        return "unspecified"


def role_name(role: int) -> str | None:
    """A role's API name (None: not a member)."""
    return None if role == ev.MEMBER_ROLE_UNSPECIFIED else _enum_name(
        ev.MemberRole, role, "MEMBER_ROLE_")


def right_value(name: str) -> ev.AdminRight.ValueType:
    """An admin right from its API name."""
    return ev.AdminRight.Value("ADMIN_RIGHT_" + name.upper())


def policy_reason(name: str) -> rp.PolicyReason.ValueType:
    """A policy reason from its API name."""
    return rp.PolicyReason.Value("POLICY_REASON_" + name.upper())


class ProfileBody(Strict):
    """A group's whole profile."""

    name: str = Field(min_length=1, max_length=64, examples=["BTC swing traders"])
    description: str = Field(default="", max_length=1000)
    avatar_url: str = Field(default="", max_length=300)
    rules: str = Field(default="", max_length=4000)
    topics: list[Annotated[str, Field(min_length=1, max_length=30)]] = Field(
        default_factory=list, max_length=5, examples=[["btc"]])
    visibility: Visibility = "public"
    join_mode: JoinModeName = "free"
    member_limit: int = Field(default=200_000, ge=1, le=200_000)

    def pb(self) -> ev.GroupProfile:
        """The API form."""
        return ev.GroupProfile(
            name=self.name, description=self.description, avatar_url=self.avatar_url,
            rules=self.rules, topics=self.topics, visibility=_VISIBILITY[self.visibility],
            join_mode=_JOIN[self.join_mode], member_limit=self.member_limit)


class FilterRuleBody(Strict):
    """A keyword or link filter: ``block`` refuses the message (422 with the rule), ``hold``
    keeps it for a moderator's review."""

    kind: Literal["keyword", "link_domain", "any_link"]
    pattern: str = Field(default="", max_length=64)
    action: Literal["block", "hold"]

    def pb(self) -> ev.FilterRule:
        """The API form."""
        return ev.FilterRule(kind=_KIND[self.kind], pattern=self.pattern,
                             action=_ACTION[self.action])


class FilterRuleOut(BaseModel):
    """A filter rule."""

    kind: str
    pattern: str
    action: str


class GroupOut(BaseModel):
    """A group as the caller sees it (``my_role`` null: not a member; ``filter_rules`` are
    shown to staff only)."""

    group_id: str
    name: str
    description: str
    avatar_url: str
    rules: str
    topics: list[str]
    visibility: str
    join_mode: str
    member_limit: int
    owner_id: str
    member_count: int
    slow_mode_s: int
    pinned: list[int]
    last_seq: int
    closed: bool
    closed_reason: str | None
    closed_note: str
    my_role: str | None
    filter_rules: list[FilterRuleOut]


def group_out(g: rpc.GroupView) -> GroupOut:
    """The API form of a group."""
    p = g.profile
    return GroupOut(
        group_id=g.group_id, name=p.name, description=p.description, avatar_url=p.avatar_url,
        rules=p.rules, topics=list(p.topics),
        visibility=_enum_name(ev.GroupVisibility, p.visibility, "GROUP_VISIBILITY_"),
        join_mode=_enum_name(ev.JoinMode, p.join_mode, "JOIN_MODE_"),
        member_limit=p.member_limit, owner_id=g.owner_id, member_count=g.member_count,
        slow_mode_s=g.slow_mode_s, pinned=list(g.pinned), last_seq=g.last_seq,
        closed=g.closed,
        closed_reason=_enum_name(rp.PolicyReason, g.closed_reason, "POLICY_REASON_")
        if g.closed else None,
        closed_note=g.closed_note, my_role=role_name(g.caller_role),
        filter_rules=[FilterRuleOut(**rule_out(r)) for r in g.filter_rules])


class GroupPageOut(BaseModel):
    """Public groups and the next page's cursor (null on the last)."""

    groups: list[GroupOut]
    next_cursor: str | None


class CommandOut(BaseModel):
    """What a command appended: the seqs of its facts (empty: a repeat changed nothing),
    the message id of a post (``held``: kept for review), an invite link's code."""

    group_id: str
    seqs: list[int]
    message_seq: int | None = None
    held: bool = False
    link_id: str | None = None


def command_out(r: rpc.CommandResult) -> CommandOut:
    """The API form of a command's result."""
    return CommandOut(group_id=r.group_id, seqs=list(r.seqs), message_seq=r.message_seq or None,
                      held=r.held, link_id=r.link_id or None)


class MemberOut(BaseModel):
    """A member (``muted_until_ms`` shown to staff only)."""

    user_id: str
    role: str | None
    rights: list[str]
    muted_until_ms: int
    joined_at_ms: int


class MemberPageOut(BaseModel):
    """Members by role then user id, and the next page's cursor (null on the last)."""

    members: list[MemberOut]
    next_cursor: str | None


def member_page_out(page: rpc.MemberPage) -> MemberPageOut:
    """The API form of a member page."""
    return MemberPageOut(members=[MemberOut(
        user_id=m.user_id, role=role_name(m.role), rights=[right_name(r) for r in m.rights],
        muted_until_ms=m.muted_until_ms, joined_at_ms=m.joined_at_ms) for m in page.members],
        next_cursor=page.next_cursor or None)


class MessageOut(BaseModel):
    """A message as history shows it (a deleted one is a tombstone: no text)."""

    seq: int
    author_id: str
    text: str
    mentions: list[str]
    reply_to: int | None
    announcement: bool
    at_ms: int
    edited_at_ms: int | None
    deleted: bool
    held: bool
    reactions: dict[str, int]
    attachments: list[Component] = Field(
        default_factory=list, description="Trading components, as in posts (none on a "
        "deleted message); a ticker's price and a link are the client's to show.")


def message_out(m: rpc.MessageView) -> MessageOut:
    """The API form of a message."""
    return MessageOut(seq=m.seq, author_id=m.author_id, text=m.text, mentions=list(m.mentions),
                      reply_to=m.reply_to or None, announcement=m.announcement, at_ms=m.at_ms,
                      edited_at_ms=m.edited_at_ms or None, deleted=m.deleted, held=m.held,
                      reactions=dict(m.reactions), attachments=attachments_out(m.attachments))


def _side(value: int) -> Literal["long", "short"]:
    return "long" if value == tc.TRADE_SIDE_LONG else "short"


def attachments_out(items: Iterable[tc.TradingComponent]) -> list[Component]:
    """The API form of a message's trading components (the shapes posts use)."""
    out: list[Component] = []
    for comp in items:
        kind = comp.WhichOneof("component")
        if kind == "ticker":
            out.append(Component(ticker=Ticker(symbol=comp.ticker.symbol)))
        elif kind == "trade_idea":
            i = comp.trade_idea
            out.append(Component(trade_idea=TradeIdea(
                pair=i.pair, side=_side(i.side), entry=i.entry, target=i.target, stop=i.stop,
                timeframe=i.timeframe)))
        elif kind == "trade_link":
            out.append(Component(trade_link=TradeLink(pair=comp.trade_link.pair,
                                                      side=_side(comp.trade_link.side))))
        elif kind == "copy_trade":
            out.append(Component(copy_trade=CopyTradeCard()))
    return out


class HistoryOut(BaseModel):
    """Messages oldest first; ``has_before`` / ``has_after``: more that way; ``last_seq``:
    the group's last seq when read (a live socket starts after it)."""

    messages: list[MessageOut]
    has_before: bool
    has_after: bool
    last_seq: int


class AdminLogEntryOut(BaseModel):
    """One moderation fact: who did what to whom, and why."""

    seq: int
    at_ms: int
    actor_id: str
    type: str
    user_id: str | None
    message_seq: int | None
    reason: str


class AdminLogOut(BaseModel):
    """Newest first; ``next_before_seq``: pass as ``before_seq`` for more (null: no more)."""

    entries: list[AdminLogEntryOut]
    next_before_seq: int | None


class UnreadOut(BaseModel):
    """One group's unread count for the caller."""

    group_id: str
    unread: int
    read_seq: int
    last_seq: int
    mentions: int


class UnreadPageOut(BaseModel):
    """The caller's unread counts per group."""

    groups: list[UnreadOut]


class PostBody(Strict):
    """A message: Markdown subset text, mentions, a reply, an announcement (announce right),
    trading components. Text may be empty when it carries components."""

    text: str = Field(default="", max_length=MAX_TEXT_FIELD, examples=["gm, BTC looks strong"])
    mentions: list[Annotated[str, Field(pattern=USER_ID_PATTERN)]] = Field(
        default_factory=list, max_length=20)
    reply_to: int = Field(default=0, ge=0, le=MAX_SEQ, description="0: not a reply.")
    announcement: bool = False
    # Bounded here against absurd bodies only: the service's limit is 4 (422 over it).
    attachments: list[Component] = Field(default_factory=list, max_length=20, description=(
        "At most 4 trading components, by the rules posts follow (a ticker's symbol 1-20 "
        "A-Z/0-9; a trade idea's pair like BTC/USDT, positive plain decimal prices in order, "
        "a timeframe of 15m 1h 4h 1d 1w; a trade link's pair like BTC/USDT). A bad one is "
        "422 ``invalid`` naming it: \"component 2 (trade_idea): entry '-1' is not a positive "
        "decimal\"."))


class EditBody(Strict):
    """A message's new text and mentions (its author only)."""

    text: str = Field(min_length=1, max_length=MAX_TEXT_FIELD)
    mentions: list[Annotated[str, Field(pattern=USER_ID_PATTERN)]] = Field(
        default_factory=list, max_length=20)


class ReasonBody(Strict):
    """Why (for the admin log)."""

    reason: Reason = ""


class TransferBody(Strict):
    """The member who becomes the owner."""

    new_owner_id: str = Field(pattern=USER_ID_PATTERN)


class JoinByLinkBody(Strict):
    """An invite link's code."""

    link_id: str = Field(pattern=LINK_ID_PATTERN)


class JoinRequestBody(Strict):
    """A note to the approvers."""

    note: str = Field(default="", max_length=500)


class DecisionBody(Strict):
    """Approve (release) or decline (reject), and why."""

    approve: bool
    reason: Reason = ""


class AddMemberBody(Strict):
    """A user to add directly (invite right)."""

    user_id: str = Field(pattern=USER_ID_PATTERN)
    reason: Reason = ""


class RoleBody(Strict):
    """A member's new role (not owner: transfer ownership) and an admin's rights."""

    role: RoleName
    rights: list[RightName] = Field(default_factory=list, max_length=11)
    reason: Reason = ""


class MuteBody(Strict):
    """A mute for a duration (1 s to 366 days)."""

    duration_s: int = Field(ge=1, le=366 * 24 * 3600, examples=[3600])
    reason: Reason = ""


class InviteLinkBody(Strict):
    """An invite link: an optional expiry and use limit, a label."""

    expires_at_ms: int = Field(default=0, ge=0, le=2**53, description="0: never expires.")
    use_limit: int = Field(default=0, ge=0, le=100_000, description="0: no limit.")
    name: str = Field(default="", max_length=64)


class SlowModeBody(Strict):
    """Seconds between a member's messages (0: off)."""

    seconds: int = Field(ge=0, le=3600, examples=[30])
    reason: Reason = ""


class FiltersBody(Strict):
    """The whole new filter rule list."""

    rules: list[FilterRuleBody] = Field(max_length=100)
    reason: Reason = ""


class ReadBody(Strict):
    """Read up to and including this seq (never backwards)."""

    read_seq: int = Field(ge=0, le=MAX_SEQ)


class ReportBody(Strict):
    """Report a member (and one of their messages) to the group's moderators, and to the
    platform's operators if asked."""

    user_id: str = Field(pattern=USER_ID_PATTERN)
    message_seq: int = Field(default=0, ge=0, le=MAX_SEQ)
    reason: ReasonName
    detail: str = Field(default="", max_length=1000)
    to_operators: bool = False


class AppealBody(Strict):
    """The owner's words against a closure."""

    text: str = Field(min_length=1, max_length=2000)


class CloseBody(Strict):
    """An operator closes a group for a policy violation."""

    reason: ReasonName
    note: str = Field(default="", max_length=500)


class AppealDecisionBody(Strict):
    """Reopen (grant) or keep closed."""

    grant: bool
    note: str = Field(default="", max_length=500)


class GroupErrorOut(BaseModel):
    """A refusal: ``code`` is stable (docs/groups.md); ``retry_after_s`` on 429 (also the
    Retry-After header), ``until_ms`` for a mute, ``rule`` for a filter, ``missing_right``."""

    error: str
    code: str | None = None
    retry_after_s: int | None = None
    until_ms: int | None = None
    missing_right: str | None = None
    rule: FilterRuleOut | None = None
