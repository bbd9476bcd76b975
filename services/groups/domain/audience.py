"""Who may see each fact, and in what form: the one rule live delivery, catch-up, history and
the admin log apply before anything leaves the service (the privacy property of issue 15).

``visible(fact, viewer, private)`` returns the fact as ``viewer`` may see it (the fact itself,
a copy with fields only staff may read cleared, or None). The viewer is their membership (a
user the group never saw is ``nobody``); ``private`` is the group's visibility now.

- A private group shows nothing to anyone who is not a member (banned users included).
- A public group shows its conversation (messages, edits, deletes, reactions, pins, its
  profile, slow mode, closure) to anyone; who joined, left or was removed only to members.
- Moderation details stay with the staff: reasons are cleared for non-staff, mutes are shown
  to staff and the muted member, unbans, filter words, reports and join requests to staff
  holding the matching right (a report also to its reporter, a request to its requester),
  invite links (and which link a member used) to members holding the invite right.
- A held message (and its decision) is seen by its author and members holding the delete
  right; a read position only by its reader; a closure appeal only by the owner (operators
  read closures, appeals and reports through their own API, not through this rule).

Facts keep their seq whatever is cleared; a viewer who may not see a fact at all skips its
position, so a live stream or a catch-up sends the viewer's cursor forward with a position
marker (the last seq examined), never the fact: no gap a client must explain, nothing leaked.
"""

from __future__ import annotations

from google.protobuf.message import Message

from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import rights as r
from services.groups.domain.state import Membership

# Seen by anyone a group shows its conversation to (any reader of a public group).
_CONVERSATION = (ev.GroupCreated, ev.GroupInfoChanged, ev.MessagePosted, ev.MessageEdited,
                 ev.MessageDeleted, ev.ReactionSet, ev.ReactionRemoved, ev.MessagePinned,
                 ev.MessageUnpinned, ev.SlowModeSet, ev.GroupClosed, ev.AppealDecided)
# Seen by members: the membership's changes.
_MEMBERSHIP = (ev.MemberJoined, ev.MemberLeft, ev.MemberKicked, ev.MemberBanned,
               ev.MemberRoleChanged, ev.OwnershipTransferred)
# Fields only staff (or the owner, for closure notes) may read.
_STAFF_FIELDS = ("reason",)


def visible(fact: Message, viewer: Membership, private: bool) -> Message | None:
    """``fact`` as ``viewer`` may see it, or None."""
    member = viewer.is_member
    if not member and (private or viewer.banned):
        return None
    me = viewer.user_id
    rights = viewer.effective_rights
    staff = viewer.role in r.STAFF
    if isinstance(fact, _CONVERSATION):
        return _redacted(fact, viewer, staff)
    if isinstance(fact, _MEMBERSHIP):
        if not member:
            return None
        if isinstance(fact, ev.MemberJoined) and fact.link_id and r.INVITE not in rights:
            out = ev.MemberJoined()
            out.CopyFrom(fact)
            out.link_id = ""
            return _redacted(out, viewer, staff)
        return _redacted(fact, viewer, staff)
    if not member:
        return None
    allowed = False
    if isinstance(fact, ev.MemberMuted | ev.MemberUnmuted):
        allowed = staff or fact.user_id == me
    elif isinstance(fact, ev.MemberUnbanned):
        allowed = r.BAN in rights
    elif isinstance(fact, ev.FilterRulesSet):
        allowed = r.FILTERS in rights
    elif isinstance(fact, ev.InviteLinkCreated | ev.InviteLinkRevoked):
        allowed = r.INVITE in rights
    elif isinstance(fact, ev.JoinRequested):
        allowed = r.APPROVE in rights or fact.actor_id == me
    elif isinstance(fact, ev.JoinRequestDecided):
        allowed = r.APPROVE in rights or fact.user_id == me
    elif isinstance(fact, ev.MessageHeld):
        allowed = r.DELETE_MESSAGES in rights or fact.actor_id == me
    elif isinstance(fact, ev.HeldMessageDecided):
        allowed = r.DELETE_MESSAGES in rights or fact.author_id == me
    elif isinstance(fact, ev.MemberReported):
        allowed = bool(rights & r.MODERATOR_RIGHTS) or fact.actor_id == me
    elif isinstance(fact, ev.ReadPositionSet):
        allowed = fact.actor_id == me
    elif isinstance(fact, ev.GroupCloseAppealed):
        allowed = viewer.role == r.OWNER
    return _redacted(fact, viewer, staff) if allowed else None


def _redacted(fact: Message, viewer: Membership, staff: bool) -> Message:
    """``fact`` with the staff-only fields cleared for a non-staff viewer (a copy)."""
    clear = [] if staff else [f for f in _STAFF_FIELDS if _has_text(fact, f)]
    # A closure's note is written to the owner; an appeal's decision note too.
    if isinstance(fact, ev.GroupClosed | ev.AppealDecided) and viewer.role != r.OWNER:
        clear.append("note")
    if not clear:
        return fact
    out = type(fact)()
    out.CopyFrom(fact)
    for name in clear:
        out.ClearField(name)
    return out


def _has_text(fact: Message, name: str) -> bool:
    """A string field ``name`` (a policy reason enum is public and stays)."""
    field = fact.DESCRIPTOR.fields_by_name.get(name)
    return field is not None and field.type == field.TYPE_STRING
