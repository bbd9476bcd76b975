"""The social graph of one partition in an embedded RocksDB store (``rocksdict``).

One partition's store keeps both sides of its users: the actor side from
``planet.social.graph.v1`` and ``planet.social.blocks.v1`` (keyed by the actor) and the other
side from ``planet.social.graph-inbound.v1`` (keyed by the followee or blocked user); the
three are co-partitioned (same key space, same count), so a user's whole graph is on one
partition. Each apply writes the facts' key changes (edges and counts together, as
``domain/graph/apply.py`` decides) and the input's next offset in one write batch: a crash
never leaves a count that disagrees with its edges, nor a position that disagrees with both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from google.protobuf.message import Message
from rocksdict import WriteBatch

from services.social.adapters.rocks import open_store, scan
from services.social.domain.graph.apply import Side, changes
from services.social.domain.graph.rules import EdgeView
from services.social.domain.graph.stored import (
    BELL_SUBSCRIBER,
    BLOCKED_BY,
    BLOCKS,
    FOLLOWER,
    FOLLOWER_COUNT,
    FOLLOWING,
    FOLLOWING_COUNT,
    FORMAT,
    FORMAT_KEY,
    MUTED_BY,
    MUTES,
    SEP,
    applied_key,
    count_key,
    edge_from_value,
    int_from_value,
    int_value,
    pair_key,
    prefix,
    user_bytes,
)
from services.social.domain.notifications.rules import Relation

MAX_PAGE = 1000


@dataclass(frozen=True, slots=True)
class Page:
    """User ids in id order, and the cursor of the next page (None on the last)."""

    ids: list[str]
    next_cursor: str | None


class GraphStore:
    """Edges, counts, blocks and mutes of one partition's users, and its inputs' offsets."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_store(path, FORMAT, FORMAT_KEY)

    def _get(self, key: bytes) -> bytes | None:
        raw = self._db.get(key)
        return None if raw is None else bytes(raw)

    def applied(self, source: str) -> int:
        """The next offset to read of ``source`` (``topic/partition``); 0 when never applied."""
        return int_from_value(self._get(applied_key(source)))

    def apply(self, facts: Sequence[Message], side: Side, *, source: str | None = None,
              next_offset: int | None = None, offsets: Mapping[str, int] | None = None) -> None:
        """Write ``facts`` for ``side`` and, if given, ``source``'s next offset (or each of
        ``offsets``: a block's facts sit on two topics), in one batch."""
        batch = WriteBatch(raw_mode=True)
        for key, value in changes(list(facts), side, self._get).items():
            if value is None:
                batch.delete(key)
            else:
                batch.put(key, value)
        positions = dict(offsets or {})
        if source is not None and next_offset is not None:
            positions[source] = next_offset
        for name, offset in positions.items():
            batch.put(applied_key(name), int_value(offset))
        self._db.write(batch)

    def view(self, actor: str, other: str) -> EdgeView:
        """What this partition knows about ``actor`` and ``other`` (the rules' input)."""
        edge = self._get(pair_key(FOLLOWING, actor, other))
        return EdgeView(
            following=edge is not None,
            followed_by=self._get(pair_key(FOLLOWER, actor, other)) is not None,
            bell=edge is not None and edge_from_value(edge)[1],
            blocks=self._get(pair_key(BLOCKS, actor, other)) is not None,
            blocked_by=self._get(pair_key(BLOCKED_BY, actor, other)) is not None,
            mutes=self._get(pair_key(MUTES, actor, other)) is not None,
        )

    def relation(self, recipient: str, actor: str) -> Relation:
        """Whether ``recipient`` mutes or blocks ``actor``, or is blocked by them."""
        return Relation(
            mutes=self._get(pair_key(MUTES, recipient, actor)) is not None,
            blocks=self._get(pair_key(BLOCKS, recipient, actor)) is not None,
            blocked_by=self._get(pair_key(BLOCKED_BY, recipient, actor)) is not None,
        )

    def following_count(self, user: str) -> int:
        """How many users ``user`` follows (exact: moved with every edge)."""
        return int_from_value(self._get(count_key(FOLLOWING_COUNT, user)))

    def follower_count(self, user: str) -> int:
        """How many users follow ``user``."""
        return int_from_value(self._get(count_key(FOLLOWER_COUNT, user)))

    def following(self, user: str, after: str = "", limit: int = 100) -> Page:
        """Whom ``user`` follows, from after the cursor ``after``."""
        return self._page(FOLLOWING, user, after, limit)

    def followers(self, user: str, after: str = "", limit: int = 100) -> Page:
        """Who follows ``user``."""
        return self._page(FOLLOWER, user, after, limit)

    def blocked(self, user: str, after: str = "", limit: int = 100) -> Page:
        """Whom ``user`` blocks (for that user only)."""
        return self._page(BLOCKS, user, after, limit)

    def muted(self, user: str, after: str = "", limit: int = 100) -> Page:
        """Whom ``user`` mutes (for that user only)."""
        return self._page(MUTES, user, after, limit)

    def bell_subscribers(self, creator: str, after: str = "", limit: int = 10_000) -> Page:
        """Followers of ``creator`` with the bell on, in id order (the fan-out's input)."""
        return self._page(BELL_SUBSCRIBER, creator, after, limit, max_page=limit)

    def muted_by(self, muted: str, muters: Sequence[str]) -> set[str]:
        """Which of ``muters`` mute ``muted`` (one multi-get; the fan-out drops them)."""
        if not muters:
            return set()
        keys: list[str | int | float | bytes | bool] = [
            pair_key(MUTED_BY, muted, m) for m in muters]
        found = cast(list[bytes | None], self._db.get(keys))
        return {m for m, v in zip(muters, found, strict=True) if v is not None}

    def _page(self, kind: bytes, user: str, after: str, limit: int,
              max_page: int = MAX_PAGE) -> Page:
        if not 1 <= limit <= max_page:
            raise ValueError(f"a page holds 1 to {max_page} users, not {limit}")
        head = prefix(kind, user)
        # The smallest key after head+cursor: ids hold no NUL, so head+cursor+NUL sorts
        # after the cursor's own key and before every longer or greater id.
        start = head + user_bytes(after) + SEP if after else head
        ids = [bytes(k[len(head):]).decode() for k, _ in scan(self._db, head, start, limit + 1)]
        if len(ids) > limit:
            return Page(ids[:limit], ids[limit - 1])
        return Page(ids, None)

    def close(self) -> None:
        """Flush and close."""
        self._db.close()
