"""Reports, removals and appeals: the rules a request must satisfy and the fold of the
moderation facts into an item's state (pure).

An item is a post (or article) or a comment. Its moderation lives on its POST's partition of
planet.content.moderation.v1 (co-partitioned with the posts), so the replica that owns the
post decides every report, removal and appeal about it and its comments, reading the post and
interaction stores of that partition.

The life of an item's moderation (``ItemModeration``):

- Reports open a *round*: every report of the round counts once per reporter (the report id
  is derived from (reporter, item, round), so a repeat answers the first). Reporting one's own
  item is refused; so is reporting what one cannot see (a deleted or removed item).
- An operator decides the round: dismiss (the item stays) or confirm (``ItemRemoved``: the
  item is hidden from everyone but its author and operators, and stops earning from then).
  Either closes the round; a later report opens the next one.
- The author appeals a removal once (``RemovalAppealed``); an operator upholds (the item is
  restored, ``ItemRestored``) or denies it (it stays removed, no further appeal of this
  removal). A restored item can be reported, removed and appealed again: "once" is per
  removal.

Removals and restorations of an item are numbered (``moderation_version``: odd numbers remove,
even numbers restore); a state applies one only when its number is above the one it holds.
Every other fact names the round or the removal it belongs to and changes nothing outside
it. So replaying a fetch, a record applied ahead of the tail, or a duplicate logged by a retry
raced across a hand-over all change nothing, and a store rebuilt from the log equals the live
one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from planet.content.v1 import reports_pb2 as rp
from services.content.domain.interactions import (
    InvalidInteraction,
    is_comment_id,
    is_post_id,
    post_of_item,
)

ModerationEvent = (rp.ItemReported | rp.ReportDecided | rp.ItemRemoved | rp.RemovalAppealed
                   | rp.AppealDecided | rp.ItemRestored)
MODERATION_EVENTS = (rp.ItemReported, rp.ReportDecided, rp.ItemRemoved, rp.RemovalAppealed,
                     rp.AppealDecided, rp.ItemRestored)

MAX_DETAIL_CHARS = 1_000
MAX_NOTE_CHARS = 1_000
MAX_APPEAL_CHARS = 2_000
DEFAULT_QUEUE_PAGE = 20
MAX_QUEUE_PAGE = 100
MAX_CURSOR_CHARS = 200
REASONS = frozenset(rp.PolicyReason.values()) - {rp.POLICY_REASON_UNSPECIFIED}
# The API's names of the reasons ("spam", "scam", "market_manipulation", ...).
REASON_NAMES: dict[str, int] = {
    name.removeprefix("POLICY_REASON_").lower(): number
    for name, number in rp.PolicyReason.items() if number != rp.POLICY_REASON_UNSPECIFIED}

_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_CURSOR_VERSION = 1
_CURSOR_HEAD = struct.Struct(">Bq")
_CURSOR_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_TIME = struct.Struct(">q")
_OPEN = b"q:"
_APPEALS = b"g:"


class ModerationNotFound(LookupError):
    """No such item, or one the caller may not see (its author and operators see removed
    items; nobody sees a deleted one)."""


class ModerationRefused(PermissionError):
    """The caller may not do this (report their own item, appeal another's removal)."""


class ModerationConflict(RuntimeError):
    """The item is not in a state the request applies to (nothing open to decide, not
    removed, appealed already): the gateway's 409."""


def item_kind(item_id: str) -> rp.ModeratedKind.ValueType:
    """MODERATED_KIND_POST or _COMMENT; InvalidInteraction for anything else."""
    if is_post_id(item_id):
        return rp.MODERATED_KIND_POST
    if is_comment_id(item_id):
        return rp.MODERATED_KIND_COMMENT
    post_of_item(item_id)  # raises with the message naming both shapes
    raise InvalidInteraction("not an item id")  # unreachable: post_of_item raised


def checked_reason(reason: int) -> rp.PolicyReason.ValueType:
    """A policy reason the content policy has."""
    if reason not in REASONS:
        raise InvalidInteraction(
            f"reason must be one of {', '.join(sorted(REASON_NAMES))}")
    return rp.PolicyReason.ValueType(reason)


def _text(text: str, what: str, limit: int, *, required: bool) -> str:
    text = unicodedata.normalize("NFC", text)
    if required and not text.strip():
        raise InvalidInteraction(f"{what} must not be empty")
    if len(text) > limit:
        raise InvalidInteraction(f"{what} is {len(text)} characters; the limit is {limit}")
    for ch in text:
        if ch in "\n\t":
            continue
        if unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") or ch in _BIDI:
            raise InvalidInteraction(
                f"{what} holds a control or unassigned character (U+{ord(ch):04X})")
    return text


def checked_detail(text: str) -> str:
    """A reporter's optional words: 0-1000 characters, no control characters."""
    return _text(text, "detail", MAX_DETAIL_CHARS, required=False)


def checked_note(text: str) -> str:
    """An operator's reason: 1-1000 characters (the author is told it)."""
    return _text(text, "reason", MAX_NOTE_CHARS, required=True)


def checked_appeal(text: str) -> str:
    """An author's appeal: 1-2000 characters."""
    return _text(text, "appeal text", MAX_APPEAL_CHARS, required=True)


def queue_page_limit(requested: int) -> int:
    """Items per queue page: 0 is the default; 1-100 otherwise (InvalidInteraction)."""
    if requested == 0:
        return DEFAULT_QUEUE_PAGE
    if not 1 <= requested <= MAX_QUEUE_PAGE:
        raise InvalidInteraction(f"limit must be 1-{MAX_QUEUE_PAGE}, not {requested}")
    return requested


def report_id_for(reporter_id: str, item_id: str, round_: int) -> str:
    """The id of ``reporter_id``'s report of ``item_id`` in round ``round_``: one per round."""
    digest = hashlib.sha256(f"r\x00{reporter_id}\x00{item_id}\x00{round_}".encode())
    return "rpt_" + digest.hexdigest()[:24]


def moderation_event_id(item_id: str, what: str, number: int) -> str:
    """The envelope id of an item's decision (``what`` in round/removal ``number``)."""
    return "evt_" + hashlib.sha256(f"m\x00{item_id}\x00{what}\x00{number}".encode()
                                   ).hexdigest()[:24]


# The fold ---------------------------------------------------------------------------------


def _copy(state: rp.ItemModeration) -> rp.ItemModeration:
    out = rp.ItemModeration()
    out.CopyFrom(state)
    return out


def _new(item_id: str, kind: rp.ModeratedKind.ValueType, post_id: str, author_id: str
         ) -> rp.ItemModeration:
    return rp.ItemModeration(item_id=item_id, kind=kind, post_id=post_id, author_id=author_id)


def is_removed(state: rp.ItemModeration | None) -> bool:
    """Whether the item is removed now."""
    return state is not None and state.removed_at_ms > 0


def apply(state: rp.ItemModeration | None, event: ModerationEvent
          ) -> rp.ItemModeration | None:
    """The item's state after ``event``, or None when it changes nothing. An ItemReported is
    counted only once per report id: the caller (the store) checks the id first."""
    if isinstance(event, rp.ItemReported):
        return _reported(state, event)
    if isinstance(event, rp.ReportDecided):
        if state is None or event.round != state.round or not state.open_reports:
            return None
        out = _copy(state)
        out.round += 1
        out.open_reports = 0
        del out.reasons[:]
        out.first_reported_at_ms = out.last_reported_at_ms = 0
        out.last_decision_request_id = event.request_id
        return out
    if isinstance(event, rp.ItemRemoved):
        if state is not None and event.moderation_version <= state.moderation_version:
            return None
        out = _copy(state) if state is not None else _new(
            event.item_id, event.kind, event.post_id, event.author_id)
        out.moderation_version = event.moderation_version
        out.removed_at_ms = max(event.at_ms, 1)
        out.removal_reason = event.reason
        out.removal_note = event.note
        out.appeal = rp.APPEAL_STATE_UNSPECIFIED
        out.appealed_at_ms = 0
        out.appeal_text = out.appeal_note = out.appeal_request_id = ""
        return out
    if isinstance(event, rp.RemovalAppealed):
        if (not is_removed(state) or state is None
                or event.moderation_version != state.moderation_version
                or state.appeal != rp.APPEAL_STATE_UNSPECIFIED):
            return None
        out = _copy(state)
        out.appeal = rp.APPEAL_STATE_PENDING
        out.appealed_at_ms = event.at_ms
        out.appeal_text = event.text
        out.appeal_request_id = event.request_id
        return out
    if isinstance(event, rp.AppealDecided):
        if (state is None or state.appeal != rp.APPEAL_STATE_PENDING
                or event.moderation_version != state.moderation_version):
            return None
        out = _copy(state)
        out.appeal = rp.APPEAL_STATE_UPHELD if event.upheld else rp.APPEAL_STATE_DENIED
        out.appeal_note = event.note
        out.last_decision_request_id = event.request_id
        return out
    # ItemRestored
    if state is None or event.moderation_version <= state.moderation_version:
        return None
    out = _copy(state)
    out.moderation_version = event.moderation_version
    out.removed_at_ms = 0
    return out


def _reported(state: rp.ItemModeration | None, event: rp.ItemReported
              ) -> rp.ItemModeration | None:
    if state is not None and event.round != state.round:
        return None  # a report of a round decided meanwhile (a raced duplicate)
    out = _copy(state) if state is not None else _new(
        event.item_id, event.kind, event.post_id, event.item_author_id)
    if not out.open_reports:
        out.first_reported_at_ms = event.at_ms
    out.open_reports += 1
    out.last_reported_at_ms = max(out.last_reported_at_ms, event.at_ms)
    for counted in out.reasons:
        if counted.reason == event.reason:
            counted.reports += 1
            break
    else:
        out.reasons.add(reason=event.reason, reports=1)
    return out


def main_reason(state: rp.ItemModeration) -> rp.PolicyReason.ValueType:
    """The reason most reports of the open round gave (ties: the lower number)."""
    best = max(state.reasons, key=lambda r: (r.reports, -r.reason), default=None)
    return rp.POLICY_REASON_OTHER if best is None else best.reason


# Queues: which index keys an item's state has ----------------------------------------------


def _item_key(prefix: bytes, at_ms: int, item_id: str) -> bytes:
    return prefix + _TIME.pack(max(at_ms, 0)) + item_id.encode()


def queue_keys(state: rp.ItemModeration | None) -> set[bytes]:
    """The queue entries ``state`` has: ``q:<first report ms><item>`` while reports are open,
    ``g:<appealed ms><item>`` while an appeal is pending (ascending scan: oldest first)."""
    keys: set[bytes] = set()
    if state is None:
        return keys
    if state.open_reports:
        keys.add(_item_key(_OPEN, state.first_reported_at_ms, state.item_id))
    if state.appeal == rp.APPEAL_STATE_PENDING:
        keys.add(_item_key(_APPEALS, state.appealed_at_ms, state.item_id))
    return keys


def queue_prefix(queue: int) -> bytes:
    """The key prefix of a queue (QUEUE_KIND_*; unspecified is the reports queue)."""
    return _APPEALS if queue == rp.QUEUE_KIND_APPEALS else _OPEN


def queue_start(queue: int, after: QueueCursor | None) -> bytes:
    """The first key a page after ``after`` may hold (exclusive of ``after``'s own key)."""
    if after is None:
        return queue_prefix(queue)
    return _item_key(queue_prefix(queue), after.at_ms, after.item_id) + b"\x00"


def queue_time(queue: int, state: rp.ItemModeration) -> int:
    """The time an item is ordered by in ``queue``."""
    return state.appealed_at_ms if queue == rp.QUEUE_KIND_APPEALS else state.first_reported_at_ms


@dataclass(frozen=True, order=True)
class QueueCursor:
    """Where a queue page ended: the last item returned (ordered by time, then id)."""

    at_ms: int
    item_id: str


def encode_cursor(cursor: QueueCursor) -> str:
    """Opaque to clients: base64url (no padding) of a version byte, the ms and the item id."""
    raw = _CURSOR_HEAD.pack(_CURSOR_VERSION, cursor.at_ms) + cursor.item_id.encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str) -> QueueCursor | None:
    """The cursor a client sent ("" : the first page); InvalidInteraction for anything else."""
    if not text:
        return None
    bad = InvalidInteraction("cursor is not one this queue handed out")
    if len(text) > MAX_CURSOR_CHARS or not set(text) <= _CURSOR_ALPHABET:
        raise bad
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise bad from None
    if len(raw) <= _CURSOR_HEAD.size:
        raise bad
    version, at_ms = _CURSOR_HEAD.unpack(raw[:_CURSOR_HEAD.size])
    try:
        item_id = raw[_CURSOR_HEAD.size:].decode()
    except UnicodeDecodeError:
        raise bad from None
    if version != _CURSOR_VERSION or at_ms < 0 or not (is_post_id(item_id)
                                                       or is_comment_id(item_id)):
        raise bad
    return QueueCursor(at_ms, item_id)


def merge_pages(queue: int, pages: Iterable[Iterable[rp.ItemModeration]], limit: int
                ) -> tuple[list[rp.ItemModeration], QueueCursor | None]:
    """The first ``limit`` items of the partitions' pages (each oldest first, each its first
    ``limit + 1`` items after the same cursor), and the next page's cursor (None: last).
    Because every partition returned its first ``limit + 1`` after the cursor, the first
    ``limit`` of their union are the queue's first ``limit`` (no gap, no duplicate), and a
    union longer than ``limit`` means another page exists."""
    merged = sorted((item for page in pages for item in page),
                    key=lambda s: (queue_time(queue, s), s.item_id))
    if len(merged) <= limit:
        return merged, None
    last = merged[limit - 1]
    return merged[:limit], QueueCursor(queue_time(queue, last), last.item_id)
