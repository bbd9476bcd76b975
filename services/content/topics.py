"""The topic use cases (topic pages, arenas, the instrument list) and the publish hooks that
check components against the instruments and index a post under its topics.

A topic's posts live on the topic's partition of planet.content.topic-posts.v1 (murmur2 of the
normalised topic; co-partitioned with the posts topic, so the replica owning posts partition p
keeps topic partition p). A page is answered by that owner alone: a request for a topic another
replica keeps is forwarded to it once (a forwarded call that lands on a replica no longer
owning it answers UNAVAILABLE, which callers retry), exactly as for a post or an author.

Arenas, instruments and sanctions are small tables every replica keeps whole
(adapters/instrument_store.py), so they are answered locally.

Most engaged (``domain/topics.py`` defines it): the owner keeps, per (topic, UTC day, post,
user), that the user engaged (fed by the TopicEngagement copies each comment, like and share
appends to the post's topics in its own transaction: topic_engagement.py); a page ranks
the topic's posts engaged in the window by distinct users, the author and sanctioned
accounts excluded. It reads the per-day counts kept beside those keys by threshold and counts
exactly only the posts that can reach the page (domain/topics.rank_engaged_top: the same
ranking as a scan of the whole window, at a cost that follows the page's depth, not the
topic's engagement). The cursor of an engaged page is its
position in that ranking (``o`` and a number, at most MAX_ENGAGED_OFFSET): the ranking moves
as people engage, so a later page may repeat or skip a post that moved; newest-first pages
are exact (a position in a fixed order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from planet.content.v1 import topics_pb2 as tpb
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth import Caller
from planetkit.topics import (
    ARENAS,
    INSTRUMENTS,
    SOCIAL_IDENTITIES,
    TOPIC_POSTS,
    Topic,
    with_suffix,
)
from services.content.domain.author_index import (
    Cursor,
    InvalidPage,
    decode_cursor,
    encode_cursor,
    page_limit,
)
from services.content.domain.codec import post_from_pb
from services.content.domain.commands import PublishPost
from services.content.domain.components import Instruments, instrument_problems
from services.content.domain.model import Post
from services.content.domain.post_events import PostEvent
from services.content.domain.topic_entries import touched_topics
from services.content.domain.topics import (
    Arena,
    Arenas,
    EngagementCounts,
    InvalidTopic,
    Order,
    Sanctions,
    check_arena,
    normalise_topic,
    rank_engaged_top,
    topics_of,
)
from services.content.domain.validation import InvalidPost
from services.content.routing import owner_address

OPERATOR_ROLES = frozenset({"operator", "admin"})
MAX_ENGAGED_OFFSET = 1_000


class NotOperator(PermissionError):
    """Only operators curate arenas."""


class UnknownArena(LookupError):
    """No arena has that id."""


class TopicIndex(Protocol):
    """One partition's topics (adapters/topic_store.TopicIndexStore)."""

    def page(self, topic: str, after: Cursor | None, limit: int
             ) -> tuple[list[Post], Cursor | None]:
        """Newest first after ``after``."""

    def posts(self, topic: str, post_ids: list[str]) -> dict[str, Post]:
        """The topic's entries among ``post_ids``."""

    def counts(self, topic: str) -> EngagementCounts:
        """The topic's engagement counts and keys (the most-engaged ranking reads them)."""

    def put_published(self, topic: str, post: Post) -> None:
        """Index a post just committed here."""

    def put_event(self, topic: str, envelope: Envelope, payload: PostEvent) -> None:
        """Apply an edit or deletion just committed here."""


class TopicIndexes(Protocol):
    """The topic stores of this replica."""

    def store(self, partition: int) -> TopicIndex:
        """The store of ``partition``."""


class Ownership(Protocol):
    """Who owns which partition (services.content.handlers.Ownership)."""

    partitions: int
    addr: str
    owners: dict[int, str]
    local: frozenset[int]
    serving: bool


class TopicPeers(Protocol):
    """The other replicas' TopicService (adapters/grpc_topics.TopicPeersClient)."""

    async def list_topic_posts(self, addr: str, request: tpb.ListTopicPostsRequest,
                               caller: Caller) -> tpb.ListTopicPostsResponse:
        """The owner's page."""


class ArenaLog(Protocol):
    """Where ArenaDefined facts are appended (planet.content.arenas.v1)."""

    async def append(self, fact: tpb.ArenaDefined) -> None:
        """Append and wait for the broker's ack; EventLogUnavailable otherwise."""


@dataclass(frozen=True)
class TopicPage:
    """A page of a topic (or an arena): posts with their engaging users, the next cursor."""

    topic: str
    posts: list[tuple[Post, int]]
    next_cursor: str


class TopicHandlers:
    """Topic pages, arenas and instruments over this replica's stores and tables."""

    def __init__(
        self,
        index: TopicIndexes,
        ownership: Ownership,
        peers: TopicPeers,
        instruments: Instruments,
        arenas: Arenas,
        sanctions: Sanctions,
        arena_log: ArenaLog,
        clock_ms: Callable[[], int],
    ) -> None:
        self._index = index
        self._ownership = ownership
        self._peers = peers
        self.instruments = instruments
        self.arenas = arenas
        self._sanctions = sanctions
        self._arena_log = arena_log
        self._clock_ms = clock_ms

    # -- publish hooks (ContentHandlers.publish_post) -------------------------------------

    def check(self, cmd: PublishPost) -> None:
        """A validated command's components against the instrument list, and its hashtags
        as topics; InvalidPost naming every unknown symbol or bad hashtag."""
        problems = instrument_problems(cmd.components, self.instruments)
        for hashtag in cmd.hashtags:
            try:
                normalise_topic(hashtag)
            except InvalidTopic as exc:
                problems.append(str(exc))
        if problems:
            raise InvalidPost("; ".join(problems))

    def targets(self, post: Post) -> list[tuple[str, int]]:
        """Each topic of the post with its topic-posts partition."""
        return [(t, partition_for(t, self._ownership.partitions))
                for t in topics_of(post.hashtags)]

    def indexed(self, post: Post, targets: list[tuple[str, int]]) -> None:
        """Show a just-committed post on the topic pages kept here at once (the owners of the
        other topics index it a fetch later)."""
        for topic, partition in targets:
            if partition in self._ownership.local:
                self._index.store(partition).put_published(topic, post)

    # -- lifecycle hooks (post_lifecycle.PostLifecycle: edits and deletions) ---------------

    def touched(self, before: Post, after: Post) -> list[tuple[str, int]]:
        """The topics (with their topic-posts partitions) an edit or deletion of ``before``
        into ``after`` is logged on: its topics before and after."""
        return [(t, partition_for(t, self._ownership.partitions))
                for t in touched_topics(before, after)]

    def changed(self, targets: list[tuple[str, int]], envelope: Envelope,
                payload: PostEvent) -> None:
        """Fold a just-committed edit or deletion into the topic pages kept here at once."""
        for topic, partition in targets:
            if partition in self._ownership.local:
                self._index.store(partition).put_event(topic, envelope, payload)

    # -- reads --------------------------------------------------------------------------

    def _owner(self, partition: int, caller: Caller) -> str | None:
        return owner_address(self._ownership, partition, caller, "topics")

    async def list_topic_posts(self, raw_topic: str, order: Order, cursor: str, limit: int,
                               caller: Caller) -> TopicPage:
        """A page of the topic, here or on its owner. InvalidTopic / InvalidPage on bad
        input (checked before anything is forwarded)."""
        topic = normalise_topic(raw_topic)
        limit = page_limit(limit)
        after = _engaged_offset(cursor) if order is not Order.NEWEST else decode_cursor(cursor)
        partition = partition_for(topic, self._ownership.partitions)
        owner = self._owner(partition, caller)
        if owner is not None:
            answered = await self._peers.list_topic_posts(owner, tpb.ListTopicPostsRequest(
                topic=topic, order=_ORDER_TO_PB[order], cursor=cursor, limit=limit), caller)
            return TopicPage(answered.topic,
                             [(post_from_pb(p.post), p.engaged_users) for p in answered.posts],
                             answered.next_cursor)
        store = self._index.store(partition)
        if order is Order.NEWEST:
            assert not isinstance(after, int)
            posts, following = store.page(topic, after, limit)
            return TopicPage(topic, [(p, 0) for p in posts],
                             "" if following is None else encode_cursor(following))
        assert isinstance(after, int)
        return self._engaged(store, topic, order, after, limit)

    def _engaged(self, store: TopicIndex, topic: str, order: Order, offset: int,
                 limit: int) -> TopicPage:
        now = self._clock_ms()
        following = offset + limit
        # The ranking's first offset + limit + 1 posts: one more says whether a next page is.
        ranked = rank_engaged_top(store.counts(topic), now, order.window_ms,
                                  self._sanctions.standing_at(now), following + 1)
        window = ranked[offset:following]
        found = store.posts(topic, [r.post_id for r in window])
        next_cursor = (f"o{following}" if following < len(ranked)
                       and following <= MAX_ENGAGED_OFFSET else "")
        return TopicPage(topic, [(found[r.post_id], r.engaged_users) for r in window
                                 if r.post_id in found], next_cursor)

    async def list_arena_posts(self, arena_id: str, cursor: str, limit: int,
                               caller: Caller) -> TopicPage:
        """An arena's posts, newest first across its topics (a post in two of them once).

        The cursor is the last post returned, a position in the one order every topic page
        shares (published time, then post id), so each topic's page after it merges exactly.
        """
        arena = self.arenas.get(arena_id)
        if arena is None:
            raise UnknownArena(f"no arena {arena_id[:64]!r}")
        limit = page_limit(limit)
        decode_cursor(cursor)  # refuse a bad cursor before any topic is asked
        pages = await asyncio.gather(*(
            self.list_topic_posts(t, Order.NEWEST, cursor, limit, caller)
            for t in arena.topics))
        merged: dict[str, Post] = {}
        more = False
        for page in pages:
            more = more or bool(page.next_cursor)
            for post, _ in page.posts:
                merged.setdefault(post.post_id, post)
        ordered = sorted(merged.values(), key=lambda p: (-p.published_at_ms, p.post_id))
        chosen = ordered[:limit]
        more = more or len(ordered) > limit
        next_cursor = (encode_cursor(Cursor(chosen[-1].published_at_ms, chosen[-1].post_id))
                       if more and chosen else "")
        return TopicPage("", [(p, 0) for p in chosen], next_cursor)

    async def put_arena(self, arena_id: str, name: str, topics: list[str],
                        caller: Caller) -> Arena:
        """Define or replace an arena (operators only): logged, then kept here at once."""
        if not caller.has_any_role(OPERATOR_ROLES):
            raise NotOperator("only operators curate arenas")
        name, normalised = check_arena(arena_id, name, topics)
        now = self._clock_ms()
        await self._arena_log.append(tpb.ArenaDefined(
            arena_id=arena_id, name=name, topics=normalised, operator_id=caller.user_id,
            at_ms=now))
        arena = Arena(arena_id, name, normalised, now)
        self.arenas.put(arena)
        return arena


_ORDER_TO_PB = {Order.NEWEST: tpb.TOPIC_ORDER_NEWEST,
                Order.ENGAGED_24H: tpb.TOPIC_ORDER_ENGAGED_24H,
                Order.ENGAGED_7D: tpb.TOPIC_ORDER_ENGAGED_7D}
ORDER_FROM_PB = {v: k for k, v in _ORDER_TO_PB.items()} | {
    tpb.TOPIC_ORDER_UNSPECIFIED: Order.NEWEST}


def _engaged_offset(cursor: str) -> int:
    """The position an engaged page's cursor names (0: the first page)."""
    if cursor == "":
        return 0
    digits = cursor[1:]
    if (cursor[0] != "o" or not 1 <= len(digits) <= 4
            or not all("0" <= c <= "9" for c in digits)
            or int(digits) > MAX_ENGAGED_OFFSET):
        raise InvalidPage("cursor must be next_cursor of a previous page of this order")
    return int(digits)


class PublishHooks(Protocol):
    """What publishing asks of the topic side (TopicHandlers): ContentHandlers takes it."""

    def check(self, cmd: PublishPost) -> None:
        """InvalidPost for unknown symbols or hashtags that are not topics."""

    def targets(self, post: Post) -> list[tuple[str, int]]:
        """The post's topics with their topic-posts partitions."""

    def indexed(self, post: Post, targets: list[tuple[str, int]]) -> None:
        """Index a committed post on the topic pages kept here."""


class ReferenceTable(Protocol):
    """A small table the replica reads whole before it serves (adapters/instrument_store)."""

    name: str
    loaded: bool

    async def run(self, stopping: asyncio.Event) -> None:
        """Read the table, then follow it until ``stopping``."""


@dataclass(frozen=True)
class TopicTopics:
    """The topics the topic side reads and writes (suffixed like the rest in tests)."""

    topic_posts: Topic
    arenas: Topic
    instruments: Topic
    identities: Topic

    @classmethod
    def with_suffix(cls, suffix: str) -> TopicTopics:
        """The registry's topics under ``suffix``."""
        return cls(with_suffix(TOPIC_POSTS, suffix), with_suffix(ARENAS, suffix),
                   with_suffix(INSTRUMENTS, suffix), with_suffix(SOCIAL_IDENTITIES, suffix))

    def all(self) -> list[Topic]:
        """Every one of them (required at start)."""
        return [self.topic_posts, self.arenas, self.instruments, self.identities]


class Closing:
    """Closes the topic side's clients when the replica stops: run as one of its tables
    (``loaded`` at once), its run ends when the replica cancels it."""

    name = "topic-side-closer"
    loaded = True

    def __init__(self, *closables: Callable[[], Awaitable[None]]) -> None:
        self._closables = closables

    async def run(self, stopping: asyncio.Event) -> None:
        """Wait for the stop (or the cancellation), then close everything."""
        try:
            await stopping.wait()
        finally:
            for close in self._closables:
                await close()
