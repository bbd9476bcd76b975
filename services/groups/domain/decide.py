"""decide(command, context, now) -> the facts to append, or a Refusal. Pure.

A decision reads only what ``Context`` holds: the group's info, the actor's membership, and
when the command names them the target's membership, the invite link, the join request, the
message, the actor's reactions to it and the actor's rate state (``reads`` says which keys),
plus two facts from outside the group: whether the actor is a platform operator (service
auth) and whether they hold an open creator identity (social's, asked by the handler).

Facts are numbered here: the first gets the group's ``last_seq + 1``, the next +1, so a
group's log has no gap (the handler appends them in one transaction on the group's
partition, and the fold moves ``last_seq`` with them). Every fact carries the group, its
time (``now``) and its actor.

Checks run in one order for every command, so a refusal is predictable: the group exists
(and a private group tells a non-member only "not found"); it is not closed; the actor is
not banned and is a member; the actor holds the right; the input is valid; the target
exists and ranks below the actor; then the command's own rules. A command that would change
nothing (a second pin, an unmute of no mute) returns no fact: idempotent by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

from google.protobuf.message import Message

from planet.content.v1.reports_pb2 import POLICY_REASON_UNSPECIFIED, PolicyReason
from planet.groups.v1 import group_events_pb2 as ev
from planetkit.markdown import ChatText
from services.groups.domain import commands as c
from services.groups.domain import limits as lim
from services.groups.domain import rights as r
from services.groups.domain import validation as v
from services.groups.domain.filters import hit, read, shows_anything
from services.groups.domain.limits import FLOOD, FloodLimit
from services.groups.domain.rate import flood_wait_s, slow_mode_wait_s
from services.groups.domain.refusals import Code, Refusal
from services.groups.domain.state import (
    GroupInfo,
    InviteLink,
    JoinRequest,
    Key,
    Membership,
    MessageRecord,
    RateState,
    Reactions,
    Rule,
    State,
    header,
    info_key,
    link_key,
    member_key,
    message_key,
    nobody,
    rate_key,
    reactions_key,
    request_key,
)

Decision = list[Message] | Refusal
_S = TypeVar("_S", GroupInfo, Membership, InviteLink, JoinRequest, MessageRecord, Reactions,
             RateState)


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a decision may read (``reads(command)`` lists the keys to load)."""

    info: GroupInfo | None
    actor: Membership | None = None
    target: Membership | None = None
    link: InviteLink | None = None
    request: JoinRequest | None = None
    message: MessageRecord | None = None
    reactions: Reactions | None = None
    rate: RateState | None = None
    # The caller is a platform operator (from service auth, never from the request).
    operator: bool = False
    # The actor holds an open creator identity (social's answer; CreateGroup only).
    creator_open: bool = False
    flood: FloodLimit = FLOOD
    # The mentioned users (of the message posted, or released) who are members now.
    members_mentioned: frozenset[str] = frozenset()


def reads(command: c.Command) -> list[Key]:
    """The keys ``decide`` needs for ``command``: the handler loads them into a Context."""
    g, actor = command.group_id, command.actor_id
    keys = [info_key(g), member_key(g, actor)]
    user = getattr(command, "user_id", "") or getattr(command, "new_owner_id", "")
    if user:
        keys.append(member_key(g, user))
    if isinstance(command, c.JoinByLink | c.RevokeInviteLink | c.CreateInviteLink):
        keys.append(link_key(g, command.link_id))
    if isinstance(command, c.RequestJoin):
        keys.append(request_key(g, actor))
    if isinstance(command, c.DecideJoinRequest):
        keys.append(request_key(g, command.user_id))
    seq = getattr(command, "message_seq", 0) or getattr(command, "reply_to", 0)
    if seq:
        keys.append(message_key(g, seq))
    if isinstance(command, c.SetReaction | c.RemoveReaction):
        keys.append(reactions_key(g, command.message_seq, actor))
    if isinstance(command, c.PostMessage):
        keys.append(rate_key(g, actor))
    return keys


def load(command: c.Command, read: Callable[[Key], State | None], *, operator: bool = False,
         creator_open: bool = False, flood: FloodLimit = FLOOD) -> Context:
    """The Context for ``command`` from a store's ``read`` (the keys ``reads`` names)."""
    g, actor = command.group_id, command.actor_id
    found: dict[str, State | None] = {}
    for key in reads(command):
        kind = key[0]
        if kind == "member":
            found["actor" if key[2] == actor else "target"] = read(key)
        else:
            found[kind] = read(key)

    def typed(name: str, kind: type[_S]) -> _S | None:
        value = found.get(name)
        return value if isinstance(value, kind) else None

    message = typed("message", MessageRecord)
    mentioned: Sequence[str] = ()
    if isinstance(command, c.PostMessage) and len(command.mentions) <= lim.MAX_MENTIONS:
        mentioned = command.mentions  # more: refused by decide, so none is read
    elif isinstance(command, c.DecideHeld) and command.approve and message is not None:
        mentioned = message.mentions
    members = frozenset(
        user for user in mentioned if user
        and isinstance(m := read(member_key(g, user)), Membership) and m.is_member)
    return Context(
        info=typed("info", GroupInfo), actor=typed("actor", Membership) or nobody(g, actor),
        target=typed("target", Membership), link=typed("link", InviteLink),
        request=typed("request", JoinRequest), message=typed("message", MessageRecord),
        reactions=typed("reactions", Reactions), rate=typed("rate", RateState),
        operator=operator, creator_open=creator_open, flood=flood,
        members_mentioned=members)


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def _refuse(code: Code, message: str, *, retry_after_s: int = 0, until_ms: int = 0,
            missing_right: r.Right | None = None, rule: ev.FilterRule | None = None
            ) -> _Refused:
    return _Refused(Refusal(code, message, retry_after_s=retry_after_s, until_ms=until_ms,
                            missing_right=missing_right, rule=rule))


def decide(command: c.Command, ctx: Context, now_ms: int) -> Decision:
    """The facts ``command`` appends (numbered from the group's next seq), or why not."""
    try:
        facts = _decide(command, ctx, now_ms)
    except _Refused as refused:
        return refused.refusal
    except v.Invalid as invalid:
        return Refusal(Code.INVALID, str(invalid))
    base = ctx.info.last_seq if ctx.info is not None else 0
    for i, fact in enumerate(facts):
        head = header(fact)
        head.group_id = command.group_id
        head.seq = base + i + 1
        head.at_ms = now_ms
        if not head.actor_id:
            head.actor_id = command.actor_id
    return facts


# --- gates ---------------------------------------------------------------------------------

def _actor(ctx: Context, command: c.Command) -> Membership:
    return ctx.actor or nobody(command.group_id, command.actor_id)


def _exists(ctx: Context) -> GroupInfo:
    if ctx.info is None:
        raise _refuse(Code.NOT_FOUND, "no such group")
    return ctx.info


def _open(ctx: Context, actor: Membership) -> GroupInfo:
    info = _exists(ctx)
    if info.closed:
        if info.profile.private and not actor.is_member:
            raise _refuse(Code.NOT_FOUND, "no such group")
        raise _refuse(Code.GROUP_CLOSED, "this group was closed by the platform's operators")
    return info


def _member(info: GroupInfo, actor: Membership) -> None:
    if actor.banned:
        raise _refuse(Code.BANNED, "you are banned from this group")
    if not actor.is_member:
        if info.profile.private:
            raise _refuse(Code.NOT_FOUND, "no such group")
        raise _refuse(Code.NOT_MEMBER, "join the group first")


def _right(actor: Membership, right: r.Right) -> None:
    if right not in actor.effective_rights:
        raise _refuse(Code.FORBIDDEN, f"this needs the {r.right_name(right)} right",
                      missing_right=right)


def _staff_member(ctx: Context, command: c.Command, right: r.Right) -> tuple[GroupInfo,
                                                                           Membership]:
    actor = _actor(ctx, command)
    info = _open(ctx, actor)
    _member(info, actor)
    _right(actor, right)
    return info, actor


def _target(ctx: Context, command: c.Command, user: str, actor: Membership) -> Membership:
    v.bounded(user, "user_id", lim.MAX_ID_CHARS, least=1)
    if user == actor.user_id:
        raise v.Invalid("you cannot do this to yourself")
    # The context's target is the member ``reads`` named; any other user is read as unknown.
    if ctx.target is not None and ctx.target.user_id == user:
        return ctx.target
    return nobody(command.group_id, user)


def _outranks(actor: Membership, target: Membership) -> None:
    if r.rank(target.role) >= r.rank(actor.role):
        raise _refuse(Code.FORBIDDEN, "you cannot act on a member of your rank or above")


def _target_member(target: Membership) -> None:
    if not target.is_member:
        raise _refuse(Code.TARGET_NOT_MEMBER, "that user is not a member")


def _room(info: GroupInfo) -> None:
    if info.member_count >= info.profile.member_limit:
        raise _refuse(Code.MEMBER_LIMIT,
                      f"the group is full ({info.profile.member_limit} members)")


def _reason(text: str) -> str:
    return v.bounded(text, "reason", lim.MAX_REASON_CHARS)


def _message(ctx: Context, seq: int) -> MessageRecord:
    m = ctx.message
    if m is None or m.seq != seq or m.deleted or m.rejected or m.released_as:
        raise _refuse(Code.NO_SUCH_MESSAGE, "no such message")
    return m


def _visible(ctx: Context, seq: int) -> MessageRecord:
    m = _message(ctx, seq)
    if m.held:
        raise _refuse(Code.NO_SUCH_MESSAGE, "no such message")
    return m


# --- the commands --------------------------------------------------------------------------

def _decide(cmd: c.Command, ctx: Context, now: int) -> list[Message]:
    if isinstance(cmd, c.CreateGroup):
        return _create(cmd, ctx)
    if isinstance(cmd, c.CloseGroup | c.DecideAppeal):
        return _operator(cmd, ctx)
    if isinstance(cmd, c.AppealClosure):
        return _appeal(cmd, ctx)
    if isinstance(cmd, c.Join | c.JoinByLink | c.RequestJoin):
        return _join(cmd, ctx, now)
    if isinstance(cmd, c.Leave):
        actor = _actor(ctx, cmd)
        _member(_exists(ctx), actor)
        if actor.role == r.OWNER:
            raise _refuse(Code.OWNER_MUST_TRANSFER,
                          "transfer the ownership to another member before leaving")
        return [ev.MemberLeft()]
    if isinstance(cmd, c.UpdateInfo | c.TransferOwnership | c.SetRole | c.SetSlowMode
                  | c.SetFilters):
        return _settings(cmd, ctx)
    if isinstance(cmd, c.DecideJoinRequest | c.AddMember | c.Mute | c.Unmute | c.Kick | c.Ban
                  | c.Unban):
        return _members(cmd, ctx, now)
    if isinstance(cmd, c.CreateInviteLink | c.RevokeInviteLink):
        return _links(cmd, ctx, now)
    if isinstance(cmd, c.PostMessage):
        return _post(cmd, ctx, now)
    return _messages(cmd, ctx, now)


def _create(cmd: c.CreateGroup, ctx: Context) -> list[Message]:
    v.group_id(cmd.group_id)
    if not ctx.creator_open:
        raise _refuse(Code.NOT_CREATOR, "open a creator identity to create a group")
    if ctx.info is not None:
        raise _refuse(Code.ALREADY_EXISTS, "a group with this id exists")
    profile = v.profile(cmd.profile)
    return [ev.GroupCreated(profile=profile.pb()),
            ev.MemberJoined(user_id=cmd.actor_id, how=ev.JOIN_HOW_CREATED, role=r.OWNER)]


def _operator(cmd: c.CloseGroup | c.DecideAppeal, ctx: Context) -> list[Message]:
    info = _exists(ctx)
    if not ctx.operator:
        raise _refuse(Code.FORBIDDEN, "only the platform's operators may do this")
    if isinstance(cmd, c.CloseGroup):
        if cmd.reason == POLICY_REASON_UNSPECIFIED or cmd.reason not in PolicyReason.values():
            raise v.Invalid("a closure names the policy it enforces")
        note = v.bounded(cmd.note, "note", lim.MAX_DETAIL_CHARS)
        return [] if info.closed else [ev.GroupClosed(reason=cmd.reason, note=note)]
    if not info.closed:
        raise _refuse(Code.NOT_CLOSED, "the group is not closed")
    if not info.appealed:
        raise _refuse(Code.NO_APPEAL, "the closure was not appealed")
    if info.appeal_decided:
        raise _refuse(Code.APPEAL_EXISTS, "the appeal was decided: an appeal is decided once")
    return [ev.AppealDecided(granted=cmd.grant,
                             note=v.bounded(cmd.note, "note", lim.MAX_DETAIL_CHARS))]


def _appeal(cmd: c.AppealClosure, ctx: Context) -> list[Message]:
    actor = _actor(ctx, cmd)
    info = _exists(ctx)
    _member(info, actor)
    if actor.role != r.OWNER:
        raise _refuse(Code.FORBIDDEN, "only the owner appeals a closure")
    if not info.closed:
        raise _refuse(Code.NOT_CLOSED, "the group is not closed")
    if info.appealed:
        raise _refuse(Code.APPEAL_EXISTS, "this closure was appealed: an appeal is made once")
    return [ev.GroupCloseAppealed(
        text=v.bounded(cmd.text, "appeal", lim.MAX_APPEAL_CHARS, least=1))]


def _join(cmd: c.Join | c.JoinByLink | c.RequestJoin, ctx: Context,
          now: int) -> list[Message]:
    actor = _actor(ctx, cmd)
    info = _exists(ctx)
    private = info.profile.private
    if isinstance(cmd, c.JoinByLink):
        link = ctx.link
        if link is None or link.link_id != cmd.link_id:
            if private and not actor.is_member:
                raise _refuse(Code.NOT_FOUND, "no such group")
            raise _refuse(Code.LINK_NOT_FOUND, "no such invite link")
    elif private and not actor.is_member and not actor.banned:
        raise _refuse(Code.NOT_FOUND, "no such group")
    info = _open(ctx, actor)
    # The ban comes first: a banned user is refused by every way in, any link included.
    if actor.banned:
        raise _refuse(Code.BANNED, "you are banned from this group")
    if actor.is_member:
        raise _refuse(Code.ALREADY_MEMBER, "you are a member already")
    if isinstance(cmd, c.RequestJoin):
        if info.profile.join_mode != ev.JOIN_MODE_REQUEST:
            raise _refuse(Code.JOIN_MODE, "this group does not take join requests")
        if ctx.request is not None and ctx.request.pending:
            raise _refuse(Code.REQUEST_PENDING, "your request is waiting for an approver")
        return [ev.JoinRequested(note=v.bounded(cmd.note, "note", lim.MAX_NOTE_CHARS))]
    if isinstance(cmd, c.Join):
        if info.profile.join_mode != ev.JOIN_MODE_FREE:
            raise _refuse(Code.JOIN_MODE, "this group admits by request or invitation only")
        _room(info)
        return [ev.MemberJoined(user_id=cmd.actor_id, how=ev.JOIN_HOW_FREE, role=r.MEMBER)]
    link = cast(InviteLink, ctx.link)
    if link.revoked:
        raise _refuse(Code.LINK_REVOKED, "this invite link was revoked")
    if link.expires_at_ms and link.expires_at_ms <= now:
        raise _refuse(Code.LINK_EXPIRED, "this invite link has expired")
    if link.use_limit and link.uses >= link.use_limit:
        raise _refuse(Code.LINK_USED_UP, "this invite link has been used up")
    _room(info)
    return [ev.MemberJoined(user_id=cmd.actor_id, how=ev.JOIN_HOW_LINK, role=r.MEMBER,
                            link_id=link.link_id)]


def _settings(cmd: c.UpdateInfo | c.TransferOwnership | c.SetRole | c.SetSlowMode
              | c.SetFilters, ctx: Context) -> list[Message]:
    if isinstance(cmd, c.UpdateInfo):
        info, _ = _staff_member(ctx, cmd, r.CHANGE_INFO)
        profile = v.profile(cmd.profile, info.member_count)
        return [] if profile == info.profile else [ev.GroupInfoChanged(profile=profile.pb())]
    if isinstance(cmd, c.SetSlowMode):
        info, _ = _staff_member(ctx, cmd, r.SLOW_MODE)
        if not 0 <= cmd.seconds <= lim.MAX_SLOW_MODE_S:
            raise v.Invalid(f"slow mode is 0 to {lim.MAX_SLOW_MODE_S} seconds")
        if cmd.seconds == info.slow_mode_s:
            return []
        return [ev.SlowModeSet(seconds=cmd.seconds, reason=_reason(cmd.reason))]
    if isinstance(cmd, c.SetFilters):
        info, _ = _staff_member(ctx, cmd, r.FILTERS)
        rules = v.rules(cmd.rules)
        if rules == info.filters:
            return []
        return [ev.FilterRulesSet(rules=[rule.pb() for rule in rules],
                                  reason=_reason(cmd.reason))]
    actor = _actor(ctx, cmd)
    info = _open(ctx, actor)
    _member(info, actor)
    if isinstance(cmd, c.TransferOwnership):
        if actor.role != r.OWNER:
            raise _refuse(Code.FORBIDDEN, "only the owner transfers the ownership")
        target = _target(ctx, cmd, cmd.new_owner_id, actor)
        _target_member(target)
        return [ev.OwnershipTransferred(new_owner_id=cmd.new_owner_id)]
    return _set_role(cmd, ctx, actor)


def _set_role(cmd: c.SetRole, ctx: Context, actor: Membership) -> list[Message]:
    if actor.role != r.OWNER:
        _right(actor, r.PROMOTE)
    if cmd.role not in (r.MEMBER, r.MODERATOR, r.ADMIN):
        raise v.Invalid("a role is member, moderator or admin (see TransferOwnership)")
    if cmd.role != r.ADMIN and cmd.rights:
        raise v.Invalid("only admins hold rights")
    if not cmd.rights <= r.ALL_RIGHTS:
        raise v.Invalid("unknown right")
    target = _target(ctx, cmd, cmd.user_id, actor)
    _target_member(target)
    _outranks(actor, target)
    if actor.role != r.OWNER and cmd.role not in (r.MEMBER, r.MODERATOR):
        raise _refuse(Code.FORBIDDEN, "only the owner appoints admins")
    rights = cmd.rights if cmd.role == r.ADMIN else frozenset()
    if target.role == cmd.role and target.rights == rights:
        return []
    return [ev.MemberRoleChanged(user_id=cmd.user_id, role=cmd.role, rights=sorted(rights),
                                 reason=_reason(cmd.reason))]


def _members(cmd: c.DecideJoinRequest | c.AddMember | c.Mute | c.Unmute | c.Kick | c.Ban
             | c.Unban, ctx: Context, now: int) -> list[Message]:
    right = {c.DecideJoinRequest: r.APPROVE, c.AddMember: r.INVITE, c.Mute: r.RESTRICT,
             c.Unmute: r.RESTRICT}.get(type(cmd), r.BAN)
    info, actor = _staff_member(ctx, cmd, right)
    target = _target(ctx, cmd, cmd.user_id, actor)
    reason = _reason(cmd.reason)
    if isinstance(cmd, c.DecideJoinRequest | c.AddMember):
        if isinstance(cmd, c.DecideJoinRequest):
            req = ctx.request
            if req is None or req.user_id != cmd.user_id or not req.pending:
                raise _refuse(Code.NO_REQUEST, "no pending request from that user")
            if not cmd.approve:
                return [ev.JoinRequestDecided(user_id=cmd.user_id, approved=False,
                                              reason=reason)]
        if target.banned:
            raise _refuse(Code.TARGET_BANNED, "that user is banned: unban them first")
        if target.is_member:
            raise _refuse(Code.ALREADY_MEMBER, "that user is a member already")
        _room(info)
        if isinstance(cmd, c.AddMember):
            return [ev.MemberJoined(user_id=cmd.user_id, how=ev.JOIN_HOW_INVITE,
                                    role=r.MEMBER)]
        return [ev.JoinRequestDecided(user_id=cmd.user_id, approved=True, reason=reason),
                ev.MemberJoined(user_id=cmd.user_id, how=ev.JOIN_HOW_REQUEST_APPROVED,
                                role=r.MEMBER)]
    if isinstance(cmd, c.Ban):
        if target.banned:
            return []
        if target.is_member:
            _outranks(actor, target)
        return [ev.MemberBanned(user_id=cmd.user_id, reason=reason,
                                was_member=target.is_member)]
    if isinstance(cmd, c.Unban):
        return [ev.MemberUnbanned(user_id=cmd.user_id, reason=reason)] if target.banned else []
    _target_member(target)
    _outranks(actor, target)
    if isinstance(cmd, c.Mute):
        if not 0 < cmd.duration_s <= lim.MAX_MUTE_S:
            raise v.Invalid("a mute lasts 1 second to 366 days")
        return [ev.MemberMuted(user_id=cmd.user_id, until_ms=now + cmd.duration_s * 1_000,
                               reason=reason)]
    if isinstance(cmd, c.Unmute):
        if not target.muted_at(now):
            return []
        return [ev.MemberUnmuted(user_id=cmd.user_id, reason=reason)]
    return [ev.MemberKicked(user_id=cmd.user_id, reason=reason)]


def _links(cmd: c.CreateInviteLink | c.RevokeInviteLink, ctx: Context,
           now: int) -> list[Message]:
    _staff_member(ctx, cmd, r.INVITE)
    if isinstance(cmd, c.RevokeInviteLink):
        link = ctx.link
        if link is None or link.link_id != cmd.link_id:
            raise _refuse(Code.LINK_NOT_FOUND, "no such invite link")
        if link.revoked:
            return []
        return [ev.InviteLinkRevoked(link_id=cmd.link_id, reason=_reason(cmd.reason))]
    v.link_id(cmd.link_id)
    if ctx.link is not None:
        raise _refuse(Code.ALREADY_EXISTS, "an invite link with this code exists")
    if cmd.expires_at_ms and cmd.expires_at_ms <= now:
        raise v.Invalid("the expiry must be in the future (or 0 for none)")
    if not 0 <= cmd.use_limit <= lim.MAX_LINK_USES:
        raise v.Invalid(f"a use limit is 0 (none) to {lim.MAX_LINK_USES}")
    return [ev.InviteLinkCreated(
        link_id=cmd.link_id, expires_at_ms=cmd.expires_at_ms, use_limit=cmd.use_limit,
        name=v.bounded(cmd.name, "name", lim.MAX_LINK_NAME_CHARS))]


def _text(text: str, has_attachments: bool) -> ChatText:
    """The message read by the parser; refused when too long, or when it shows nothing and
    carries no attachment (markup alone, like an empty list item "-", is empty too)."""
    if len(text) > lim.MAX_TEXT_CHARS:
        raise _refuse(Code.TOO_LONG,
                      f"a message is at most {lim.MAX_TEXT_CHARS} characters, "
                      f"this one has {len(text)}")
    v.bounded(text, "text", lim.MAX_TEXT_CHARS)
    chat = read(text)
    if not shows_anything(chat) and not has_attachments:
        raise _refuse(Code.EMPTY, "a message needs text or an attachment")
    return chat


def _may_post(ctx: Context, cmd: c.Command, now: int) -> tuple[GroupInfo, Membership]:
    actor = _actor(ctx, cmd)
    info = _open(ctx, actor)
    _member(info, actor)
    return info, actor


def _not_muted(actor: Membership, now: int) -> None:
    if actor.muted_at(now):
        raise _refuse(Code.MUTED, "you are muted in this group", until_ms=actor.muted_until_ms)


def _post(cmd: c.PostMessage, ctx: Context, now: int) -> list[Message]:
    info, actor = _may_post(ctx, cmd, now)
    if cmd.announcement:
        _right(actor, r.ANNOUNCE)
    _not_muted(actor, now)
    chat = _text(cmd.text, bool(cmd.attachments))
    text = cmd.text
    mentions = v.mentions(cmd.mentions)
    components = list(v.attachments(cmd.attachments))
    if cmd.reply_to:
        _visible(ctx, cmd.reply_to)
    staff = actor.role in r.STAFF
    if not staff:
        wait = slow_mode_wait_s(ctx.rate, info.slow_mode_s, now)
        if wait:
            raise _refuse(Code.SLOW_MODE, f"slow mode: wait {wait} s", retry_after_s=wait)
    wait = flood_wait_s(ctx.rate, ctx.flood, now)
    if wait:
        raise _refuse(Code.FLOOD, f"too many messages: wait {wait} s", retry_after_s=wait)
    rule = None if staff else hit(chat, info.filters)
    if rule is not None and rule.action == ev.FILTER_ACTION_BLOCK:
        raise _refuse(Code.FILTERED, _hit_message(rule), rule=rule.pb())
    if rule is not None:
        return [ev.MessageHeld(text=text, mentions=mentions, reply_to=cmd.reply_to,
                               attachments=components, rule=rule.pb())]
    return [ev.MessagePosted(text=text, mentions=mentions, reply_to=cmd.reply_to,
                             attachments=components, announcement=cmd.announcement,
                             notified=_notified(mentions, ctx, actor.user_id))]


def _notified(mentions: Sequence[str], ctx: Context, author: str) -> list[str]:
    """The mentions social notifies: members other than the author, in the order written."""
    return [user for user in mentions if user in ctx.members_mentioned and user != author]


def _hit_message(rule: Rule) -> str:
    what = {ev.FILTER_KIND_KEYWORD: f"the word {rule.pattern!r}",
            ev.FILTER_KIND_LINK_DOMAIN: f"links to {rule.pattern}",
            ev.FILTER_KIND_ANY_LINK: "links"}.get(rule.kind, "a filter")
    return f"this group does not allow {what}"


def _messages(cmd: c.Command, ctx: Context, now: int) -> list[Message]:
    info, actor = _may_post(ctx, cmd, now)
    if isinstance(cmd, c.EditMessage):
        m = _message(ctx, cmd.message_seq)
        if m.author_id != actor.user_id:
            raise _refuse(Code.NOT_AUTHOR, "only the author edits a message")
        if m.held:
            raise v.Invalid("a held message is edited once a moderator has released it")
        _not_muted(actor, now)
        chat = _text(cmd.text, bool(m.attachments))
        mentions = v.mentions(cmd.mentions)
        # An edit that a filter would block or hold is refused: a held edit would hide a
        # message others already answered.
        rule = None if actor.role in r.STAFF else hit(chat, info.filters)
        if rule is not None:
            raise _refuse(Code.FILTERED, _hit_message(rule), rule=rule.pb())
        return [ev.MessageEdited(message_seq=m.seq, text=cmd.text, mentions=mentions)]
    if isinstance(cmd, c.DeleteMessage):
        m = _message(ctx, cmd.message_seq)
        if m.author_id == actor.user_id:
            return [ev.MessageDeleted(message_seq=m.seq, by=ev.DELETED_BY_AUTHOR,
                                      author_id=m.author_id, reason=_reason(cmd.reason))]
        _right(actor, r.DELETE_MESSAGES)
        return [ev.MessageDeleted(message_seq=m.seq, by=ev.DELETED_BY_MODERATOR,
                                  author_id=m.author_id, reason=_reason(cmd.reason))]
    if isinstance(cmd, c.DecideHeld):
        _right(actor, r.DELETE_MESSAGES)
        m = _message(ctx, cmd.message_seq)
        if not m.held:
            raise _refuse(Code.NOT_HELD, "that message is not held for review")
        decided = ev.HeldMessageDecided(message_seq=m.seq, approved=cmd.approve,
                                        author_id=m.author_id, reason=_reason(cmd.reason))
        if not cmd.approve:
            return [decided]
        return [decided, ev.MessagePosted(
            actor_id=m.author_id, text=m.text, mentions=m.mentions, reply_to=m.reply_to,
            attachments=m.attachment_pbs(), released_from=m.seq,
            notified=_notified(m.mentions, ctx, m.author_id))]
    if isinstance(cmd, c.SetReaction | c.RemoveReaction):
        return _react(cmd, ctx, actor, now)
    if isinstance(cmd, c.Pin | c.Unpin):
        _right(actor, r.PIN)
        if isinstance(cmd, c.Unpin):
            return [ev.MessageUnpinned(message_seq=cmd.message_seq)] if (
                cmd.message_seq in info.pinned) else []
        m = _visible(ctx, cmd.message_seq)
        if m.seq in info.pinned:
            return []
        if len(info.pinned) >= lim.MAX_PINS:
            raise _refuse(Code.PIN_LIMIT, f"at most {lim.MAX_PINS} pinned messages: unpin one")
        return [ev.MessagePinned(message_seq=m.seq)]
    if isinstance(cmd, c.SetReadPosition):
        if not 0 < cmd.read_seq <= info.last_seq:
            raise v.Invalid(f"a read position is 1 to {info.last_seq}")
        if cmd.read_seq <= actor.read_seq:
            return []
        return [ev.ReadPositionSet(read_seq=cmd.read_seq)]
    assert isinstance(cmd, c.Report)
    return _report(cmd, ctx, actor)


def _react(cmd: c.SetReaction | c.RemoveReaction, ctx: Context, actor: Membership,
           now: int) -> list[Message]:
    emoji = v.emoji(cmd.emoji)
    mine = ctx.reactions.emojis if ctx.reactions is not None else ()
    if isinstance(cmd, c.RemoveReaction):
        _message(ctx, cmd.message_seq)
        return [ev.ReactionRemoved(message_seq=cmd.message_seq, emoji=emoji)] if (
            emoji in mine) else []
    _not_muted(actor, now)
    m = _visible(ctx, cmd.message_seq)
    if emoji in mine:
        return []
    if len(mine) >= lim.MAX_REACTIONS_PER_MEMBER:
        raise _refuse(Code.REACTION_LIMIT,
                      f"at most {lim.MAX_REACTIONS_PER_MEMBER} reactions per message")
    return [ev.ReactionSet(message_seq=m.seq, emoji=emoji, author_id=m.author_id)]


def _report(cmd: c.Report, ctx: Context, actor: Membership) -> list[Message]:
    if cmd.reason == POLICY_REASON_UNSPECIFIED or cmd.reason not in PolicyReason.values():
        raise v.Invalid("a report names the policy it breaks")
    detail = v.bounded(cmd.detail, "detail", lim.MAX_DETAIL_CHARS)
    user = cmd.user_id
    if cmd.message_seq:
        # A reported message names its author, whatever the request says.
        user = _message(ctx, cmd.message_seq).author_id
        if user == actor.user_id:
            raise v.Invalid("you cannot do this to yourself")
    else:
        _target_member(_target(ctx, cmd, user, actor))
    return [ev.MemberReported(user_id=user, message_seq=cmd.message_seq, reason=cmd.reason,
                              detail=detail, to_operators=cmd.to_operators)]
