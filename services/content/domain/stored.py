"""How a partition's posts are laid out in its key-value store (pure: bytes in, bytes out).

One key per post and one per post's author, nothing per creator: no value grows with a
creator's audience or output. The post id is the idempotency index too, because it is
derived from (creator, request id) (``ids.post_id_for``): a retried request finds its
post under the same key. ``APPLIED`` is the next topic offset to read; it is written in
the same write batch as the posts it covers, so state and position never disagree.

A post's value is its current state (the ``Post`` RPC message: the latest revision, the
rendered body, the deletion time), derived from its events by ``domain/post_events.py``.
Each revision is also kept, under ``v:<post id> NUL <revision>``, for the audit history; an
edit's idempotency key under ``e:<post id> NUL <request id>`` names the revision it made.
"""

from __future__ import annotations

import struct

from planet.content.v1.content_service_pb2 import Post as PostState
from services.content.domain.codec import post_from_pb, post_to_pb
from services.content.domain.markdown import POLICY_VERSION
from services.content.domain.model import Post

# Bump when the layout changes: a store of another format is rebuilt from the topic. The
# Markdown policy's version is part of it: stored HTML is re-rendered under a new policy.
FORMAT = b"content-posts/2.md%d" % POLICY_VERSION
FORMAT_KEY = b"~format"
APPLIED_KEY = b"~applied"
_POST = b"p:"
_AUTHOR = b"a:"
_REVISION = b"v:"
_EDIT_REQUEST = b"e:"
_VERSION = struct.Struct(">I")
_OFFSET = struct.Struct(">q")


def post_key(post_id: str) -> bytes:
    """Where a post's payload is kept."""
    return _POST + post_id.encode()


def author_key(post_id: str) -> bytes:
    """Where a post's creator id is kept (ResolveAuthors reads only these)."""
    return _AUTHOR + post_id.encode()


def revision_prefix(post_id: str) -> bytes:
    """The first bytes of every revision key of ``post_id`` (and of no other post's)."""
    return _REVISION + post_id.encode() + b"\x00"


def revision_key(post_id: str, revision: int) -> bytes:
    """Where revision ``revision`` of a post is kept (ascending scan: oldest first)."""
    return revision_prefix(post_id) + _VERSION.pack(revision)


def edit_request_key(post_id: str, request_id: str) -> bytes:
    """Where the revision an edit request made is kept (a retried edit finds it)."""
    return _EDIT_REQUEST + post_id.encode() + b"\x00" + request_id.encode()


def revision_number_value(revision: int) -> bytes:
    """The stored form of a revision number."""
    return _VERSION.pack(revision)


def revision_number_from_value(value: bytes) -> int:
    """A revision number as stored."""
    (revision,) = _VERSION.unpack(value)
    return int(revision)


def post_value(post: Post) -> bytes:
    """The stored form of a post: its state as the Post RPC message."""
    return post_to_pb(post).SerializeToString()


def post_from_value(value: bytes) -> Post:
    """The post a stored value holds."""
    return post_from_pb(PostState.FromString(value))


def offset_value(offset: int) -> bytes:
    """The stored form of an offset."""
    return _OFFSET.pack(offset)


def offset_from_value(value: bytes) -> int:
    """An offset as stored; ValueError when the bytes are not one."""
    if len(value) != _OFFSET.size:
        raise ValueError(f"an offset is {_OFFSET.size} bytes, got {len(value)}")
    (offset,) = _OFFSET.unpack(value)
    if offset < 0:
        raise ValueError(f"negative offset {offset}")
    return int(offset)
