"""The formats of ids Planet issues itself, checked before any backend is asked.

Post ids come from ``services.content.domain.ids.post_id_for``: "post_" and 24 lowercase
hex digits. Anything else cannot name a post, so it is refused as a 422 up front instead of
costing a backend round trip (and echoing an arbitrary string through gRPC metadata).
"""

from __future__ import annotations

from planetkit.group_items import GROUP_ITEM_PATTERN

POST_PREFIX = "post_"
POST_HEX_DIGITS = 24
# An anchored strict alphabet: documented in OpenAPI and enforced by the same pattern.
POST_ID_PATTERN = f"^{POST_PREFIX}[0-9a-f]{{{POST_HEX_DIGITS}}}$"
POST_ID_LENGTH = len(POST_PREFIX) + POST_HEX_DIGITS
POST_ID_DESCRIPTION = (
    f'A post id: "{POST_PREFIX}" followed by {POST_HEX_DIGITS} lowercase hex digits.'
)

_HEX = frozenset("0123456789abcdef")


def is_post_id(value: str) -> bool:
    """Whether ``value`` has the shape of an id the content service issues."""
    return (
        len(value) == POST_ID_LENGTH
        and value.startswith(POST_PREFIX)
        and set(value[len(POST_PREFIX):]) <= _HEX
    )


# Items a client may report dwell on: posts, and group chats ("group:<group id>",
# planetkit.group_items; the groups service's id alphabet).
TELEMETRY_ITEM_PATTERN = f"^({POST_PREFIX}[0-9a-f]{{{POST_HEX_DIGITS}}}|{GROUP_ITEM_PATTERN})$"
TELEMETRY_ITEM_DESCRIPTION = (
    f'A post id ("{POST_PREFIX}" and {POST_HEX_DIGITS} lowercase hex digits) or a group chat '
    '("group:" and the group id: 1-128 characters of a-z, 0-9, "-" and "_").'
)

# User ids come from the exchange in any alphabet; only their length is bounded.
MAX_USER_ID_LENGTH = 128
# Client-chosen ids (event, batch, idempotency key): any characters, bounded length.
MAX_CLIENT_ID_LENGTH = 128
