"""How a partition's group state is laid out in its key-value store (pure): keys as bytes
that sort the way reads scan them, values as planet.groups.v1 state messages.

Key layout (the group id's alphabet has no NUL, so a group's keys never run into another's;
user ids and link codes come last, so they may hold any character):

    i<group>                          the group's info
    m<group>\\0<user>                  a membership
    l<group>\\0<link code>             an invite link
    r<group>\\0<user>                  a join request
    s<group>\\0<seq: 8 bytes BE>       a message (a group's messages in seq order: history
                                       scans a range around any seq, both ways)
    x<group>\\0<seq: 8 bytes BE><user> one member's reactions to one message (a message's
                                       reactions are one prefix scan: its counts)
    t<group>\\0<user>                  a member's rate state

``FORMAT`` names the layout: a store written under another format is rebuilt from the log.
"""

from __future__ import annotations

import struct

from planet.content.v1.events_pb2 import TradingComponent
from planet.groups.v1 import state_pb2 as pb
from services.groups.domain.state import (
    GroupInfo,
    InviteLink,
    JoinRequest,
    Key,
    Membership,
    MessageRecord,
    RateState,
    Reactions,
    State,
    profile_of,
    rule_of,
)

FORMAT = b"groups-state/1"
_SEQ = struct.Struct(">Q")
_PREFIX = {"info": b"i", "member": b"m", "link": b"l", "request": b"r", "message": b"s",
           "reactions": b"x", "rate": b"t"}
_KIND = {v: k for k, v in _PREFIX.items()}


def key_bytes(key: Key) -> bytes:
    """The stored form of a state key."""
    kind, group, *rest = key
    head = _PREFIX[kind] + group.encode()
    if kind == "info":
        return head
    if kind == "message":
        return head + b"\0" + _SEQ.pack(int(rest[0]))
    if kind == "reactions":
        return head + b"\0" + _SEQ.pack(int(rest[0])) + rest[1].encode()
    return head + b"\0" + rest[0].encode()


def key_from_bytes(raw: bytes) -> Key:
    """The state key a stored key is; ValueError when it is none."""
    kind = _KIND.get(raw[:1])
    if kind is None:
        raise ValueError(f"not a group state key: {raw[:16]!r}")
    if kind == "info":
        return (kind, raw[1:].decode())
    group, sep, rest = raw[1:].partition(b"\0")
    if not sep:
        raise ValueError(f"not a group state key: {raw[:16]!r}")
    if kind in ("message", "reactions"):
        if len(rest) < _SEQ.size or (kind == "message" and len(rest) != _SEQ.size):
            raise ValueError(f"not a group state key: {raw[:16]!r}")
        (seq,) = _SEQ.unpack(rest[:_SEQ.size])
        tail = (rest[_SEQ.size:].decode(),) if kind == "reactions" else ()
        return (kind, group.decode(), str(seq), *tail)
    return (kind, group.decode(), rest.decode())


def message_range(group: str, from_seq: int, to_seq: int) -> tuple[bytes, bytes]:
    """The stored keys of ``group``'s messages from_seq..to_seq (inclusive, exclusive end)."""
    head = _PREFIX["message"] + group.encode() + b"\0"
    return head + _SEQ.pack(from_seq), head + _SEQ.pack(to_seq + 1)


def encode(state: State) -> bytes:
    """The stored form of a state value (deterministic: equal states, equal bytes)."""
    return _pb(state).SerializeToString(deterministic=True)


def decode(key: Key, raw: bytes) -> State:
    """The state stored under ``key``."""
    kind = key[0]
    if kind == "info":
        i = pb.GroupInfoState.FromString(raw)
        return GroupInfo(
            group_id=i.group_id, owner_id=i.owner_id, profile=profile_of(i.profile),
            created_at_ms=i.created_at_ms, last_seq=i.last_seq, member_count=i.member_count,
            message_count=i.message_count, slow_mode_s=i.slow_mode_s,
            filters=tuple(rule_of(f) for f in i.filters), pinned=tuple(i.pinned),
            closed=i.closed, closed_reason=i.closed_reason, closed_note=i.closed_note,
            appealed=i.appealed, appeal_decided=i.appeal_decided)
    if kind == "member":
        m = pb.MembershipState.FromString(raw)
        return Membership(group_id=m.group_id, user_id=m.user_id, role=m.role,
                          rights=frozenset(m.rights), joined_at_ms=m.joined_at_ms,
                          muted_until_ms=m.muted_until_ms, banned=m.banned,
                          ban_reason=m.ban_reason, read_seq=m.read_seq)
    if kind == "link":
        k = pb.InviteLinkState.FromString(raw)
        return InviteLink(group_id=k.group_id, link_id=k.link_id, creator_id=k.creator_id,
                          name=k.name, expires_at_ms=k.expires_at_ms, use_limit=k.use_limit,
                          uses=k.uses, revoked=k.revoked)
    if kind == "request":
        q = pb.JoinRequestState.FromString(raw)
        return JoinRequest(group_id=q.group_id, user_id=q.user_id, pending=q.pending,
                           note=q.note, at_ms=q.at_ms)
    if kind == "message":
        s = pb.MessageState.FromString(raw)
        return MessageRecord(
            group_id=s.group_id, seq=s.seq, author_id=s.author_id, text=s.text, at_ms=s.at_ms,
            mentions=tuple(s.mentions), reply_to=s.reply_to,
            attachments=tuple(a.SerializeToString(deterministic=True) for a in s.attachments),
            announcement=s.announcement, edited_at_ms=s.edited_at_ms, deleted=s.deleted,
            held=s.held, rejected=s.rejected, released_as=s.released_as,
            released_from=s.released_from)
    if kind == "reactions":
        x = pb.ReactionsState.FromString(raw)
        return Reactions(group_id=x.group_id, message_seq=x.message_seq, user_id=x.user_id,
                         emojis=tuple(x.emojis))
    if kind == "rate":
        t = pb.RateStateRecord.FromString(raw)
        return RateState(group_id=t.group_id, user_id=t.user_id,
                         last_message_ms=t.last_message_ms, credit_ms=t.credit_ms)
    raise ValueError(f"no such key kind: {kind}")


def _pb(state: State) -> pb.GroupInfoState | pb.MembershipState | pb.InviteLinkState | (
        pb.JoinRequestState | pb.MessageState | pb.ReactionsState | pb.RateStateRecord):
    if isinstance(state, GroupInfo):
        return pb.GroupInfoState(
            group_id=state.group_id, owner_id=state.owner_id, profile=state.profile.pb(),
            created_at_ms=state.created_at_ms, last_seq=state.last_seq,
            member_count=state.member_count, message_count=state.message_count,
            slow_mode_s=state.slow_mode_s, filters=[f.pb() for f in state.filters],
            pinned=list(state.pinned), closed=state.closed,
            closed_reason=state.closed_reason, closed_note=state.closed_note,
            appealed=state.appealed, appeal_decided=state.appeal_decided)
    if isinstance(state, Membership):
        return pb.MembershipState(
            group_id=state.group_id, user_id=state.user_id, role=state.role,
            rights=sorted(state.rights), joined_at_ms=state.joined_at_ms,
            muted_until_ms=state.muted_until_ms, banned=state.banned,
            ban_reason=state.ban_reason, read_seq=state.read_seq)
    if isinstance(state, InviteLink):
        return pb.InviteLinkState(
            group_id=state.group_id, link_id=state.link_id, creator_id=state.creator_id,
            name=state.name, expires_at_ms=state.expires_at_ms, use_limit=state.use_limit,
            uses=state.uses, revoked=state.revoked)
    if isinstance(state, JoinRequest):
        return pb.JoinRequestState(group_id=state.group_id, user_id=state.user_id,
                                   pending=state.pending, note=state.note, at_ms=state.at_ms)
    if isinstance(state, MessageRecord):
        return pb.MessageState(
            group_id=state.group_id, seq=state.seq, author_id=state.author_id,
            text=state.text, at_ms=state.at_ms, mentions=list(state.mentions),
            reply_to=state.reply_to,
            attachments=[TradingComponent.FromString(a) for a in state.attachments],
            announcement=state.announcement, edited_at_ms=state.edited_at_ms,
            deleted=state.deleted, held=state.held, rejected=state.rejected,
            released_as=state.released_as, released_from=state.released_from)
    if isinstance(state, Reactions):
        return pb.ReactionsState(group_id=state.group_id, message_seq=state.message_seq,
                                 user_id=state.user_id, emojis=list(state.emojis))
    return pb.RateStateRecord(group_id=state.group_id, user_id=state.user_id,
                              last_message_ms=state.last_message_ms, credit_ms=state.credit_ms)
