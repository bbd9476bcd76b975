"""Follow, unfollow and bell: the graph's use cases, and the tail that keeps the graph store.

A command reads what the store knows about the pair, lets ``domain/graph/rules.py`` decide
the facts, appends them to ``planet.social.graph.v1`` through the service's transactional
event log (under the same write lock as identity events: one producer, one transaction at a
time) and then applies them to the graph store: both sides (follower's and followee's) and
the topic partition's next offset in one write batch.

Why both sides in one batch and not the inbound topic: this instance owns every partition
(the transactional id fences any other), so the followee's side is in the same store and one
batch makes the two sides and both counts change together or not at all. The re-keyed
inbound topic only earns its keep once partitions are split across instances; writing it
now would add a second consumer and a window where the counts disagree, for nothing.

The tail reads the graph topic from the store's offset: records the command already applied
(offset below the stored one) are skipped, and a fact committed by a command that crashed
before it applied it is applied on the next start. So the store survives restarts and
rebuilds from the log when its directory is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message

from planet.social.v1 import graph_pb2 as graph
from planet.social.v1 import social_service_pb2 as rpc
from planetkit.envelope import UndecodableEvent, decode, wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.service_identities import SOCIAL
from services.social.adapters.graph_store import GraphStore
from services.social.adapters.kafka_log import Append
from services.social.domain import account as acc
from services.social.domain.errors import Denied, Invalid, NotFound, NotServing, Precondition
from services.social.domain.graph import rules
from services.social.domain.graph.apply import Side
from services.social.domain.validation import check_user_id
from services.social.handlers import EventLog, SocialHandlers, event_id_for

log = logging.getLogger(__name__)
DEFAULT_PAGE = 100
MAX_PAGE = 1000
_FACTS = (graph.Followed, graph.Unfollowed, graph.BellSet)


def source_name(topic: str, partition: int) -> str:
    """The name a topic partition's next offset is kept under in the graph store."""
    return f"{topic}/{partition}"


class FollowHandlers:
    """Follow, unfollow, bell and the lists, over the graph store and the event log."""

    def __init__(self, accounts: SocialHandlers, store: GraphStore, log_: EventLog,
                 topic: str, partitions: int, clock_ms: Callable[[], int]) -> None:
        self._accounts = accounts
        self._store = store
        self._log = log_
        self._topic = topic
        self._partitions = partitions
        self._clock_ms = clock_ms

    def _ready(self) -> None:
        if not self._accounts.serving:
            raise NotServing("the social service is restoring its state; retry")

    def _creator(self, user_id: str) -> None:
        """NotFound unless ``user_id`` holds an identity that is not closed."""
        state = self._accounts.account(user_id)
        if not acc.has_identity(state) or state.status == rpc.IDENTITY_STATUS_CLOSED:
            raise NotFound("no creator with this user id")

    def _state(self, user: str, creator: str) -> rpc.FollowState:
        view = self._store.view(user, creator)
        return rpc.FollowState(following=view.following, bell=view.bell,
                               creator_follower_count=self._store.follower_count(creator))

    async def _decide(self, user: str, creator: str,
                      rule: Callable[[rules.EdgeView, int], list[Message]]) -> rpc.FollowState:
        check_user_id(user)
        check_user_id(creator)
        if "\x00" in user or "\x00" in creator:
            raise Invalid("a user id must not contain NUL")
        async with self._accounts.write_lock:
            self._ready()
            self._creator(creator)
            now = self._clock_ms()
            try:
                facts = rule(self._store.view(user, creator), now)
            except rules.SelfAction as exc:
                raise Invalid(str(exc)) from None
            except rules.BlockedPair as exc:
                raise Denied(str(exc)) from None
            except rules.NotFollowing as exc:
                raise Precondition(str(exc)) from None
            except rules.GraphRuleError as exc:
                raise Invalid(str(exc)) from None
            if facts:
                await self._append(user, facts, now)
            return self._state(user, creator)

    async def _append(self, user: str, facts: Sequence[Message], now: int) -> None:
        partition = partition_for(user, self._partitions)
        source = source_name(self._topic, partition)
        # The partition's next offset as this store knows it grows with every append, so
        # (user, offset, index) names each fact once, and a retry of a failed append
        # (nothing visible) reuses the id.
        base = self._store.applied(source)
        appends = [Append(self._topic, partition, wrap(
            fact, event_id=event_id_for(f"{user}\x00{base}", "graph", i + 1), source=SOCIAL,
            aggregate_id=user, occurred_at_ms=now)) for i, fact in enumerate(facts)]
        offsets = await self._log.append(appends)
        self._store.apply(facts, Side.BOTH, source=source, next_offset=max(offsets) + 1)

    async def follow(self, user: str, creator: str) -> rpc.FollowState:
        """``user`` follows ``creator``; a repeat changes nothing."""
        return await self._decide(user, creator,
                                  lambda v, now: rules.follow(user, creator, v, now))

    async def unfollow(self, user: str, creator: str) -> rpc.FollowState:
        """``user`` stops following ``creator`` (the bell with it); a repeat changes nothing."""
        return await self._decide(user, creator,
                                  lambda v, now: rules.unfollow(user, creator, v, now))

    async def set_bell(self, user: str, creator: str, on: bool) -> rpc.FollowState:
        """Turn ``user``'s bell for ``creator`` on or off (on needs a follow)."""
        return await self._decide(user, creator,
                                  lambda v, now: rules.set_bell(user, creator, on, v, now))

    def counts(self, user: str) -> tuple[int, int]:
        """(followers, following) of ``user``, exact."""
        self._ready()
        return self._store.follower_count(user), self._store.following_count(user)

    def page(self, which: str, user: str, cursor: str, limit: int) -> rpc.FollowPage:
        """``followers`` or ``following`` of ``user`` after ``cursor``."""
        self._ready()
        check_user_id(user)
        limit = limit or DEFAULT_PAGE
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid(f"limit must be 1 to {MAX_PAGE}")
        lister = self._store.followers if which == "followers" else self._store.following
        try:
            page = lister(user, cursor, limit)
        except ValueError as exc:
            raise Invalid(f"bad user id or cursor: {exc}") from None
        return rpc.FollowPage(user_ids=page.ids, next_cursor=page.next_cursor or "")


class GraphTail:
    """Reads the graph (or blocks) topic into the graph store from the store's own offsets."""

    def __init__(self, store: GraphStore, topic: str, partitions: int,
                 facts: tuple[type[Message], ...] = _FACTS, *, closes_store: bool = True
                 ) -> None:
        self.store = store
        self._closes_store = closes_store
        self.topic = topic
        self._partitions = partitions
        # The graph topic's facts, or the blocks topic's (services/social/relations.py).
        self._facts = facts

    def close(self) -> None:
        """Flush and close the graph store (unless another tail of it does)."""
        if self._closes_store:
            self.store.close()

    def partitions(self) -> list[TopicPartition]:
        """Every partition of the graph topic (this instance owns them all)."""
        return [TopicPartition(self.topic, p) for p in range(self._partitions)]

    def offset(self, tp: TopicPartition, end: int) -> int:
        """Where to start reading ``tp``: the store's next offset (never past the end)."""
        applied = self.store.applied(source_name(tp.topic, tp.partition))
        if applied > end:
            # A topic recreated under a kept store: the store's facts are not this topic's.
            log.warning("graph store ahead of its topic", extra={
                "topic": tp.topic, "partition": tp.partition, "applied": applied, "end": end})
        return min(applied, end)

    async def apply(self, tp: TopicPartition,
                    records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        """Apply the records not applied yet; how many facts were applied."""
        source = source_name(tp.topic, tp.partition)
        applied = self.store.applied(source)
        facts: list[Message] = []
        last = -1
        for record in records:
            if record.offset < applied:
                continue  # the command that appended it applied it already
            last = record.offset
            try:
                facts.append(decode(record.value, *self._facts).payload)
            except UndecodableEvent as exc:
                log.error("skipping an undecodable graph record", extra={
                    "source": source, "offset": record.offset, "error": str(exc)})
        if last >= 0:
            self.store.apply(facts, Side.BOTH, source=source, next_offset=last + 1)
        return len(facts)
