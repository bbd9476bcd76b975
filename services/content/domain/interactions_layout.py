"""How a partition's comments, likes, shares and counters are laid out in its store (pure).

One key per comment, per (item, user) like, per share and per (item, counter): nothing grows
with an item's audience in one value, and every count is exact (a counter moves in the same
write batch as the fact it counts, and only when the fact changes state):

  ``c:<comment id>``                 -> the comment (planet.content.v1.Comment, no stats)
  ``t:<post id>/<parent id>|<ms, 8 bytes><comment id>`` -> b"" (thread order; parent "" for
      top level). Ids have fixed lengths over a strict alphabet, so no scope's range holds
      another's: "|" right after "/" is top level, "c" a reply scope.
  ``l:<item id>\\x00<user id>``       -> b"" (one like per user per item)
  ``s:<share id>``                   -> the share (planet.content.v1.ShareView)
  ``n:<item id>\\x00<l|c|s>``         -> count, 8 bytes big-endian
  ``k:<event id>``                   -> b"" (an action already applied: a retried request, or
      the tail meeting an event the deciding replica already applied, changes nothing)

A thread page is a range scan of one scope, ascending (oldest first) or descending (newest
first), from just past the cursor: the cursor names the last comment returned, so whatever is
posted meanwhile never shifts a later page (no gap, no duplicate).

The cursor is opaque: base64url (``A-Z a-z 0-9 - _``, no padding) of a version byte, the
comment's ms and its id; anything else is refused before the store is read.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

from services.content.domain.interactions import InvalidInteraction, is_comment_id

FORMAT = b"content-interactions/1"
DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_CURSOR_CHARS = 96

LIKES = b"l"
COMMENTS = b"c"
SHARES = b"s"

_TIME = struct.Struct(">Q")
_COUNT = struct.Struct(">Q")
_CURSOR_HEAD = struct.Struct(">Bq")
_CURSOR_VERSION = 1
_CURSOR_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_MS = 2**63 - 1


@dataclass(frozen=True)
class ThreadCursor:
    """Where a page ended: the last comment it returned."""

    at_ms: int
    comment_id: str


def comment_key(comment_id: str) -> bytes:
    """Where a comment is kept."""
    return b"c:" + comment_id.encode()


def thread_prefix(post_id: str, parent_comment_id: str) -> bytes:
    """The first bytes of every thread entry of one scope (and of no other scope)."""
    return b"t:" + post_id.encode() + b"/" + parent_comment_id.encode() + b"|"


def thread_key(post_id: str, parent_comment_id: str, at_ms: int, comment_id: str) -> bytes:
    """A comment's place in its scope: ascending is oldest first, ties by comment id."""
    ms = min(max(at_ms, 0), _MAX_MS)
    return thread_prefix(post_id, parent_comment_id) + _TIME.pack(ms) + comment_id.encode()


def like_key(item_id: str, user_id: str) -> bytes:
    """Where one user's like of one item is kept."""
    return b"l:" + item_id.encode() + b"\x00" + user_id.encode()


def share_key(share_id: str) -> bytes:
    """Where a share is kept."""
    return b"s:" + share_id.encode()


def counter_key(item_id: str, counter: bytes) -> bytes:
    """Where one of an item's counts is kept."""
    return b"n:" + item_id.encode() + b"\x00" + counter


def applied_key(event_id: str) -> bytes:
    """The mark of an applied action."""
    return b"k:" + event_id.encode()


def count_value(count: int) -> bytes:
    """A count as stored."""
    return _COUNT.pack(max(count, 0))


def count_from_value(value: bytes | None) -> int:
    """A stored count (0 when absent)."""
    return 0 if value is None else int(_COUNT.unpack(value)[0])


def page_limit(requested: int) -> int:
    """0 is the default page; else 1-100."""
    if requested == 0:
        return DEFAULT_PAGE
    if not 1 <= requested <= MAX_PAGE:
        raise InvalidInteraction(f"limit must be 1-{MAX_PAGE}, not {requested}")
    return requested


def encode_cursor(cursor: ThreadCursor) -> str:
    """The opaque text of a cursor."""
    raw = _CURSOR_HEAD.pack(_CURSOR_VERSION, cursor.at_ms) + cursor.comment_id.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str) -> ThreadCursor | None:
    """The cursor a client sent back (None: first page); InvalidInteraction otherwise."""
    if text == "":
        return None
    if len(text) > MAX_CURSOR_CHARS or any(c not in _CURSOR_ALPHABET for c in text):
        raise InvalidInteraction(
            f"cursor must be next_cursor of a previous page: 1-{MAX_CURSOR_CHARS} of "
            "A-Z a-z 0-9 - _")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInteraction("cursor is not one this service issued") from None
    if len(raw) <= _CURSOR_HEAD.size:
        raise InvalidInteraction("cursor is not one this service issued")
    version, ms = _CURSOR_HEAD.unpack_from(raw)
    try:
        comment_id = raw[_CURSOR_HEAD.size:].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidInteraction("cursor is not one this service issued") from None
    if version != _CURSOR_VERSION or ms < 0 or not is_comment_id(comment_id):
        raise InvalidInteraction("cursor is not one this service issued")
    return ThreadCursor(ms, comment_id)
