"""Which keys a graph fact changes (pure): the store supplies reads, this decides the writes.

Applying is idempotent and exact: an edge's key is written only when it was absent and
deleted only when present, and its count moves in the same change set, so replaying a fact
(a redelivery, a restart before the offset was stored) changes nothing and every count
equals the number of edges stored. Facts about a pair that no longer holds (a bell for an
edge already gone) change nothing either.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Flag, auto

from google.protobuf.message import Message

from planet.social.v1.graph_pb2 import (
    BellSet,
    Blocked,
    Followed,
    Muted,
    Unblocked,
    Unfollowed,
    Unmuted,
)
from services.social.domain.graph.stored import (
    BELL_SUBSCRIBER,
    BLOCKED_BY,
    BLOCKS,
    FOLLOWER,
    FOLLOWER_COUNT,
    FOLLOWING,
    FOLLOWING_COUNT,
    MUTED_BY,
    MUTES,
    count_key,
    edge_from_value,
    edge_value,
    int_from_value,
    int_value,
    pair_key,
)

Read = Callable[[bytes], bytes | None]
# A change: a key and its new value, or None to delete it.
Change = tuple[bytes, bytes | None]


class Side(Flag):
    """Which side's keys a store keeps for the facts it applies."""

    ACTOR = auto()  # from planet.social.graph.v1 and planet.social.blocks.v1
    OTHER = auto()  # from planet.social.graph-inbound.v1
    BOTH = ACTOR | OTHER  # one store holding every partition (tests, the benchmark)


class _Changes:
    """Writes so far, read through: later facts of one batch see earlier ones."""

    def __init__(self, read: Read) -> None:
        self._read = read
        self.pending: dict[bytes, bytes | None] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.pending:
            return self.pending[key]
        return self._read(key)

    def put(self, key: bytes, value: bytes | None) -> None:
        self.pending[key] = value

    def add(self, key: bytes, delta: int) -> None:
        self.put(key, int_value(int_from_value(self.get(key)) + delta))

    def insert(self, key: bytes, value: bytes, counter: bytes) -> None:
        if self.get(key) is None:
            self.put(key, value)
            self.add(counter, 1)

    def remove(self, key: bytes, counter: bytes | None = None) -> None:
        if self.get(key) is not None:
            self.put(key, None)
            if counter is not None:
                self.add(counter, -1)

    def flag(self, key: bytes, on: bool) -> None:
        if on and self.get(key) is None:
            self.put(key, b"")
        elif not on and self.get(key) is not None:
            self.put(key, None)


class UnknownFact(TypeError):
    """A message that is no graph fact."""


def changes(facts: list[Message], side: Side, read: Read) -> dict[bytes, bytes | None]:
    """The key changes ``facts`` make to a store keeping ``side``, in order, read through."""
    out = _Changes(read)
    for fact in facts:
        _apply(fact, side, out)
    return out.pending


def _apply(fact: Message, side: Side, out: _Changes) -> None:
    actor, other = Side.ACTOR in side, Side.OTHER in side
    if isinstance(fact, Followed):
        a, b = fact.follower_id, fact.followee_id
        if actor:
            out.insert(pair_key(FOLLOWING, a, b), edge_value(fact.at_ms, False),
                       count_key(FOLLOWING_COUNT, a))
        if other:
            out.insert(pair_key(FOLLOWER, b, a), int_value(fact.at_ms),
                       count_key(FOLLOWER_COUNT, b))
    elif isinstance(fact, Unfollowed):
        a, b = fact.follower_id, fact.followee_id
        if actor:
            out.remove(pair_key(FOLLOWING, a, b), count_key(FOLLOWING_COUNT, a))
        if other:
            out.remove(pair_key(FOLLOWER, b, a), count_key(FOLLOWER_COUNT, b))
            out.remove(pair_key(BELL_SUBSCRIBER, b, a))
    elif isinstance(fact, BellSet):
        a, c = fact.follower_id, fact.creator_id
        if actor:
            key = pair_key(FOLLOWING, a, c)
            raw = out.get(key)
            if raw is not None:
                at_ms, _ = edge_from_value(raw)
                out.put(key, edge_value(at_ms, fact.on))
        # A bell only counts on a standing edge: one for an edge already gone is stale.
        if other and out.get(pair_key(FOLLOWER, c, a)) is not None:
            out.flag(pair_key(BELL_SUBSCRIBER, c, a), fact.on)
    elif isinstance(fact, Blocked | Unblocked):
        on = isinstance(fact, Blocked)
        if actor:
            out.flag(pair_key(BLOCKS, fact.blocker_id, fact.blocked_id), on)
        if other:
            out.flag(pair_key(BLOCKED_BY, fact.blocked_id, fact.blocker_id), on)
    elif isinstance(fact, Muted | Unmuted):
        on = isinstance(fact, Muted)
        if actor:
            out.flag(pair_key(MUTES, fact.muter_id, fact.muted_id), on)
        if other:
            out.flag(pair_key(MUTED_BY, fact.muted_id, fact.muter_id), on)
    else:
        raise UnknownFact(f"not a graph fact: {type(fact).__name__}")
