"""Comments, likes and shares: ids, limits and the rules a request must satisfy (pure).

Every interaction belongs to one post and lives on that post's partition (of the posts topic
and, co-partitioned, of planet.content.interactions.v1), so the post's owner replica decides
it. A comment id therefore carries its post: ``cmt_<the post's 24 hex digits>_<24 hex>``; a
like of a comment finds the comment's post from the id alone, with no lookup and no second
partition. Ids are parsed against a strict alphabet (lowercase hex at fixed positions), never
guessed at: anything else is refused before a store is read.

Ids are derived, not drawn: a comment's from (post, commenter, idempotency key), an action's
event id from (kind, actor, target, idempotency key). A retried request finds what its first
attempt recorded (in a store rebuilt from the log too, because the event id travels in the
log's envelope), so a retry records nothing new.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from enum import Enum

POST_PREFIX = "post_"
COMMENT_PREFIX = "cmt_"
SHARE_PREFIX = "shr_"
HEX_DIGITS = 24
POST_ID_CHARS = len(POST_PREFIX) + HEX_DIGITS
COMMENT_ID_CHARS = len(COMMENT_PREFIX) + HEX_DIGITS + 1 + HEX_DIGITS
MAX_COMMENT_CHARS = 2_000
MAX_QUOTE_CHARS = 500
# Top-level comments have depth 0; a reply has its parent's depth + 1. Four levels of replies
# keep a thread readable on a phone; a deeper reply answers the deepest comment's parent.
MAX_DEPTH = 4
MAX_REQUEST_ID_CHARS = 128
MAX_USER_ID_CHARS = 128

_HEX = frozenset("0123456789abcdef")
# Text may hold line breaks and tabs; other control characters (NUL, escape sequences,
# bidirectional overrides are format characters, Cf) are refused: they hide or rearrange
# what a reader sees.
_ALLOWED_CONTROLS = frozenset("\n\t")


class InvalidInteraction(ValueError):
    """A request that breaks a rule; the message says which (a client's 4xx)."""


class InteractionNotFound(LookupError):
    """The post or comment named does not exist (or is deleted)."""


class InteractionRefused(PermissionError):
    """The user may not do this (not the comment's author, or blocked by the item's author)."""


class ThreadTooDeep(ValueError):
    """A reply below MAX_DEPTH."""


class Kind(Enum):
    """What an action is (its part in the event id)."""

    COMMENT = "comment"
    EDIT = "edit"
    DELETE = "delete"
    LIKE = "like"
    UNLIKE = "unlike"
    SHARE = "share"


def _is_hex(text: str) -> bool:
    return len(text) == HEX_DIGITS and all(c in _HEX for c in text)


def is_post_id(text: str) -> bool:
    """True for ``post_`` + 24 lowercase hex digits."""
    return (len(text) == POST_ID_CHARS and text.startswith(POST_PREFIX)
            and _is_hex(text[len(POST_PREFIX):]))


def is_comment_id(text: str) -> bool:
    """True for ``cmt_`` + 24 hex + ``_`` + 24 hex."""
    if len(text) != COMMENT_ID_CHARS or not text.startswith(COMMENT_PREFIX):
        return False
    head = len(COMMENT_PREFIX)
    return (_is_hex(text[head:head + HEX_DIGITS]) and text[head + HEX_DIGITS] == "_"
            and _is_hex(text[head + HEX_DIGITS + 1:]))


def post_of_comment(comment_id: str) -> str:
    """The post a comment id belongs to; InvalidInteraction when it is not a comment id."""
    if not is_comment_id(comment_id):
        raise InvalidInteraction(
            f"comment id must be {COMMENT_PREFIX} + 24 hex digits + _ + 24 hex digits")
    head = len(COMMENT_PREFIX)
    return POST_PREFIX + comment_id[head:head + HEX_DIGITS]


def post_of_item(item_id: str) -> str:
    """The post an item (a post or a comment) is or belongs to; InvalidInteraction otherwise."""
    if is_post_id(item_id):
        return item_id
    if is_comment_id(item_id):
        return post_of_comment(item_id)
    raise InvalidInteraction(
        f"item id must be a post id ({POST_PREFIX} + 24 hex digits) or a comment id "
        f"({COMMENT_PREFIX} + 24 hex + _ + 24 hex)")


def checked_post_id(post_id: str) -> str:
    """``post_id`` when it is one; InvalidInteraction otherwise."""
    if not is_post_id(post_id):
        raise InvalidInteraction(f"post id must be {POST_PREFIX} + 24 lowercase hex digits")
    return post_id


def _digest(*parts: str) -> str:
    # NUL cannot occur in any part (checked ids and keys), so parts never run together.
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:HEX_DIGITS]


def comment_id_for(post_id: str, user_id: str, request_id: str) -> str:
    """The id of the comment ``user_id`` posts on ``post_id`` under ``request_id``."""
    return f"{COMMENT_PREFIX}{post_id[len(POST_PREFIX):]}_{_digest('c', user_id, request_id)}"


def share_id_for(post_id: str, user_id: str, request_id: str) -> str:
    """The id of the share ``user_id`` makes of ``post_id`` under ``request_id``."""
    return f"{SHARE_PREFIX}{post_id[len(POST_PREFIX):]}_{_digest('s', user_id, request_id)}"


def action_event_id(kind: Kind, user_id: str, target_id: str, request_id: str) -> str:
    """The event id of one action: the same request names the same event (retries dedup)."""
    return f"evt_{_digest(kind.value, user_id, target_id, request_id)}"


def checked_request_id(request_id: str) -> str:
    """An idempotency key: 1-128 printable characters."""
    if not 1 <= len(request_id) <= MAX_REQUEST_ID_CHARS or not request_id.isprintable():
        raise InvalidInteraction(
            f"request id (Idempotency-Key) must be 1-{MAX_REQUEST_ID_CHARS} printable characters")
    return request_id


def checked_user_id(user_id: str) -> str:
    """A user id as content receives it from the gateway (any alphabet, bounded, no NUL)."""
    if not 1 <= len(user_id) <= MAX_USER_ID_CHARS or "\x00" in user_id:
        raise InvalidInteraction(f"user id must be 1-{MAX_USER_ID_CHARS} characters")
    return user_id


def _checked_text(text: str, what: str, limit: int, *, required: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    if required and not text.strip():
        raise InvalidInteraction(f"{what} must not be empty")
    if len(text) > limit:
        raise InvalidInteraction(f"{what} is {len(text)} characters; the limit is {limit}")
    for ch in text:
        if ch in _ALLOWED_CONTROLS:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or ch in _BIDI_CONTROLS:
            raise InvalidInteraction(
                f"{what} holds a control or unassigned character (U+{ord(ch):04X})")
    return text


# Bidirectional embedding/override/isolate controls: they reorder the text a reader sees
# (a "Trojan Source" comment); zero-width joiners and the like stay (emoji need them).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def checked_comment_text(text: str) -> str:
    """Comment text, NFC-normalised: 1-2000 characters, not blank, no control characters."""
    return _checked_text(text, "comment text", MAX_COMMENT_CHARS, required=True)


def checked_quote(text: str) -> str:
    """A share's optional quote: 0-500 characters, no control characters."""
    return _checked_text(text, "quote", MAX_QUOTE_CHARS, required=False)


def reply_depth(parent_depth: int | None) -> int:
    """The depth of a comment under a parent of ``parent_depth`` (None: top level)."""
    if parent_depth is None:
        return 0
    if parent_depth >= MAX_DEPTH:
        raise ThreadTooDeep(
            f"replies nest at most {MAX_DEPTH} levels deep: reply to this comment's parent")
    return parent_depth + 1


@dataclass(frozen=True)
class Stats:
    """Exact counts of one item."""

    likes: int = 0
    comments: int = 0
    shares: int = 0
