"""How the graph is laid out in a partition's key-value store (pure: bytes in, bytes out).

A key is a one-letter kind, then user ids, separated by NUL (which no user id may contain), so
one user's edges of one kind are one contiguous key range, sorted by the other user's id:
a page is a range scan from the cursor, and a cursor (the last id returned) stays valid
whatever is added or removed around it, so pages have no gap and no duplicate.

The actor's side (kept on the partition of the follower, blocker or muter):
  ``f/<follower>/<followee>`` an edge (followed-at, bell on/off)
  ``b/<blocker>/<blocked>``   a block          ``m/<muter>/<muted>`` a mute
  ``c/g/<user>``              how many the user follows
The other party's side (kept on the followee's partition, from the re-keyed inbound topic):
  ``F/<followee>/<follower>`` an edge (followed-at)
  ``s/<creator>/<follower>``  a bell subscriber (the fan-out of a new post scans this range)
  ``x/<blocked>/<blocker>``   blocked by       ``M/<muted>/<muter>`` muted by
  ``c/r/<user>``              how many follow the user
Values are a few bytes; nothing grows with an audience.
"""

from __future__ import annotations

import struct

SEP = b"\x00"
FORMAT = b"social-graph/1"
FORMAT_KEY = b"~format"
APPLIED_PREFIX = b"~applied" + SEP

FOLLOWING = b"f"
FOLLOWER = b"F"
BELL_SUBSCRIBER = b"s"
BLOCKS = b"b"
BLOCKED_BY = b"x"
MUTES = b"m"
MUTED_BY = b"M"
FOLLOWING_COUNT = b"c" + SEP + b"g"
FOLLOWER_COUNT = b"c" + SEP + b"r"

_INT = struct.Struct(">q")
_EDGE = struct.Struct(">q?")


def user_bytes(user_id: str) -> bytes:
    """A user id as a key part; ValueError for an empty id or one holding NUL."""
    if not user_id:
        raise ValueError("a user id must not be empty")
    raw = user_id.encode()
    if SEP in raw:
        raise ValueError("a user id must not contain NUL")
    return raw


def prefix(kind: bytes, owner: str) -> bytes:
    """The key range of one user's entries of one kind."""
    return kind + SEP + user_bytes(owner) + SEP


def pair_key(kind: bytes, owner: str, other: str) -> bytes:
    """One entry: ``kind/owner/other``."""
    return prefix(kind, owner) + user_bytes(other)


def count_key(kind: bytes, user: str) -> bytes:
    """Where one of a user's counts is kept."""
    return kind + SEP + user_bytes(user)


def int_value(n: int) -> bytes:
    """A count, a time or an offset as stored."""
    return _INT.pack(n)


def int_from_value(raw: bytes | None) -> int:
    """A stored integer (0 when absent); ValueError when the bytes are not one."""
    if raw is None:
        return 0
    if len(raw) != _INT.size:
        raise ValueError(f"an integer is {_INT.size} bytes, got {len(raw)}")
    return int(_INT.unpack(raw)[0])


def edge_value(at_ms: int, bell: bool) -> bytes:
    """The follower side's edge: when it started, and whether the bell is on."""
    return _EDGE.pack(at_ms, bell)


def edge_from_value(raw: bytes) -> tuple[int, bool]:
    """(followed-at, bell) of a stored edge."""
    at_ms, bell = _EDGE.unpack(raw)
    return int(at_ms), bool(bell)


def applied_key(source: str) -> bytes:
    """Where the next offset to read of one input (``topic/partition``) is kept."""
    return APPLIED_PREFIX + source.encode()
