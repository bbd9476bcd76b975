"""How a partition's posts are laid out in its key-value store (pure: bytes in, bytes out).

One key per post and one per post's author, nothing per creator: no value grows with a
creator's audience or output. The post id is the idempotency index too, because it is
derived from (creator, request id) (``ids.post_id_for``): a retried request finds its
post under the same key. ``APPLIED`` is the next topic offset to read; it is written in
the same write batch as the posts it covers, so state and position never disagree.
"""

from __future__ import annotations

import struct

from planet.content.v1.events_pb2 import PostPublished
from services.content.domain.codec import post_from_event
from services.content.domain.model import Post

# Bump when the layout changes: a store of another format is rebuilt from the topic.
FORMAT = b"content-posts/1"
FORMAT_KEY = b"~format"
APPLIED_KEY = b"~applied"
_POST = b"p:"
_AUTHOR = b"a:"
_VERSION = struct.Struct(">I")
_OFFSET = struct.Struct(">q")


def post_key(post_id: str) -> bytes:
    """Where a post's payload is kept."""
    return _POST + post_id.encode()


def author_key(post_id: str) -> bytes:
    """Where a post's creator id is kept (ResolveAuthors reads only these)."""
    return _AUTHOR + post_id.encode()


def post_value(version: int, payload: bytes) -> bytes:
    """The stored form of a post: its version, then the PostPublished payload as logged."""
    return _VERSION.pack(version) + payload


def post_from_value(value: bytes) -> Post:
    """The post a stored value holds."""
    (version,) = _VERSION.unpack_from(value)
    return post_from_event(PostPublished.FromString(value[_VERSION.size:]), version)


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
