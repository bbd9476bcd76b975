"""Topics: hashtags normalised into topic names, the topic index's layout, and the engaged
ranking of a topic page (pure: no I/O, no clock).

**Normalisation.** A hashtag becomes a topic by Unicode NFKC (fullwidth ``ＢＴＣ`` -> ``BTC``,
ligatures and compatibility forms folded), then ``str.casefold`` (``BTC`` and ``btc`` and
``Straße``/``strasse`` meet), then NFKC again (casefolding can leave a string that is not in
normal form). The result must be 1-50 characters, each a letter (Unicode category L*), a
decimal digit (Nd), a combining mark (Mn, Mc: scripts such as Devanagari need them) or
``_``; anything else (spaces, punctuation, symbols, emoji, controls, format characters such
as zero-width joiners) is refused with the offending character named. The check walks the
characters' Unicode categories: no regular expression decides it.

**The index** lives on the topic's partition of planet.content.topic-posts.v1 (murmur2 of the
topic name; co-partitioned with the posts topic, like the author index). One key per (topic,
published time, post), nothing per topic that grows except those entries:

  ``t:<topic length, 2 bytes><topic, UTF-8><inverted published ms, 8 bytes><post id>``
      -> the post as stored in the posts store (version, then the PostPublished payload)
  ``q:<topic length><topic><post id>`` -> the aggregate version last applied, whether the
      post is listed, and its ``t:`` key (one read finds an entry; edits and deletions fold
      in by version: domain/topic_entries.py)

A newest-first page is a range scan from just after the cursor, as for an author; the cursor
codec is the author index's (published ms and post id), so no second format exists.

**Most engaged.** A post's engagement in a window is the number of *distinct* users who
commented on, liked or shared it within the window, excluding the post's author (self-
engagement) and every account under a sanction standing at the time of the read (their
engagement counts again once the sanction is lifted or an appeal granted). Ties: the newer
post first, then the post id. Distinct users are kept exactly, as one key per (topic, UTC day,
post, user) holding the latest time that user engaged that day: a 24 h window reads today's and
yesterday's days and keeps the times inside it; 7 days read eight days. Days older than 8 are
deleted, so what is kept is bounded by the engagement of the last 8 days, never by the
audience's size over all time, and no approximate sketch is involved.

  ``g:<topic length><topic><UTC day, 4 bytes><post id length, 2 bytes><post id><user id>``
      -> the latest time (ms, 8 bytes) that user engaged that post that day
  ``h:<topic length><topic>`` -> the newest engagement day the topic has seen (4 bytes)
  ``c:<topic length><topic><UTC day><post id>`` -> how many ``g:`` keys (users) that post has
      that day (4 bytes), written in the batch that writes a new ``g:`` key
  ``k:<topic length><topic><UTC day><inverted count, 4 bytes><post id>`` -> nothing: the
      day's posts, most users first (the ``c:`` count's key in sorted order)
  ``l:<topic length><topic><UTC hour, 4 bytes><post id length><post id><ms, 8 bytes><user id>``
      -> nothing: the latest time (over the days kept) the user engaged the post, filed
      under its hour
  ``m:<topic length><topic><UTC hour><post id>`` -> how many users' latest time (``l:``) is
      in that hour (4 bytes; no key at 0)
  ``n:<topic length><topic><UTC day><post id>`` -> the same per day (whole days inside a
      window read one key, not 24)

**Ranking without reading the window** (rank_engaged_top). The sum of a post's day counts over
the window's days is an upper bound of its distinct users there (a user on two days counts
twice; times outside the window on its edge days, the author and sanctioned accounts are in
it). The ranking reads each day's ``k:`` list most first (the *threshold*: no post not read yet
has more than the sum of the lists' current counts), looks up the whole bound of each post it
meets, and counts exactly (its ``g:`` keys of the window's days, as rank_engaged counts them)
the posts in decreasing bound; it stops once neither a bound left nor the threshold reaches
the wanted-th exact count found. A post whose bound is below that count has fewer users than
each of the wanted posts, so ties on the count are always counted out and the result equals
rank_engaged's full ranking cut to the same length (tested against it).

**Counting a post exactly without reading its users.** A user counts when one of their day
keys in the window is in ``(now - window, now]``; as a day key holds that day's latest time,
that is when their latest time over the days kept is in it (or, for a time after ``now`` from
a skewed clock, when an earlier day key is: checked one by one). So the count is the ``n:``
and ``m:`` counts of the days and hours wholly inside the window, plus the ``l:`` keys of the
window's first hour after its start, minus those of the current hour after ``now``, minus the
author and each sanctioned user who counted (point reads of their day keys). A post with
fewer day keys than that takes reads is counted from its ``g:`` keys instead. Either way the
cost follows the number of posts counted, not their audiences.

Engagement reaches the index as TopicEngagement facts (domain/topic_engagement.py says what
counts: comments, replies, likes of the post or its comments, shares; unlikes and deletes do
not withdraw it).
"""

from __future__ import annotations

import bisect
import heapq
import struct
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from services.content.domain.author_index import Cursor
from services.content.domain.markdown import POLICY_VERSION

# 2: (topic, post) entries fold edits and deletions (domain/topic_entries.py), and hold the
# body rendered under the Markdown policy (its version is part of the format, as for posts).
# 3: per (topic, day, post) user counts and the per-day lists by count (``c:``, ``k:``).
FORMAT = b"content-topic-posts/3.md%d" % POLICY_VERSION
MAX_TOPIC_CHARS = 50
DAY_MS = 86_400_000
WINDOW_24H_MS = DAY_MS
WINDOW_7D_MS = 7 * DAY_MS
# Engagement days kept per topic: 7 days reach into an eighth UTC day.
KEPT_DAYS = 8

_ALLOWED_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nd", "Mn", "Mc"})
_ENTRY = b"t:"
_REVERSE = b"q:"
_ENGAGED = b"g:"
_HORIZON = b"h:"
_COUNT = b"c:"
_BY_COUNT = b"k:"
_LATEST = b"l:"
_BY_HOUR = b"m:"
_BY_LATEST_DAY = b"n:"
HOUR_MS = 3_600_000
_COUNT_VALUE = struct.Struct(">I")
_MAX_COUNT = 2**32 - 1
_LEN = struct.Struct(">H")
_TIME = struct.Struct(">Q")
_DAY = struct.Struct(">I")
_MAX_MS = 2**63 - 1


class InvalidTopic(ValueError):
    """A hashtag that does not normalise to a topic; the message says why."""


class Order(Enum):
    """How a topic page is ordered."""

    NEWEST = "newest"
    ENGAGED_24H = "engaged_24h"
    ENGAGED_7D = "engaged_7d"

    @property
    def window_ms(self) -> int:
        """The engagement window (0 for newest first)."""
        return {Order.NEWEST: 0, Order.ENGAGED_24H: WINDOW_24H_MS,
                Order.ENGAGED_7D: WINDOW_7D_MS}[self]


def normalise_topic(raw: str) -> str:
    """The topic a hashtag names (a leading ``#`` is dropped); InvalidTopic otherwise."""
    text = raw.strip()
    if text.startswith(("#", "＃")):
        text = text[1:]
    if len(text) > 4 * MAX_TOPIC_CHARS:
        # Bound the work before normalising (NFKC can expand a character up to 18-fold).
        raise InvalidTopic(f"hashtag has {len(text)} characters; the limit is {MAX_TOPIC_CHARS}")
    topic = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    if not topic:
        raise InvalidTopic("hashtag is empty")
    if len(topic) > MAX_TOPIC_CHARS:
        raise InvalidTopic(
            f"hashtag has {len(topic)} characters once normalised; the limit is "
            f"{MAX_TOPIC_CHARS}")
    for ch in topic:
        if ch != "_" and unicodedata.category(ch) not in _ALLOWED_CATEGORIES:
            raise InvalidTopic(
                f"hashtag {raw[:MAX_TOPIC_CHARS + 1]!r} holds {_name(ch)}: a topic is letters, "
                "digits and _")
    return topic


def _name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def topics_of(hashtags: Iterable[str]) -> tuple[str, ...]:
    """The distinct topics of a post's hashtags, in first-seen order (each already valid)."""
    return tuple(dict.fromkeys(normalise_topic(h) for h in hashtags))


def _topic_bytes(topic: str) -> bytes:
    raw = topic.encode()
    return _LEN.pack(len(raw)) + raw


def topic_prefix(topic: str) -> bytes:
    """The first bytes of every index key of ``topic`` (and of no other topic's)."""
    return _ENTRY + _topic_bytes(topic)


def entry_key(topic: str, published_at_ms: int, post_id: str) -> bytes:
    """The index key of one post under one topic; ascending is newest first."""
    ms = min(max(published_at_ms, 0), _MAX_MS)
    return topic_prefix(topic) + _TIME.pack(_MAX_MS - ms) + post_id.encode()


def reverse_key(topic: str, post_id: str) -> bytes:
    """Where a (topic, post) entry's key is kept."""
    return _REVERSE + _topic_bytes(topic) + post_id.encode()


def start_after(topic: str, cursor: Cursor | None) -> bytes:
    """The first key a newest-first page after ``cursor`` may return (inclusive)."""
    if cursor is None:
        return topic_prefix(topic)
    return entry_key(topic, cursor.published_at_ms, cursor.post_id) + b"\x00"


def day_of(at_ms: int) -> int:
    """The UTC day number of a time."""
    return max(at_ms, 0) // DAY_MS


def engaged_prefix(topic: str, day: int) -> bytes:
    """The first bytes of every engagement key of ``topic`` on ``day``."""
    return _ENGAGED + _topic_bytes(topic) + _DAY.pack(day)


def newest_day_key(topic: str) -> bytes:
    """Where the newest engagement day a topic has seen is kept (its horizon's base)."""
    return _HORIZON + _topic_bytes(topic)


def day_value(day: int) -> bytes:
    """A day number as stored."""
    return _DAY.pack(day)


def day_from_value(raw: bytes) -> int:
    """A stored day number."""
    (day,) = _DAY.unpack(raw)
    return int(day)


def engaged_key(topic: str, day: int, post_id: str, user_id: str) -> bytes:
    """One (topic, day, post, user) engagement: the exact distinct set, one key per member."""
    post = post_id.encode()
    return engaged_prefix(topic, day) + _LEN.pack(len(post)) + post + user_id.encode()


def split_engaged_key(key: bytes, prefix: bytes) -> tuple[str, str]:
    """(post id, user id) of an engagement key under ``prefix``."""
    rest = key[len(prefix):]
    (n,) = _LEN.unpack_from(rest)
    return rest[2:2 + n].decode(), rest[2 + n:].decode()


def count_key(topic: str, day: int) -> bytes:
    """The first bytes of the user counts of ``topic``'s posts on ``day`` (a post id follows)."""
    return _COUNT + _topic_bytes(topic) + _DAY.pack(day)


def by_count_prefix(topic: str, day: int) -> bytes:
    """The first bytes of ``day``'s list of ``topic``'s posts, most users first."""
    return _BY_COUNT + _topic_bytes(topic) + _DAY.pack(day)


def by_count_key(topic: str, day: int, count: int, post_id: str) -> bytes:
    """A post's place in its day's list: ascending is most users first."""
    return by_count_prefix(topic, day) + _COUNT_VALUE.pack(_MAX_COUNT - count) + post_id.encode()


def split_by_count_key(key: bytes, prefix: bytes) -> tuple[int, str]:
    """(count, post id) of a key of the list under ``prefix``."""
    (inverted,) = _COUNT_VALUE.unpack_from(key, len(prefix))
    return _MAX_COUNT - int(inverted), key[len(prefix) + _COUNT_VALUE.size:].decode()


def count_value(count: int) -> bytes:
    """A user count as stored."""
    return _COUNT_VALUE.pack(count)


def count_from_value(raw: bytes) -> int:
    """A stored user count."""
    (count,) = _COUNT_VALUE.unpack(raw)
    return int(count)


def hour_of(at_ms: int) -> int:
    """The UTC hour number of a time."""
    return max(at_ms, 0) // HOUR_MS


def latest_prefix(topic: str, hour: int) -> bytes:
    """The first bytes of the latest-time keys of ``topic`` filed under ``hour``."""
    return _LATEST + _topic_bytes(topic) + _DAY.pack(hour)


def latest_post_prefix(topic: str, hour: int, post_id: str) -> bytes:
    """The first bytes of the latest-time keys of one post in one hour (ms, user follow)."""
    post = post_id.encode()
    return latest_prefix(topic, hour) + _LEN.pack(len(post)) + post


def latest_key(topic: str, post_id: str, at_ms: int, user_id: str) -> bytes:
    """A user's latest engagement with a post, under its hour (ascending: oldest first)."""
    return (latest_post_prefix(topic, hour_of(at_ms), post_id) + _TIME.pack(at_ms)
            + user_id.encode())


def split_latest_key(key: bytes, prefix: bytes) -> tuple[int, str]:
    """(ms, user id) of a latest-time key under a post's hour ``prefix``."""
    (at,) = _TIME.unpack_from(key, len(prefix))
    return int(at), key[len(prefix) + _TIME.size:].decode()


def latest_after(prefix: bytes, at_ms: int) -> bytes:
    """The first latest-time key under ``prefix`` later than ``at_ms``."""
    return prefix + _TIME.pack(max(at_ms + 1, 0))


def hour_count_prefix(topic: str, hour: int) -> bytes:
    """The first bytes of the per-hour latest counts of ``topic`` (a post id follows)."""
    return _BY_HOUR + _topic_bytes(topic) + _DAY.pack(hour)


def latest_day_count_prefix(topic: str, day: int) -> bytes:
    """The first bytes of the per-day latest counts of ``topic`` (a post id follows)."""
    return _BY_LATEST_DAY + _topic_bytes(topic) + _DAY.pack(day)


def hour_count_keys(topic: str, hours: Iterable[int], post_id: str) -> list[bytes]:
    """The per-hour latest counts' keys of one post (built from one prefix: a read makes
    up to 48 of them per post)."""
    base, post = _BY_HOUR + _topic_bytes(topic), post_id.encode()
    return [base + _DAY.pack(hour) + post for hour in hours]


def latest_day_count_keys(topic: str, days: Iterable[int], post_id: str) -> list[bytes]:
    """The per-day latest counts' keys of one post."""
    base, post = _BY_LATEST_DAY + _topic_bytes(topic), post_id.encode()
    return [base + _DAY.pack(day) + post for day in days]


def engaged_post_prefix(topic: str, day: int, post_id: str) -> bytes:
    """The first bytes of every engagement key of one post on one day (a user id follows)."""
    post = post_id.encode()
    return engaged_prefix(topic, day) + _LEN.pack(len(post)) + post


def days_in_window(now_ms: int, window_ms: int) -> range:
    """The UTC days a window ending at ``now_ms`` touches."""
    return range(day_of(now_ms - window_ms), day_of(now_ms) + 1)


@dataclass(frozen=True)
class Engagement:
    """A user engaged with a post (commented, liked or shared) at a time."""

    post_id: str
    user_id: str
    at_ms: int


@dataclass(frozen=True)
class RankedPost:
    """A post of a topic with its distinct engaging users in the window."""

    post_id: str
    engaged_users: int
    published_at_ms: int


def rank_engaged(
    posts: Mapping[str, tuple[str, int]],
    engagements: Iterable[Engagement],
    now_ms: int,
    window_ms: int,
    sanctioned: Callable[[str], bool],
) -> list[RankedPost]:
    """The topic's posts by distinct engaging users in ``(now - window, now]``, most first.

    ``posts`` maps each candidate post id to (author id, published ms). A user counts once per
    post however often they engaged; the author's own engagement and a sanctioned user's
    count for nothing; engagement with a post not among ``posts`` is ignored. Posts without
    engagement follow, newest first, so a page is never shorter than the topic.
    """
    since = now_ms - window_ms
    users: dict[str, set[str]] = {post_id: set() for post_id in posts}
    verdicts: dict[str, bool] = {}
    for e in engagements:
        if not since < e.at_ms <= now_ms or e.post_id not in posts:
            continue
        author, _ = posts[e.post_id]
        if e.user_id == author:
            continue
        banned = verdicts.get(e.user_id)
        if banned is None:
            banned = verdicts[e.user_id] = sanctioned(e.user_id)
        if not banned:
            users[e.post_id].add(e.user_id)
    ranked = [RankedPost(post_id, len(users[post_id]), ms)
              for post_id, (_, ms) in posts.items()]
    ranked.sort(key=lambda r: (-r.engaged_users, -r.published_at_ms, r.post_id))
    return ranked


class EngagementCounts(Protocol):
    """What rank_engaged_top reads of one topic (adapters/topic_store.TopicIndexStore)."""

    def by_count(self, day: int) -> Iterator[tuple[int, str]]:
        """(users, post id) of the day's posts, most users first."""

    def bounds(self, days: Sequence[int], post_ids: Sequence[str]) -> dict[str, int]:
        """Each post's day counts summed over ``days``."""

    def distinct(self, post_id: str, since_ms: int, now_ms: int, excluded: Collection[str],
                 bound: int) -> int:
        """How many users of the post have a day key in ``(since, now]``, those in
        ``excluded`` left out (``bound``: its day counts' sum, to choose how to count)."""

    def listed(self, post_ids: Sequence[str]) -> Mapping[str, tuple[str, int]]:
        """(author, published ms) of those posts listed on the topic's pages."""


# Sorted reads and exact counts go in small batches (one multi-get each).
_READ_BATCH = 32


def rank_engaged_top(
    counts: EngagementCounts,
    now_ms: int,
    window_ms: int,
    sanctioned: Collection[str],
    want: int,
) -> list[RankedPost]:
    """The first ``want`` posts of the ranking rank_engaged gives of every post engaged in the
    window (posts with no counted user left out), read by threshold (module docstring).
    ``sanctioned``: the accounts under a sanction standing at ``now_ms``."""
    since = now_ms - window_ms
    days = list(days_in_window(now_ms, window_ms))
    lists = [counts.by_count(day) for day in days]
    heads: list[tuple[int, str] | None] = [next(it, None) for it in lists]
    seen: set[str] = set()
    pending: list[tuple[int, str]] = []  # (-bound, post id) of posts met, not yet counted
    best: list[tuple[int, int, str]] = []  # (-users, -published, post id), at most ``want``

    def threshold() -> int:
        return sum(h[0] for h in heads if h is not None)

    def count(batch: list[tuple[int, str]]) -> None:
        found = counts.listed([post_id for _, post_id in batch])
        for bound, post_id in batch:
            if post_id not in found:
                continue  # deleted, removed or never listed under this topic
            author, published = found[post_id]
            users = counts.distinct(post_id, since, now_ms, {author, *sanctioned}, bound)
            if users:
                bisect.insort(best, (-users, -published, post_id))
                del best[want:]

    while want > 0:
        top = -pending[0][0] if pending else 0
        frontier = max(top, threshold())
        if frontier == 0 or (len(best) >= want and frontier < -best[-1][0]):
            break
        if pending and top >= threshold():
            # Count the posts whose bound is at least every unread post's, most first.
            floor = threshold()
            batch: list[tuple[int, str]] = []
            while pending and -pending[0][0] >= floor and len(batch) < _READ_BATCH:
                minus_bound, post_id = heapq.heappop(pending)
                batch.append((-minus_bound, post_id))
            count(batch)
            continue
        # Read on in the list whose current count is highest (lowers the threshold most).
        i = max(range(len(heads)), key=lambda j: _head_count(heads[j]))
        met: list[str] = []
        while (head := heads[i]) is not None and len(met) < _READ_BATCH:
            _, post_id = head
            if post_id not in seen:
                seen.add(post_id)
                met.append(post_id)
            heads[i] = next(lists[i], None)
        for post_id, bound in counts.bounds(days, met).items():
            heapq.heappush(pending, (-bound, post_id))
    return [RankedPost(post_id, -users, -published) for users, published, post_id in best]


def _head_count(head: tuple[int, str] | None) -> int:
    return -1 if head is None else head[0]


MAX_ARENA_ID_CHARS = 40
MAX_ARENA_NAME_CHARS = 80
MAX_ARENA_TOPICS = 20


@dataclass(frozen=True)
class Arena:
    """An operator-curated set of topics (RWA, AI, ...)."""

    arena_id: str
    name: str
    topics: tuple[str, ...]
    updated_at_ms: int


def check_arena(arena_id: str, name: str, topics: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """The arena's trimmed name and normalised distinct topics; InvalidTopic naming every
    problem. An arena id is 1-40 of a-z 0-9 - _ (it appears in URLs)."""
    problems: list[str] = []
    if not 1 <= len(arena_id) <= MAX_ARENA_ID_CHARS or not all(
            "a" <= c <= "z" or "0" <= c <= "9" or c in "-_" for c in arena_id):
        problems.append(f"arena id must be 1-{MAX_ARENA_ID_CHARS} of a-z 0-9 - _")
    name = name.strip()
    if not 1 <= len(name) <= MAX_ARENA_NAME_CHARS:
        problems.append(f"name must be 1-{MAX_ARENA_NAME_CHARS} characters")
    raw = list(topics)
    out: list[str] = []
    if not 1 <= len(raw) <= MAX_ARENA_TOPICS:
        problems.append(f"an arena has 1-{MAX_ARENA_TOPICS} topics, not {len(raw)}")
    else:
        for item in raw:
            try:
                topic = normalise_topic(item)
            except InvalidTopic as exc:
                problems.append(str(exc))
                continue
            if topic not in out:
                out.append(topic)
    if problems:
        raise InvalidTopic("; ".join(problems))
    return name, tuple(out)


class Arenas:
    """Every arena, as one replica holds them (a small table)."""

    def __init__(self) -> None:
        self._by_id: dict[str, Arena] = {}

    def put(self, arena: Arena) -> None:
        """A definition replaces an older one (by time; a replayed older record never wins)."""
        known = self._by_id.get(arena.arena_id)
        if known is None or known.updated_at_ms <= arena.updated_at_ms:
            self._by_id[arena.arena_id] = arena

    def get(self, arena_id: str) -> Arena | None:
        """The arena, if defined."""
        return self._by_id.get(arena_id)

    def all(self) -> list[Arena]:
        """Every arena, by id."""
        return [self._by_id[a] for a in sorted(self._by_id)]


class Sanctions:
    """Which accounts are under a sanction (from social's AccountSanctioned, SanctionLifted
    and granted AppealDecided facts): per user, each standing sanction's end (0: none)."""

    def __init__(self) -> None:
        self._by_user: dict[str, dict[str, int]] = {}

    def sanctioned(self, user_id: str, sanction_id: str, until_ms: int) -> None:
        """A sanction was imposed."""
        self._by_user.setdefault(user_id, {})[sanction_id] = until_ms

    def lifted(self, user_id: str, sanction_id: str) -> None:
        """A sanction was lifted (by an operator, or by a granted appeal)."""
        standing = self._by_user.get(user_id)
        if standing is not None:
            standing.pop(sanction_id, None)
            if not standing:
                del self._by_user[user_id]

    def standing(self, user_id: str) -> dict[str, int]:
        """The user's sanctions not lifted: sanction id -> end (0: none)."""
        return dict(self._by_user.get(user_id, {}))

    def clear(self) -> None:
        """Forget every sanction (the table is read again from the start)."""
        self._by_user.clear()

    def standing_at(self, now_ms: int) -> frozenset[str]:
        """Every user with a sanction standing at ``now_ms``."""
        return frozenset(u for u in self._by_user if self.is_sanctioned(u, now_ms))

    def is_sanctioned(self, user_id: str, now_ms: int) -> bool:
        """True when any of the user's sanctions stands at ``now_ms``."""
        return any(until == 0 or until > now_ms
                   for until in self._by_user.get(user_id, {}).values())
