"""Rules for handles, profiles, reasons and appeals, each input bounded.

A handle is checked as a strict alphabet (a set of allowed characters, a length range and a
list of reserved words), never by a pattern over free text. URLs are parsed with
``urllib.parse`` and must be absolute https URLs with a host and no credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from services.social.domain.errors import Invalid

HANDLE_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
MIN_HANDLE_CHARS = 3
MAX_HANDLE_CHARS = 30
# Words that would let a handle pass for the product, its staff or a route.
RESERVED_HANDLES = frozenset({
    "admin", "administrator", "api", "bitget", "creators", "exchange", "help", "me",
    "mod", "moderator", "null", "operator", "planet", "root", "security", "staff",
    "support", "system", "undefined", "v1",
})
MAX_DISPLAY_NAME_CHARS = 50
MAX_BIO_CHARS = 500
MAX_URL_CHARS = 300
MAX_LINKS = 5
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 30
MAX_REASON_CHARS = 500
MAX_APPEAL_CHARS = 2_000
MAX_USER_ID_CHARS = 128


@dataclass(frozen=True)
class ProfileFields:
    """A creator's public profile, normalized."""

    display_name: str
    bio: str = ""
    avatar_url: str = ""
    links: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()


def check_user_id(user_id: str) -> str:
    """A user id as the exchange issues it: any alphabet, non-empty, bounded."""
    if not user_id or len(user_id) > MAX_USER_ID_CHARS:
        raise Invalid(f"user_id must be 1 to {MAX_USER_ID_CHARS} characters")
    return user_id


def check_handle(handle: str) -> str:
    """The handle if it is well formed and not reserved; Invalid naming the rule otherwise."""
    if not MIN_HANDLE_CHARS <= len(handle) <= MAX_HANDLE_CHARS:
        raise Invalid(f"a handle is {MIN_HANDLE_CHARS} to {MAX_HANDLE_CHARS} characters, "
                      f"got {min(len(handle), 10_000)}")
    bad = sorted(set(handle) - HANDLE_ALPHABET)
    if bad:
        shown = "".join(bad[:10])
        raise Invalid(f"a handle uses only a-z, 0-9 and _; not {shown!r}")
    if handle in RESERVED_HANDLES:
        raise Invalid(f"the handle {handle!r} is reserved")
    return handle


def check_https_url(field: str, url: str) -> str:
    """An absolute https URL with a host and no user info; Invalid otherwise."""
    if len(url) > MAX_URL_CHARS:
        raise Invalid(f"{field} is longer than {MAX_URL_CHARS} characters")
    if any(c.isspace() or ord(c) < 0x20 for c in url):
        raise Invalid(f"{field} must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise Invalid(f"{field} is not a URL: {exc}") from None
    if parts.scheme != "https":
        raise Invalid(f"{field} must be an https URL")
    if not host or "." not in host:
        raise Invalid(f"{field} must name a host")
    if parts.username is not None or parts.password is not None:
        raise Invalid(f"{field} must not carry credentials")
    return url


def _text(field: str, value: str, limit: int, *, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(f"{field} is required")
    if len(value) > limit:
        raise Invalid(f"{field} is longer than {limit} characters")
    if any(ord(c) < 0x20 and c not in "\n\t" for c in value):
        raise Invalid(f"{field} must not contain control characters")
    return value


def check_profile(
    display_name: str, bio: str, avatar_url: str, links: list[str] | tuple[str, ...],
    topics: list[str] | tuple[str, ...],
) -> ProfileFields:
    """A profile with text trimmed and topics lower-cased; Invalid naming the field."""
    name = _text("display_name", display_name, MAX_DISPLAY_NAME_CHARS, required=True)
    if "\n" in name:
        raise Invalid("display_name must be one line")
    if len(links) > MAX_LINKS:
        raise Invalid(f"at most {MAX_LINKS} links")
    if len(topics) > MAX_TOPICS:
        raise Invalid(f"at most {MAX_TOPICS} topics")
    checked_topics: list[str] = []
    for topic in topics:
        t = topic.strip().lower()
        if not t or len(t) > MAX_TOPIC_CHARS or set(t) - HANDLE_ALPHABET:
            raise Invalid(f"a topic is 1 to {MAX_TOPIC_CHARS} characters of a-z, 0-9 and _")
        if t not in checked_topics:
            checked_topics.append(t)
    return ProfileFields(
        display_name=name,
        bio=_text("bio", bio, MAX_BIO_CHARS),
        avatar_url=check_https_url("avatar_url", avatar_url) if avatar_url else "",
        links=tuple(check_https_url(f"links[{i}]", u) for i, u in enumerate(links)),
        topics=tuple(checked_topics),
    )


def check_reason(reason: str) -> str:
    """An operator's reason: required, bounded."""
    return _text("reason", reason, MAX_REASON_CHARS, required=True)


def check_appeal(text: str) -> str:
    """An appeal's text: required, bounded."""
    return _text("text", text, MAX_APPEAL_CHARS, required=True)
