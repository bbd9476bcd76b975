"""The state of one group, per key, each value bounded (issue 15's "state scales out").

Keys (tuples, the store's codec turns them into bytes):

- ``("info", group)``: the group's profile, settings, counters, pins, closure (``GroupInfo``).
- ``("member", group, user)``: one user's membership, ban, mute and read position.
- ``("link", group, link_id)``: one invite link's limits and uses.
- ``("request", group, user)``: one join request.
- ``("message", group, seq)``: one message (text whole: at most 4096 characters).
- ``("reactions", group, seq, user)``: one member's reactions to one message (at most 3).
- ``("rate", group, user)``: one member's slow-mode time and flood credit.

No value holds a list that grows with the membership or the history: counts are integers,
pins are at most 20, and every per-user fact lives under that user's own key. A decision reads
the group's info and a handful of keys (services/groups/domain/context.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, cast

from google.protobuf.message import Message

from planet.content.v1.events_pb2 import TradingComponent
from planet.content.v1.reports_pb2 import POLICY_REASON_UNSPECIFIED, PolicyReason
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import rights as r

Key = tuple[str, ...]


class FactHeader(Protocol):
    """The four fields every group fact starts with (group_events.proto)."""

    group_id: str
    seq: int
    at_ms: int
    actor_id: str


def header(fact: Message) -> FactHeader:
    """``fact``'s header fields (every planet.groups.v1 fact has them)."""
    return cast(FactHeader, fact)


def info_key(group: str) -> Key:
    """The group's info."""
    return ("info", group)


def member_key(group: str, user: str) -> Key:
    """One user's membership."""
    return ("member", group, user)


def link_key(group: str, link_id: str) -> Key:
    """One invite link."""
    return ("link", group, link_id)


def request_key(group: str, user: str) -> Key:
    """One join request."""
    return ("request", group, user)


def message_key(group: str, seq: int) -> Key:
    """One message, by its seq."""
    return ("message", group, str(seq))


def reactions_key(group: str, seq: int, user: str) -> Key:
    """One member's reactions to one message."""
    return ("reactions", group, str(seq), user)


def rate_key(group: str, user: str) -> Key:
    """One member's rate state."""
    return ("rate", group, user)


@dataclass(frozen=True, slots=True)
class Rule:
    """One filter rule (kind, normalized pattern, action)."""

    kind: ev.FilterKind.ValueType
    pattern: str
    action: ev.FilterAction.ValueType

    def pb(self) -> ev.FilterRule:
        """The event form."""
        return ev.FilterRule(kind=self.kind, pattern=self.pattern, action=self.action)


def rule_of(pb: ev.FilterRule) -> Rule:
    """The state form of an event's rule."""
    return Rule(kind=pb.kind, pattern=pb.pattern, action=pb.action)


@dataclass(frozen=True, slots=True)
class Profile:
    """The group's editable description and access settings."""

    name: str
    description: str = ""
    avatar_url: str = ""
    rules: str = ""
    topics: tuple[str, ...] = ()
    visibility: ev.GroupVisibility.ValueType = ev.GROUP_VISIBILITY_PUBLIC
    join_mode: ev.JoinMode.ValueType = ev.JOIN_MODE_FREE
    member_limit: int = 200_000

    def pb(self) -> ev.GroupProfile:
        """The event form."""
        return ev.GroupProfile(
            name=self.name, description=self.description, avatar_url=self.avatar_url,
            rules=self.rules, topics=list(self.topics), visibility=self.visibility,
            join_mode=self.join_mode, member_limit=self.member_limit)

    @property
    def private(self) -> bool:
        """Private groups are not findable and tell nothing to non-members."""
        return self.visibility == ev.GROUP_VISIBILITY_PRIVATE


def profile_of(pb: ev.GroupProfile) -> Profile:
    """The state form of an event's profile."""
    return Profile(name=pb.name, description=pb.description, avatar_url=pb.avatar_url,
                   rules=pb.rules, topics=tuple(pb.topics), visibility=pb.visibility,
                   join_mode=pb.join_mode, member_limit=pb.member_limit)


@dataclass(frozen=True, slots=True)
class GroupInfo:
    """``("info", group)``: everything about the group that is not per user or per message."""

    group_id: str
    owner_id: str
    profile: Profile
    created_at_ms: int
    # The group's last position: the next fact is last_seq + 1 (no gap).
    last_seq: int = 0
    member_count: int = 0
    message_count: int = 0
    slow_mode_s: int = 0
    filters: tuple[Rule, ...] = ()
    pinned: tuple[int, ...] = ()
    closed: bool = False
    closed_reason: PolicyReason.ValueType = POLICY_REASON_UNSPECIFIED
    closed_note: str = ""
    # The current closure was appealed / the appeal decided (reset by each closure).
    appealed: bool = False
    appeal_decided: bool = False


@dataclass(frozen=True, slots=True)
class Membership:
    """``("member", group, user)``: kept after a user leaves (their ban outlives membership)."""

    group_id: str
    user_id: str
    role: r.Role = r.NONE
    rights: frozenset[r.Right] = frozenset()
    joined_at_ms: int = 0
    muted_until_ms: int = 0
    banned: bool = False
    ban_reason: str = ""
    read_seq: int = 0

    @property
    def is_member(self) -> bool:
        """Currently a member (any role)."""
        return self.role != r.NONE

    @property
    def effective_rights(self) -> frozenset[r.Right]:
        """What the role (and an admin's grant) allows."""
        return r.rights_of(self.role, self.rights)

    def muted_at(self, now_ms: int) -> bool:
        """Muted at ``now_ms``."""
        return self.muted_until_ms > now_ms


def nobody(group: str, user: str) -> Membership:
    """The membership of a user the group has never seen."""
    return Membership(group_id=group, user_id=user)


@dataclass(frozen=True, slots=True)
class InviteLink:
    """``("link", group, link_id)``."""

    group_id: str
    link_id: str
    creator_id: str
    name: str = ""
    expires_at_ms: int = 0
    use_limit: int = 0
    uses: int = 0
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """``("request", group, user)``: the latest request and whether it still waits."""

    group_id: str
    user_id: str
    pending: bool
    note: str = ""
    at_ms: int = 0


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """``("message", group, seq)``: a message (or a held one) and what happened to it."""

    group_id: str
    seq: int
    author_id: str
    text: str
    at_ms: int
    mentions: tuple[str, ...] = ()
    reply_to: int = 0
    # Serialized planet.content.v1.TradingComponent (bytes keep the record immutable).
    attachments: tuple[bytes, ...] = ()
    announcement: bool = False
    edited_at_ms: int = 0
    deleted: bool = False
    # Held for review (MessageHeld) until decided; then released (a new MessagePosted at
    # released_as) or rejected.
    held: bool = False
    rejected: bool = False
    released_as: int = 0
    released_from: int = 0

    @property
    def visible(self) -> bool:
        """Shown to every member: posted (or released), not deleted."""
        return not (self.deleted or self.held or self.rejected or self.released_as)

    def attachment_pbs(self) -> list[TradingComponent]:
        """The attachments as messages."""
        return [TradingComponent.FromString(b) for b in self.attachments]


@dataclass(frozen=True, slots=True)
class Reactions:
    """``("reactions", group, seq, user)``: one member's emoji on one message, in order."""

    group_id: str
    message_seq: int
    user_id: str
    emojis: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RateState:
    """``("rate", group, user)``: when the member last posted and their flood credit then."""

    group_id: str
    user_id: str
    last_message_ms: int
    # Flood credit in milliseconds right after that message (limits.FloodLimit).
    credit_ms: int


State = GroupInfo | Membership | InviteLink | JoinRequest | MessageRecord | Reactions | RateState


@dataclass(slots=True)
class Keyed:
    """Every key of one or more groups in memory: what tests and a rebuild fold into."""

    values: dict[Key, State] = field(default_factory=dict)

    def get(self, key: Key) -> State | None:
        """The value under ``key``."""
        return self.values.get(key)
