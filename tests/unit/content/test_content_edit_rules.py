"""Edits, revisions and deletes over real RocksDB stores and an in-memory log: the author
rules, the revision check, retried requests, and a store rebuilt from the logged envelopes
equal to the live one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka.structs import ConsumerRecord

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode
from planetkit.kafka.partitioning import partition_for
from planetkit.service_auth import Caller
from planetkit.service_identities import GATEWAY
from services.content.adapters.author_index_store import AuthorIndexStores
from services.content.adapters.post_store import PostStores
from services.content.domain.commands import PublishPost
from services.content.domain.edits import EditPost
from services.content.domain.model import Post, PostKind
from services.content.domain.post_rules import NotAuthor, PostNotFound, RevisionConflict
from services.content.domain.validation import InvalidPost
from services.content.handlers import ContentHandlers, Ownership
from services.content.post_lifecycle import PostLifecycle

PARTITIONS = 4
ALICE = Caller(GATEWAY, "alice", frozenset())
BOB = Caller(GATEWAY, "bob", frozenset())
OPERATOR = Caller(GATEWAY, "op", frozenset({"operator"}))


class MemoryLog:
    """Envelopes per (topic, partition) as KafkaEventLog would append them."""

    def __init__(self) -> None:
        self.posts: dict[int, list[Envelope]] = {}
        self.authors: dict[int, list[Envelope]] = {}

    async def append(self, envelope: Envelope, partition: int, author_id: str,
                     author_partition: int) -> None:
        await asyncio.sleep(0)
        self.posts.setdefault(partition, []).append(envelope)
        self.authors.setdefault(author_partition, []).append(envelope)

    async def own(self, partitions: Iterable[int]) -> None:
        return None

    async def close(self) -> None:
        return None


class Nobody:
    """No other replica, and every creator may publish."""

    async def refusal(self, creator_id: str, caller: Caller,
                      mentions: Sequence[str] = ()) -> str:
        return ""

    async def close(self) -> None:
        return None


class Stack:
    def __init__(self, root: Path) -> None:
        self.log = MemoryLog()
        self.stores = PostStores(root, "posts")
        self.index = AuthorIndexStores(root, "author-posts")
        ownership = Ownership(PARTITIONS, "me:1", owners=dict.fromkeys(range(PARTITIONS), "me:1"),
                              local=frozenset(range(PARTITIONS)), serving=True)
        self.clock = 1_700_000_000_000
        self.handlers = ContentHandlers(self.stores, self.index, self.log, Nobody(),  # type: ignore[arg-type]
                                        ownership, self.now, Nobody())
        self.lifecycle = PostLifecycle(self.stores, self.index, self.log, Nobody(),  # type: ignore[arg-type]
                                       ownership, self.now)

    def now(self) -> int:
        self.clock += 1
        return self.clock

    async def article(self, request_id: str = "a1", body: str = "# v1") -> Post:
        published = await self.handlers.publish_post(PublishPost(
            request_id, "alice", PostKind.ARTICLE, "Title", body, ("sol",),
            summary="sum", cover_image_url="https://cdn.example/c.png"), ALICE)
        return published.post

    def close(self) -> None:
        self.stores.close()
        self.index.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterable[Stack]:
    s = Stack(tmp_path / "live")
    yield s
    s.close()


async def test_the_author_edits_revision_by_revision(stack: Stack) -> None:
    post = await stack.article()
    assert (post.revision, post.body_html) == (1, "<h1>v1</h1>\n")
    second = await stack.lifecycle.edit_post(
        EditPost(post.post_id, "alice", "e1", expected_revision=1, body="**v2**"), ALICE)
    assert (second.revision, second.version, second.body, second.title) == (
        2, 2, "**v2**", "Title")
    assert second.body_html == "<p><strong>v2</strong></p>\n"
    assert second.summary == "sum" and second.edited_at_ms > post.published_at_ms
    third = await stack.lifecycle.edit_post(
        EditPost(post.post_id, "alice", "e2", title="New", hashtags=("eth",)), ALICE)
    assert (third.revision, third.title, third.hashtags, third.body) == (
        3, "New", ("eth",), "**v2**")
    assert await stack.handlers.get_post(post.post_id, BOB) == third
    revisions, following = await stack.lifecycle.list_revisions(post.post_id, 0, 10, ALICE)
    assert [r.revision for r in revisions] == [3, 2, 1] and following == 0
    assert [r.body for r in revisions] == ["**v2**", "**v2**", "# v1"]
    page, following = await stack.lifecycle.list_revisions(post.post_id, 0, 2, OPERATOR)
    assert [r.revision for r in page] == [3, 2] and following == 2
    page, following = await stack.lifecycle.list_revisions(post.post_id, following, 2, ALICE)
    assert [r.revision for r in page] == [1] and following == 0


async def test_a_stale_revision_conflicts_and_a_retry_is_not_repeated(stack: Stack) -> None:
    post = await stack.article()
    edit = EditPost(post.post_id, "alice", "tab-1", expected_revision=1, body="tab one")
    first = await stack.lifecycle.edit_post(edit, ALICE)
    # The same request again (a client retry) answers the post without a new revision ...
    assert await stack.lifecycle.edit_post(edit, ALICE) == first
    # ... while another tab's edit made against revision 1 is refused.
    with pytest.raises(RevisionConflict, match="revision 2, not 1"):
        await stack.lifecycle.edit_post(
            EditPost(post.post_id, "alice", "tab-2", expected_revision=1, body="tab two"),
            ALICE)
    assert len(stack.log.posts[partition_for(post.post_id, PARTITIONS)]) == 2


async def test_concurrent_conditional_edits_one_wins(stack: Stack) -> None:
    post = await stack.article()
    outcomes = await asyncio.gather(*(stack.lifecycle.edit_post(
        EditPost(post.post_id, "alice", f"tab-{i}", expected_revision=1, body=f"tab {i}"),
        ALICE) for i in range(5)), return_exceptions=True)
    assert sum(isinstance(o, Post) for o in outcomes) == 1
    assert sum(isinstance(o, RevisionConflict) for o in outcomes) == 4


async def test_only_the_author_edits_or_deletes(stack: Stack) -> None:
    post = await stack.article()
    with pytest.raises(NotAuthor):
        await stack.lifecycle.edit_post(EditPost(post.post_id, "bob", "x", body="b"), BOB)
    with pytest.raises(NotAuthor):
        await stack.lifecycle.delete_post(post.post_id, "op", OPERATOR)
    with pytest.raises(PostNotFound):
        await stack.lifecycle.list_revisions(post.post_id, 0, 10, BOB)
    with pytest.raises(PostNotFound):
        await stack.lifecycle.edit_post(EditPost("post_" + "0" * 24, "alice", "x"), ALICE)


async def test_an_edit_keeps_every_publishing_rule(stack: Stack) -> None:
    post = await stack.article()
    for bad in (EditPost(post.post_id, "alice", "x", body=" "),
                EditPost(post.post_id, "alice", "x", title=""),
                EditPost(post.post_id, "alice", "x", cover_image_url="javascript:alert(1)"),
                EditPost(post.post_id, "alice", "x", summary="s" * 501),
                EditPost(post.post_id, "alice", "x", body="b" * 100_001)):
        with pytest.raises(InvalidPost):
            await stack.lifecycle.edit_post(bad, ALICE)


async def test_a_deleted_post_is_hidden_from_others_and_the_list(stack: Stack) -> None:
    kept = await stack.article("keep")
    gone = await stack.article("gone")
    deleted = await stack.lifecycle.delete_post(gone.post_id, "alice", ALICE)
    assert deleted.deleted_at_ms and deleted.version == 2 and deleted.revision == 1
    assert await stack.lifecycle.delete_post(gone.post_id, "alice", ALICE) == deleted
    with pytest.raises(RevisionConflict, match="deleted"):
        await stack.lifecycle.edit_post(EditPost(gone.post_id, "alice", "x", body="b"), ALICE)
    with pytest.raises(PostNotFound):  # not even "not yours": it does not exist for bob
        await stack.lifecycle.edit_post(EditPost(gone.post_id, "bob", "x", body="b"), BOB)
    posts, _ = await stack.handlers.list_author_posts("alice", None, 10, ALICE)
    assert [p.post_id for p in posts] == [kept.post_id]


def _records(topic: str, partition: int, envelopes: list[Envelope]
             ) -> list[ConsumerRecord[bytes, bytes]]:
    return [ConsumerRecord(topic, partition, offset, 0, 0, env.aggregate_id.encode(),
                           encode(env), None, 0, 0, [])
            for offset, env in enumerate(envelopes)]


async def test_a_store_rebuilt_from_the_log_equals_the_live_one(
    stack: Stack, tmp_path: Path,
) -> None:
    posts = [await stack.article(f"a{i}", f"# {i}") for i in range(6)]
    for i, post in enumerate(posts):
        for j in range(i % 3):
            await stack.lifecycle.edit_post(
                EditPost(post.post_id, "alice", f"e{i}{j}", body=f"*{i}.{j}*"), ALICE)
        if i % 2:
            await stack.lifecycle.delete_post(post.post_id, "alice", ALICE)
    rebuilt = PostStores(tmp_path / "rebuilt", "posts")
    index = AuthorIndexStores(tmp_path / "rebuilt", "author-posts")
    try:
        for p, envelopes in stack.log.posts.items():
            # Twice: a replayed fetch (or a record applied ahead of the tail) changes nothing.
            rebuilt.store(p).apply(_records("posts", p, envelopes))
            rebuilt.store(p).apply(_records("posts", p, envelopes))
        for p, envelopes in stack.log.authors.items():
            index.store(p).apply(_records("author-posts", p, envelopes))
        for post in posts:
            p = partition_for(post.post_id, PARTITIONS)
            live = stack.stores.store(p)
            assert rebuilt.store(p).get(post.post_id) == live.get(post.post_id)
            assert rebuilt.store(p).revisions(post.post_id, 0, 50) == live.revisions(
                post.post_id, 0, 50)
        a = partition_for("alice", PARTITIONS)
        assert index.store(a).page("alice", None, 50) == stack.index.store(a).page(
            "alice", None, 50)
        listed, _ = index.store(a).page("alice", None, 50)
        assert len(listed) == 3 and all(not p.deleted_at_ms for p in listed)
        # The list shows each post's latest revision.
        latest = {p.post_id: p for p in listed}
        for post in posts[::2]:
            assert latest[post.post_id] == stack.stores.store(
                partition_for(post.post_id, PARTITIONS)).get(post.post_id)
    finally:
        rebuilt.close()
        index.close()


def test_a_duplicate_publish_after_a_delete_does_not_bring_the_entry_back(
    tmp_path: Path,
) -> None:
    from planetkit.envelope import wrap
    from services.content.domain.codec import post_published
    from services.content.domain.post_events import post_deleted

    post = Post("post_" + "a" * 24, "alice", PostKind.SHORT, "", "gm", (), (), (), 5)
    published = wrap(post_published(post), event_id="e1", source="content",
                     aggregate_id=post.post_id, occurred_at_ms=5, aggregate_version=1)
    deleted = wrap(post_deleted(replace(post, version=2), 6), event_id="e2", source="content",
                   aggregate_id=post.post_id, occurred_at_ms=6, aggregate_version=2)
    index = AuthorIndexStores(tmp_path, "author-posts")
    try:
        store = index.store(0)
        assert store.apply(_records("t", 0, [published, deleted, published])) == 1
        assert store.page("alice", None, 10) == ([], None)
    finally:
        index.close()
