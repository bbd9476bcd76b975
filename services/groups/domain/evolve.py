"""evolve(key, state, event) -> the key's new state. Pure, per key.

``touched(event)`` names every key a fact changes (always the group's info, whose last_seq
moves with every fact, plus the member, link, request, message, reactions or rate keys the
fact is about); ``evolve`` computes one key's next value from its previous value and the fact
alone, so a store keeping any subset of keys (a partition's, a cache's) folds the log the
same way, and a store rebuilt from the log equals the live one. A fact at or below a key's
known position (info.last_seq) is a redelivery: ``apply`` skips it.
"""

from __future__ import annotations

from dataclasses import replace

from google.protobuf.message import Message

from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import rights as r
from services.groups.domain.limits import FLOOD, FloodLimit
from services.groups.domain.rate import after_message
from services.groups.domain.state import (
    GroupInfo,
    InviteLink,
    JoinRequest,
    Key,
    Keyed,
    Membership,
    MessageRecord,
    RateState,
    Reactions,
    State,
    header,
    info_key,
    link_key,
    member_key,
    message_key,
    nobody,
    profile_of,
    rate_key,
    reactions_key,
    request_key,
    rule_of,
)


class UnknownFact(TypeError):
    """A message that is no group fact."""


_USER_TARGETED = (ev.MemberJoined, ev.MemberRoleChanged, ev.MemberMuted, ev.MemberUnmuted,
                  ev.MemberKicked, ev.MemberBanned, ev.MemberUnbanned)
_INFO_ONLY = (ev.GroupCreated, ev.GroupInfoChanged, ev.SlowModeSet, ev.FilterRulesSet,
              ev.MessagePinned, ev.MessageUnpinned, ev.MemberReported, ev.GroupClosed,
              ev.GroupCloseAppealed, ev.AppealDecided)
FACTS: tuple[type[Message], ...] = (
    *_USER_TARGETED, *_INFO_ONLY, ev.OwnershipTransferred, ev.MemberLeft,
    ev.InviteLinkCreated, ev.InviteLinkRevoked, ev.JoinRequested, ev.JoinRequestDecided,
    ev.MessagePosted, ev.MessageEdited, ev.MessageDeleted, ev.MessageHeld,
    ev.HeldMessageDecided, ev.ReactionSet, ev.ReactionRemoved, ev.ReadPositionSet,
)


def touched(fact: Message) -> list[Key]:
    """Every key ``fact`` changes, the group's info first."""
    if not isinstance(fact, FACTS):
        raise UnknownFact(f"not a group fact: {type(fact).__name__}")
    g = header(fact).group_id
    keys = [info_key(g)]
    if isinstance(fact, _USER_TARGETED):
        keys.append(member_key(g, fact.user_id))
        if isinstance(fact, ev.MemberJoined) and fact.link_id:
            keys.append(link_key(g, fact.link_id))
    elif isinstance(fact, ev.MemberLeft | ev.ReadPositionSet):
        keys.append(member_key(g, fact.actor_id))
    elif isinstance(fact, ev.OwnershipTransferred):
        keys += [member_key(g, fact.actor_id), member_key(g, fact.new_owner_id)]
    elif isinstance(fact, ev.InviteLinkCreated | ev.InviteLinkRevoked):
        keys.append(link_key(g, fact.link_id))
    elif isinstance(fact, ev.JoinRequested):
        keys.append(request_key(g, fact.actor_id))
    elif isinstance(fact, ev.JoinRequestDecided):
        keys.append(request_key(g, fact.user_id))
    elif isinstance(fact, ev.MessagePosted):
        keys.append(message_key(g, fact.seq))
        if fact.released_from:
            keys.append(message_key(g, fact.released_from))
        else:
            keys.append(rate_key(g, fact.actor_id))
    elif isinstance(fact, ev.MessageHeld):
        keys += [message_key(g, fact.seq), rate_key(g, fact.actor_id)]
    elif isinstance(fact, ev.MessageEdited | ev.MessageDeleted | ev.HeldMessageDecided):
        keys.append(message_key(g, fact.message_seq))
    elif isinstance(fact, ev.ReactionSet | ev.ReactionRemoved):
        keys.append(reactions_key(g, fact.message_seq, fact.actor_id))
    return keys


def evolve(key: Key, state: State | None, fact: Message,
           flood: FloodLimit = FLOOD) -> State | None:
    """The value of ``key`` after ``fact`` (``state``: its value before; None: absent)."""
    kind = key[0]
    if kind == "info":
        return _info(state if isinstance(state, GroupInfo) else None, fact)
    if kind == "member":
        before = state if isinstance(state, Membership) else nobody(key[1], key[2])
        return _member(before, fact)
    if kind == "link":
        return _link(state if isinstance(state, InviteLink) else None, fact)
    if kind == "request":
        return _request(state if isinstance(state, JoinRequest) else None, fact)
    if kind == "message":
        return _message(int(key[2]), state if isinstance(state, MessageRecord) else None,
                        fact)
    if kind == "reactions":
        before_r = state if isinstance(state, Reactions) else Reactions(
            key[1], int(key[2]), key[3])
        return _reactions(before_r, fact)
    if kind == "rate":
        return after_message(state if isinstance(state, RateState) else None, key[1], key[2],
                             flood, header(fact).at_ms)
    raise UnknownFact(f"no such key kind: {kind}")


def apply(store: Keyed, fact: Message, flood: FloodLimit = FLOOD) -> bool:
    """Fold ``fact`` into ``store``; False (nothing changed) for a fact already applied."""
    keys = touched(fact)
    info = store.get(keys[0])
    seq = header(fact).seq
    if isinstance(info, GroupInfo) and seq <= info.last_seq:
        return False
    for key in keys:
        value = evolve(key, store.get(key), fact, flood)
        if value is None:
            store.values.pop(key, None)
        else:
            store.values[key] = value
    return True


def _info(info: GroupInfo | None, f: Message) -> GroupInfo | None:
    if isinstance(f, ev.GroupCreated):
        return GroupInfo(group_id=f.group_id, owner_id=f.actor_id,
                         profile=profile_of(f.profile), created_at_ms=f.at_ms,
                         last_seq=f.seq)
    if info is None:
        return None
    info = replace(info, last_seq=header(f).seq)
    if isinstance(f, ev.GroupInfoChanged):
        return replace(info, profile=profile_of(f.profile))
    if isinstance(f, ev.OwnershipTransferred):
        return replace(info, owner_id=f.new_owner_id)
    if isinstance(f, ev.MemberJoined):
        return replace(info, member_count=info.member_count + 1)
    if isinstance(f, ev.MemberLeft | ev.MemberKicked) or (
            isinstance(f, ev.MemberBanned) and f.was_member):
        return replace(info, member_count=max(0, info.member_count - 1))
    if isinstance(f, ev.SlowModeSet):
        return replace(info, slow_mode_s=f.seconds)
    if isinstance(f, ev.FilterRulesSet):
        return replace(info, filters=tuple(rule_of(rule) for rule in f.rules))
    if isinstance(f, ev.MessagePosted):
        return replace(info, message_count=info.message_count + 1)
    if isinstance(f, ev.MessagePinned) and f.message_seq not in info.pinned:
        return replace(info, pinned=(*info.pinned, f.message_seq))
    if isinstance(f, ev.MessageUnpinned | ev.MessageDeleted):
        return replace(info, pinned=tuple(p for p in info.pinned if p != f.message_seq))
    if isinstance(f, ev.GroupClosed):
        return replace(info, closed=True, closed_reason=f.reason, closed_note=f.note,
                       appealed=False, appeal_decided=False)
    if isinstance(f, ev.GroupCloseAppealed):
        return replace(info, appealed=True)
    if isinstance(f, ev.AppealDecided):
        if f.granted:
            return replace(info, closed=False, appeal_decided=True)
        return replace(info, appeal_decided=True)
    return info


def _member(m: Membership, f: Message) -> Membership:
    if isinstance(f, ev.MemberJoined):
        # A mute outlives leaving and coming back (no escape by rejoining), as the member's
        # rate state does (it is keyed by user, not by membership).
        return replace(m, role=f.role, rights=frozenset(), joined_at_ms=f.at_ms,
                       read_seq=f.seq)
    if isinstance(f, ev.MemberRoleChanged):
        return replace(m, role=f.role, rights=frozenset(f.rights))
    if isinstance(f, ev.OwnershipTransferred):
        if m.user_id == f.new_owner_id:
            return replace(m, role=r.OWNER, rights=frozenset())
        # The previous owner stays on as an admin with every right.
        return replace(m, role=r.ADMIN, rights=r.ALL_RIGHTS)
    if isinstance(f, ev.MemberMuted):
        return replace(m, muted_until_ms=f.until_ms)
    if isinstance(f, ev.MemberUnmuted):
        return replace(m, muted_until_ms=0)
    if isinstance(f, ev.MemberLeft | ev.MemberKicked):
        return replace(m, role=r.NONE, rights=frozenset())
    if isinstance(f, ev.MemberBanned):
        return replace(m, role=r.NONE, rights=frozenset(), banned=True, ban_reason=f.reason)
    if isinstance(f, ev.MemberUnbanned):
        return replace(m, banned=False, ban_reason="")
    if isinstance(f, ev.ReadPositionSet):
        return replace(m, read_seq=max(m.read_seq, f.read_seq))
    return m


def _link(link: InviteLink | None, f: Message) -> InviteLink | None:
    if isinstance(f, ev.InviteLinkCreated):
        return InviteLink(group_id=f.group_id, link_id=f.link_id, creator_id=f.actor_id,
                          name=f.name, expires_at_ms=f.expires_at_ms, use_limit=f.use_limit)
    if link is None:
        return None
    if isinstance(f, ev.InviteLinkRevoked):
        return replace(link, revoked=True)
    if isinstance(f, ev.MemberJoined):
        return replace(link, uses=link.uses + 1)
    return link


def _request(req: JoinRequest | None, f: Message) -> JoinRequest | None:
    if isinstance(f, ev.JoinRequested):
        return JoinRequest(group_id=f.group_id, user_id=f.actor_id, pending=True,
                           note=f.note, at_ms=f.at_ms)
    if req is not None and isinstance(f, ev.JoinRequestDecided):
        return replace(req, pending=False)
    return req


def _message(seq: int, m: MessageRecord | None, f: Message) -> MessageRecord | None:
    if isinstance(f, ev.MessagePosted | ev.MessageHeld) and f.seq == seq:
        return MessageRecord(
            group_id=f.group_id, seq=f.seq, author_id=f.actor_id, text=f.text, at_ms=f.at_ms,
            mentions=tuple(f.mentions), reply_to=f.reply_to,
            attachments=tuple(a.SerializeToString(deterministic=True) for a in f.attachments),
            announcement=isinstance(f, ev.MessagePosted) and f.announcement,
            held=isinstance(f, ev.MessageHeld),
            released_from=f.released_from if isinstance(f, ev.MessagePosted) else 0)
    if m is None:
        return None
    if isinstance(f, ev.MessagePosted):  # the release of this held message
        return replace(m, held=False, released_as=f.seq)
    if isinstance(f, ev.MessageEdited):
        return replace(m, text=f.text, mentions=tuple(f.mentions), edited_at_ms=f.at_ms)
    if isinstance(f, ev.MessageDeleted):
        # The record keeps who and when (a tombstone in history); the words go.
        return replace(m, deleted=True, text="", mentions=(), attachments=())
    if isinstance(f, ev.HeldMessageDecided) and not f.approved:
        return replace(m, held=False, rejected=True)
    return m


def _reactions(mine: Reactions, f: Message) -> Reactions | None:
    if isinstance(f, ev.ReactionSet) and f.emoji not in mine.emojis:
        return replace(mine, emojis=(*mine.emojis, f.emoji))
    if isinstance(f, ev.ReactionRemoved):
        left = tuple(e for e in mine.emojis if e != f.emoji)
        return replace(mine, emojis=left) if left else None
    return mine
