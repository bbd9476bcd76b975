"""What a user (or an operator) asks of a group: one dataclass per command.

The handler builds them from the API's requests, with ``actor_id`` from the caller's token and
every generated value (a new group id, an invite code) made outside the pure core.
"""

from __future__ import annotations

from dataclasses import dataclass

from planet.content.v1.events_pb2 import TradingComponent
from planet.content.v1.reports_pb2 import PolicyReason
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain.rights import Right, Role


@dataclass(frozen=True, slots=True)
class CreateGroup:
    actor_id: str
    group_id: str
    profile: ev.GroupProfile


@dataclass(frozen=True, slots=True)
class UpdateInfo:
    actor_id: str
    group_id: str
    profile: ev.GroupProfile


@dataclass(frozen=True, slots=True)
class TransferOwnership:
    actor_id: str
    group_id: str
    new_owner_id: str


@dataclass(frozen=True, slots=True)
class Join:
    actor_id: str
    group_id: str


@dataclass(frozen=True, slots=True)
class JoinByLink:
    actor_id: str
    group_id: str
    link_id: str


@dataclass(frozen=True, slots=True)
class RequestJoin:
    actor_id: str
    group_id: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class DecideJoinRequest:
    actor_id: str
    group_id: str
    user_id: str
    approve: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class AddMember:
    actor_id: str
    group_id: str
    user_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Leave:
    actor_id: str
    group_id: str


@dataclass(frozen=True, slots=True)
class SetRole:
    actor_id: str
    group_id: str
    user_id: str
    role: Role
    rights: frozenset[Right] = frozenset()
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Mute:
    actor_id: str
    group_id: str
    user_id: str
    duration_s: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Unmute:
    actor_id: str
    group_id: str
    user_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Kick:
    actor_id: str
    group_id: str
    user_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Ban:
    actor_id: str
    group_id: str
    user_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Unban:
    actor_id: str
    group_id: str
    user_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class CreateInviteLink:
    actor_id: str
    group_id: str
    link_id: str
    expires_at_ms: int = 0
    use_limit: int = 0
    name: str = ""


@dataclass(frozen=True, slots=True)
class RevokeInviteLink:
    actor_id: str
    group_id: str
    link_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetSlowMode:
    actor_id: str
    group_id: str
    seconds: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetFilters:
    actor_id: str
    group_id: str
    rules: tuple[ev.FilterRule, ...]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class PostMessage:
    actor_id: str
    group_id: str
    text: str
    mentions: tuple[str, ...] = ()
    reply_to: int = 0
    attachments: tuple[TradingComponent, ...] = ()
    announcement: bool = False


@dataclass(frozen=True, slots=True)
class EditMessage:
    actor_id: str
    group_id: str
    message_seq: int
    text: str
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    actor_id: str
    group_id: str
    message_seq: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DecideHeld:
    actor_id: str
    group_id: str
    message_seq: int
    approve: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SetReaction:
    actor_id: str
    group_id: str
    message_seq: int
    emoji: str


@dataclass(frozen=True, slots=True)
class RemoveReaction:
    actor_id: str
    group_id: str
    message_seq: int
    emoji: str


@dataclass(frozen=True, slots=True)
class Pin:
    actor_id: str
    group_id: str
    message_seq: int


@dataclass(frozen=True, slots=True)
class Unpin:
    actor_id: str
    group_id: str
    message_seq: int


@dataclass(frozen=True, slots=True)
class SetReadPosition:
    actor_id: str
    group_id: str
    read_seq: int


@dataclass(frozen=True, slots=True)
class Report:
    actor_id: str
    group_id: str
    user_id: str
    reason: PolicyReason.ValueType
    message_seq: int = 0
    detail: str = ""
    to_operators: bool = False


@dataclass(frozen=True, slots=True)
class CloseGroup:
    actor_id: str
    group_id: str
    reason: PolicyReason.ValueType
    note: str = ""


@dataclass(frozen=True, slots=True)
class AppealClosure:
    actor_id: str
    group_id: str
    text: str


@dataclass(frozen=True, slots=True)
class DecideAppeal:
    actor_id: str
    group_id: str
    grant: bool
    note: str = ""


Command = (
    CreateGroup | UpdateInfo | TransferOwnership | Join | JoinByLink | RequestJoin
    | DecideJoinRequest | AddMember | Leave | SetRole | Mute | Unmute | Kick | Ban | Unban
    | CreateInviteLink | RevokeInviteLink | SetSlowMode | SetFilters | PostMessage
    | EditMessage | DeleteMessage | DecideHeld | SetReaction | RemoveReaction | Pin | Unpin
    | SetReadPosition | Report | CloseGroup | AppealClosure | DecideAppeal
)
