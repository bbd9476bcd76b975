"""Roles and rights: who may do what in a group, before any other rule is asked.

Roles rank owner > admin > moderator > member. An action on another member (mute, kick, ban,
role change, deleting their message is the exception: see decide) needs a target of lower rank
than the actor, so an admin never mutes another admin and nobody acts on the owner.

- **owner**: every right, plus what only the owner does: transfer ownership, appoint and
  dismiss admins, appeal a closure.
- **admin**: exactly the rights the owner granted (Telegram's granular admin rights). An admin
  with the promote right appoints and dismisses moderators only.
- **moderator**: a fixed set that keeps a conversation in order without touching the group's
  shape: delete any message and decide held ones, mute and unmute, decide join requests. No
  kick or ban (a removal is an admin's call), no pins, no settings, no invites.
- **member**: no right. Posts, edits and deletes their own messages, reacts, reports, reads.

Staff (owner, admin, moderator) are exempt from slow mode and filters (they enforce them);
the anti-flood bucket applies to everyone, owner included (it guards against a runaway client
or a stolen session as much as against a spammer).
"""

from __future__ import annotations

from typing import TypeAlias

from planet.groups.v1 import group_events_pb2 as ev

Right: TypeAlias = ev.AdminRight.ValueType
Role: TypeAlias = ev.MemberRole.ValueType

INVITE: Right = ev.ADMIN_RIGHT_INVITE
APPROVE: Right = ev.ADMIN_RIGHT_APPROVE
PIN: Right = ev.ADMIN_RIGHT_PIN
DELETE_MESSAGES: Right = ev.ADMIN_RIGHT_DELETE_MESSAGES
RESTRICT: Right = ev.ADMIN_RIGHT_RESTRICT
BAN: Right = ev.ADMIN_RIGHT_BAN
CHANGE_INFO: Right = ev.ADMIN_RIGHT_CHANGE_INFO
SLOW_MODE: Right = ev.ADMIN_RIGHT_SLOW_MODE
FILTERS: Right = ev.ADMIN_RIGHT_FILTERS
ANNOUNCE: Right = ev.ADMIN_RIGHT_ANNOUNCE
PROMOTE: Right = ev.ADMIN_RIGHT_PROMOTE

ALL_RIGHTS: frozenset[Right] = frozenset({
    INVITE, APPROVE, PIN, DELETE_MESSAGES, RESTRICT, BAN, CHANGE_INFO, SLOW_MODE, FILTERS,
    ANNOUNCE, PROMOTE,
})
MODERATOR_RIGHTS: frozenset[Right] = frozenset({DELETE_MESSAGES, RESTRICT, APPROVE})

NONE: Role = ev.MEMBER_ROLE_UNSPECIFIED
MEMBER: Role = ev.MEMBER_ROLE_MEMBER
MODERATOR: Role = ev.MEMBER_ROLE_MODERATOR
ADMIN: Role = ev.MEMBER_ROLE_ADMIN
OWNER: Role = ev.MEMBER_ROLE_OWNER

STAFF: frozenset[Role] = frozenset({OWNER, ADMIN, MODERATOR})


def rank(role: Role) -> int:
    """The role's rank: 0 for no membership, then member 1 .. owner 4 (the enum's order)."""
    return int(role)


def rights_of(role: Role, granted: frozenset[Right]) -> frozenset[Right]:
    """What a member of ``role`` may do; ``granted`` counts for admins only."""
    if role == OWNER:
        return ALL_RIGHTS
    if role == ADMIN:
        return granted & ALL_RIGHTS
    if role == MODERATOR:
        return MODERATOR_RIGHTS
    return frozenset()


def right_name(right: Right) -> str:
    """"delete_messages" for ADMIN_RIGHT_DELETE_MESSAGES: how refusals name a right."""
    return ev.AdminRight.Name(right).removeprefix("ADMIN_RIGHT_").lower()
