"""Notification rules: deterministic ids, who is never notified, positions and read marks.

- The id is a digest of the cause (kind, recipient, actor, subject): a replayed cause (a
  redelivered post, a repeated follow after an unfollow) finds its notification and never
  makes a second one.
- Nobody is notified of their own action, nor by an actor they mute or block, nor by one who
  blocks them.
- Positions count a recipient's notifications from 1 with no gap, so "read up to" is one
  number, unread is ``last - read`` and a client catches up from its last position exactly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from planet.social.v1.notifications_pb2 import NotificationKind

ID_PREFIX = "ntf_"


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a recipient is to be notified (before it has a position)."""

    recipient_id: str
    kind: NotificationKind.ValueType
    actor_id: str
    subject_id: str
    at_ms: int

    @property
    def notification_id(self) -> str:
        """The id every replay of this cause derives."""
        return notification_id(self.kind, self.recipient_id, self.actor_id, self.subject_id)


def notification_id(
    kind: NotificationKind.ValueType, recipient_id: str, actor_id: str, subject_id: str
) -> str:
    """``ntf_`` + 32 hex of SHA-256 over the cause's parts (NUL-separated, so none can run
    into the next)."""
    raw = "\x00".join((str(int(kind)), recipient_id, actor_id, subject_id)).encode()
    return ID_PREFIX + hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Relation:
    """What the recipient's side knows about the actor."""

    mutes: bool = False  # the recipient mutes the actor
    blocks: bool = False  # the recipient blocks the actor
    blocked_by: bool = False  # the actor blocks the recipient


def should_notify(cause: Cause, relation: Relation) -> bool:
    """False for one's own action and for an actor muted or blocked either way."""
    if not cause.recipient_id:
        raise ValueError("a notification needs a recipient")
    if cause.actor_id and cause.actor_id == cause.recipient_id:
        return False
    return not (relation.mutes or relation.blocks or relation.blocked_by)


def read_mark(current: int, up_to: int, last: int) -> int:
    """The new read-up-to position: never backwards, never past the last notification."""
    if up_to < 0:
        raise ValueError("a position is never negative")
    return max(current, min(up_to, last))


def unread(last: int, read: int) -> int:
    """How many of a recipient's notifications are unread (positions have no gaps)."""
    return max(0, last - read)
