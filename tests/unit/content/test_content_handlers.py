"""The use cases over real partition stores (RocksDB in a temp dir) and an in-memory log."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1.events_pb2 import PostPublished
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import decode, encode
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth import Caller
from planetkit.service_identities import CONTENT, GATEWAY
from services.content.adapters.author_index_store import AuthorIndexStores
from services.content.adapters.post_store import PostStores
from services.content.domain.commands import PublishPost
from services.content.domain.errors import NotPublisher
from services.content.domain.ids import post_id_for
from services.content.domain.model import PostKind
from services.content.domain.validation import InvalidPost
from services.content.handlers import (
    ContentHandlers,
    EventLogUnavailable,
    NotServing,
    Ownership,
)

PARTITIONS = 4
ALICE = Caller(GATEWAY, "user_1", frozenset())


class MemoryLog:
    """An event log that keeps envelopes in a list and can be told to fail."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[Envelope, int]] = []
        # (author id, author partition) of each append: the author-posts copy.
        self.authors: list[tuple[str, int]] = []
        self.fail = False

    async def append(
        self, envelope: Envelope, partition: int, author_id: str, author_partition: int
    ) -> None:
        await asyncio.sleep(0)  # let racing publishes interleave
        if self.fail:
            raise EventLogUnavailable("broker down")
        self.envelopes.append((envelope, partition))
        self.authors.append((author_id, author_partition))

    async def own(self, partitions: Iterable[int]) -> None:
        return None

    async def close(self) -> None:
        return None


class NoPeers:
    """No other replica: every call to one is a test failure."""

    async def get_post(self, addr: str, post_id: str, caller: Caller) -> rpc.Post | None:
        raise AssertionError(f"forwarded GetPost to {addr}")

    async def resolve_authors(self, addr: str, ids: list[str], caller: Caller) -> dict[str, str]:
        raise AssertionError(f"forwarded ResolveAuthors to {addr}")

    async def publish(
        self, addr: str, request: rpc.PublishPostRequest, caller: Caller
    ) -> rpc.Post:
        raise AssertionError(f"forwarded PublishPost to {addr}")

    async def list_author_posts(
        self, addr: str, request: rpc.ListAuthorPostsRequest, caller: Caller
    ) -> rpc.ListAuthorPostsResponse:
        raise AssertionError(f"forwarded ListAuthorPosts to {addr}")

    async def close(self) -> None:
        return None


class Identities:
    """The social service's answer per creator (the real one is tested in tests/kafka/social)."""

    def __init__(self, refusals: dict[str, str] | None = None) -> None:
        self.refusals = refusals or {}
        self.asked: list[str] = []

    async def refusal(self, creator_id: str, caller: Caller,
                      mentions: Sequence[str] = ()) -> str:
        self.asked.append(creator_id)
        return self.refusals.get(creator_id, "")

    async def close(self) -> None:
        return None


def _cmd(request_id: str = "req-1") -> PublishPost:
    return PublishPost(request_id, "user_1", PostKind.SHORT, "", "gm", ("crypto",))


def _ownership(local: set[int]) -> Ownership:
    return Ownership(PARTITIONS, "me:1", owners={p: "me:1" if p in local else "peer:2"
                                                 for p in range(PARTITIONS)},
                     local=frozenset(local), serving=True)


def _handlers(tmp_path: Path, log: MemoryLog, local: set[int] | None = None,
              identities: Identities | None = None) -> tuple[ContentHandlers, PostStores]:
    stores = PostStores(tmp_path, "posts")
    ownership = _ownership(set(range(PARTITIONS)) if local is None else local)
    return ContentHandlers(stores, AuthorIndexStores(tmp_path, "author-posts"), log, NoPeers(),
                           ownership, lambda: 1_700_000_000_000,
                           identities or Identities()), stores


async def test_publish_appends_one_event_to_the_ids_partition_then_serves_the_post(
    tmp_path: Path,
) -> None:
    log = MemoryLog()
    handlers, stores = _handlers(tmp_path, log)
    result = await handlers.publish_post(_cmd(), ALICE)
    assert result.created
    [(env, partition)] = log.envelopes
    assert partition == partition_for(result.post.post_id, PARTITIONS)
    event = decode(encode(env), PostPublished)
    assert env.aggregate_id == result.post.post_id
    assert (env.aggregate_version, env.source) == (1, "content")
    assert event.payload.body == "gm"
    assert await handlers.get_post(result.post.post_id, ALICE) == result.post
    assert await handlers.resolve_authors([result.post.post_id, "nope"], ALICE) == {
        result.post.post_id: "user_1"
    }
    stores.close()


async def test_the_same_request_twice_publishes_once_even_when_racing(tmp_path: Path) -> None:
    log = MemoryLog()
    handlers, stores = _handlers(tmp_path, log)
    a, b, c = await asyncio.gather(*(handlers.publish_post(_cmd(), ALICE) for _ in range(3)))
    assert len(log.envelopes) == 1
    assert a.post == b.post == c.post
    assert [a.created, b.created, c.created].count(True) == 1
    stores.close()


async def test_an_invalid_post_appends_nothing(tmp_path: Path) -> None:
    log = MemoryLog()
    handlers, stores = _handlers(tmp_path, log)
    with pytest.raises(InvalidPost):
        await handlers.publish_post(PublishPost("r", "u", PostKind.SHORT, "", ""), ALICE)
    assert log.envelopes == []
    stores.close()


async def test_a_failed_append_is_not_applied_and_can_be_retried(tmp_path: Path) -> None:
    log = MemoryLog()
    handlers, stores = _handlers(tmp_path, log)
    log.fail = True
    with pytest.raises(EventLogUnavailable):
        await handlers.publish_post(_cmd(), ALICE)
    assert await handlers.get_post(post_id_for("user_1", "req-1"), ALICE) is None
    log.fail = False
    assert (await handlers.publish_post(_cmd(), ALICE)).created
    assert len(log.envelopes) == 1
    stores.close()


async def test_nothing_is_answered_while_restoring_or_rebalancing(tmp_path: Path) -> None:
    handlers, stores = _handlers(tmp_path, MemoryLog())
    handlers._ownership.serving = False
    with pytest.raises(NotServing, match="restoring or rebalancing"):
        await handlers.get_post("post_x", ALICE)
    stores.close()


async def test_a_forwarded_call_is_never_forwarded_again(tmp_path: Path) -> None:
    # This replica owns nothing: a call from another replica means the partition moved
    # after that replica routed it. UNAVAILABLE (retry), not a second hop.
    handlers, stores = _handlers(tmp_path, MemoryLog(), local=set())
    forwarded = Caller(CONTENT, "user_1", frozenset())
    with pytest.raises(NotServing, match="moving between replicas"):
        await handlers.get_post("post_x", forwarded)
    with pytest.raises(NotServing, match="moving between replicas"):
        await handlers.publish_post(_cmd(), forwarded)
    stores.close()


async def test_only_a_creator_with_an_open_identity_publishes(tmp_path: Path) -> None:
    log = MemoryLog()
    identities = Identities({"user_1": "identity suspended"})
    handlers, stores = _handlers(tmp_path, log, identities=identities)
    with pytest.raises(NotPublisher, match="identity suspended"):
        await handlers.publish_post(_cmd(), ALICE)
    assert log.envelopes == [] and identities.asked == ["user_1"]
    # A call forwarded by another replica was checked there: not asked twice.
    identities.refusals.clear()
    forwarded = Caller(CONTENT, "user_1", frozenset())
    assert (await handlers.publish_post(_cmd(), forwarded)).created
    assert identities.asked == ["user_1"]
    stores.close()


async def test_a_published_post_is_in_its_authors_list_at_once_when_the_author_is_local(
    tmp_path: Path,
) -> None:
    log = MemoryLog()
    handlers, _ = _handlers(tmp_path, log)
    first = await handlers.publish_post(_cmd("req-1"), ALICE)
    second = await handlers.publish_post(_cmd("req-2"), ALICE)
    assert log.authors == [("user_1", partition_for("user_1", PARTITIONS))] * 2
    posts, cursor = await handlers.list_author_posts("user_1", None, 20, ALICE)
    # Same clock: newest first is then post id order (the key's tie-break), deterministic.
    assert {p.post_id for p in posts} == {first.post.post_id, second.post.post_id}
    assert cursor == ""
    assert await handlers.list_author_posts("user_2", None, 20, ALICE) == ([], "")


async def test_an_authors_list_kept_by_another_replica_is_forwarded(tmp_path: Path) -> None:
    author_partition = partition_for("user_1", PARTITIONS)
    handlers, _ = _handlers(tmp_path, MemoryLog(),
                            local=set(range(PARTITIONS)) - {author_partition})
    with pytest.raises(AssertionError, match="forwarded ListAuthorPosts to peer:2"):
        await handlers.list_author_posts("user_1", None, 20, ALICE)
    # ... but never a second time: a forwarded call for a partition not here is UNAVAILABLE.
    with pytest.raises(NotServing):
        await handlers.list_author_posts("user_1", None, 20, Caller(CONTENT, "user_1",
                                                                     frozenset()))
