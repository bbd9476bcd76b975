"""How a recipient's notifications are laid out in a partition's key-value store (pure).

  ``n/<recipient>/<position>``        the notification (NotificationCreated as logged); the
                                      position is 8 bytes big-endian, so a recipient's
                                      notifications are one key range in position order
  ``p/<recipient>``                   the last position given (positions count from 1)
  ``r/<recipient>``                   read up to this position
  ``d/<recipient>/<notification id>`` the position of that id: a replayed cause is found here
  ``~fanout/<post id>``               how far the fan-out of a post has gone (see fanout.py)
  ``~applied/<topic/partition>``      the next offset to read of an input

One key per notification; nothing grows with a recipient's history or a creator's audience.
"""

from __future__ import annotations

import struct

SEP = b"\x00"
FORMAT = b"social-notifications/1"
FORMAT_KEY = b"~format"
APPLIED_PREFIX = b"~applied" + SEP
FANOUT_PREFIX = b"~fanout" + SEP

NOTIFICATION = b"n"
LAST_POSITION = b"p"
READ_UP_TO = b"r"
DEDUP = b"d"

_INT = struct.Struct(">q")


def user_bytes(user_id: str) -> bytes:
    """A user id as a key part; ValueError for an empty id or one holding NUL."""
    if not user_id:
        raise ValueError("a user id must not be empty")
    raw = user_id.encode()
    if SEP in raw:
        raise ValueError("a user id must not contain NUL")
    return raw


def notifications_prefix(recipient: str) -> bytes:
    """The key range of one recipient's notifications."""
    return NOTIFICATION + SEP + user_bytes(recipient) + SEP


def notification_key(recipient: str, position: int) -> bytes:
    """Where the notification at ``position`` is kept."""
    return notifications_prefix(recipient) + _INT.pack(position)


def position_from_key(key: bytes) -> int:
    """The position a notification key ends with."""
    return int(_INT.unpack(key[-_INT.size:])[0])


def last_position_key(recipient: str) -> bytes:
    """Where the recipient's last position is kept."""
    return LAST_POSITION + SEP + user_bytes(recipient)


def read_key(recipient: str) -> bytes:
    """Where the recipient's read mark is kept."""
    return READ_UP_TO + SEP + user_bytes(recipient)


def dedup_key(recipient: str, notification_id: str) -> bytes:
    """Where the position of a notification id is kept."""
    return DEDUP + SEP + user_bytes(recipient) + SEP + notification_id.encode()


def fanout_key(post_id: str) -> bytes:
    """Where the progress of a post's fan-out is kept."""
    if not post_id:
        raise ValueError("a post id must not be empty")
    return FANOUT_PREFIX + post_id.encode()


def int_value(n: int) -> bytes:
    """A position or an offset as stored."""
    return _INT.pack(n)


def int_from_value(raw: bytes | None) -> int:
    """A stored integer (0 when absent); ValueError when the bytes are not one."""
    if raw is None:
        return 0
    if len(raw) != _INT.size:
        raise ValueError(f"an integer is {_INT.size} bytes, got {len(raw)}")
    return int(_INT.unpack(raw)[0])


def applied_key(source: str) -> bytes:
    """Where the next offset to read of one input (``topic/partition``) is kept."""
    return APPLIED_PREFIX + source.encode()
