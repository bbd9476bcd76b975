"""How an author's posts are laid out in a partition's index store, and the page cursor (pure).

The index lives on the author's partition of planet.content.author-posts.v1 (murmur2 of the
author id), so one replica answers an author's whole list. One key per (author, published
time, post id), nothing per author that grows with their output:

  ``i:<author length, 2 bytes><author><inverted published ms, 8 bytes><post id>``
      -> the post as stored in the posts store (version, then the PostPublished payload)
  ``r:<post id>`` -> the post's ``i:`` key (a later removal or edit finds the entry in one
      read; the first entry of a post id wins, like the posts store)

The author is length-prefixed because user ids come from the exchange in any alphabet: no
author's range can contain another's. The time is stored inverted (``2^63-1 - ms``,
big-endian), so an ascending scan of one author's range is newest first, ties broken by
post id. A page is a range scan from just after the cursor's key: the cursor names the last
post returned, so it stays valid whatever is published meanwhile (a newer post sorts before
it and never shifts later pages): no gap, no duplicate.

The cursor is opaque to clients: base64url (``A-Z a-z 0-9 - _``, no padding) of a version
byte, the published ms and the post id. Anything else is refused before the store is read.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass

# 2: entries hold the post state (Post message: latest revision, rendered body); deleted
# posts have no entry. Keep in step with stored.FORMAT (Markdown policy included).
FORMAT = b"content-author-posts/2"
DEFAULT_PAGE = 20
MAX_PAGE = 100
MAX_CURSOR_CHARS = 64

_ENTRY = b"i:"
_REVERSE = b"r:"
_AUTHOR_LEN = struct.Struct(">H")
_TIME = struct.Struct(">Q")
_MAX_MS = 2**63 - 1
_CURSOR_VERSION = 1
_CURSOR_HEAD = struct.Struct(">Bq")
_CURSOR_CHARS = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_POST_ID = re.compile(r"^post_[0-9a-f]{24}$")


class InvalidPage(ValueError):
    """A cursor or limit the index cannot serve; the message says which and why."""


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last post it returned."""

    published_at_ms: int
    post_id: str


def author_prefix(author_id: str) -> bytes:
    """The first bytes of every key of ``author_id``'s entries (and of no other author's)."""
    raw = author_id.encode()
    if len(raw) > 0xFFFF:
        raise ValueError(f"an author id of {len(raw)} bytes cannot be indexed")
    return _ENTRY + _AUTHOR_LEN.pack(len(raw)) + raw


def entry_key(author_id: str, published_at_ms: int, post_id: str) -> bytes:
    """The index key of one post; an ascending scan of an author's keys is newest first."""
    ms = min(max(published_at_ms, 0), _MAX_MS)
    return author_prefix(author_id) + _TIME.pack(_MAX_MS - ms) + post_id.encode()


def reverse_key(post_id: str) -> bytes:
    """Where a post's index key is kept (for the removals and edits of later issues)."""
    return _REVERSE + post_id.encode()


def start_after(author_id: str, cursor: Cursor | None) -> bytes:
    """The first key a page after ``cursor`` may return (inclusive)."""
    if cursor is None:
        return author_prefix(author_id)
    # Post ids hold no NUL, so key + NUL sorts right after the cursor's own key.
    return entry_key(author_id, cursor.published_at_ms, cursor.post_id) + b"\x00"


def page_limit(requested: int) -> int:
    """The page size a request asks for: 0 is the default; 1-100 otherwise."""
    if requested == 0:
        return DEFAULT_PAGE
    if not 1 <= requested <= MAX_PAGE:
        raise InvalidPage(f"limit must be 1-{MAX_PAGE}, not {requested}")
    return requested


def encode_cursor(cursor: Cursor) -> str:
    """The opaque text of a cursor."""
    raw = _CURSOR_HEAD.pack(_CURSOR_VERSION, cursor.published_at_ms) + cursor.post_id.encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str) -> Cursor | None:
    """The cursor a client sent back (None for the first page); InvalidPage when it is not one
    this service issued."""
    if text == "":
        return None
    if len(text) > MAX_CURSOR_CHARS or not _CURSOR_CHARS.match(text):
        raise InvalidPage(f"cursor must be next_cursor of a previous page: 1-{MAX_CURSOR_CHARS} "
                          "of A-Z a-z 0-9 - _")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidPage("cursor is not one this service issued") from None
    if len(raw) <= _CURSOR_HEAD.size:
        raise InvalidPage("cursor is not one this service issued")
    version, ms = _CURSOR_HEAD.unpack_from(raw)
    try:
        post_id = raw[_CURSOR_HEAD.size:].decode("ascii")
    except UnicodeDecodeError:
        raise InvalidPage("cursor is not one this service issued") from None
    if version != _CURSOR_VERSION or ms < 0 or not _POST_ID.match(post_id):
        raise InvalidPage("cursor is not one this service issued")
    return Cursor(ms, post_id)
