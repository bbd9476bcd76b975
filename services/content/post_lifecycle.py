"""The post lifecycle's use cases: edit a post (a new revision), delete it, list revisions.

Like publishing (handlers.py), each is decided by the replica that owns the post's
partition, forwarded there once when it is elsewhere. The owner serializes the writes of
one post (a lock per post id), checks the author and the expected revision against its
store, appends the event to the post's partition of the posts topic and the author's of the
author-posts topic in one Kafka transaction (``KafkaEventLog.append``, as a publish), then
applies it to its stores ahead of the tail through the same fold the tail uses
(``domain/post_events.py``), so the caller reads its own write and a rebuilt store equals
the live one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import post_lifecycle_pb2 as lc
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import wrap
from planetkit.service_auth import Caller
from planetkit.service_identities import CONTENT
from services.content.domain.codec import component_to_pb, post_from_pb
from services.content.domain.edits import EditPost, edited
from services.content.domain.ids import event_id_for
from services.content.domain.model import Post
from services.content.domain.post_events import Applied, PostEvent, post_deleted, post_edited
from services.content.domain.post_rules import (
    PostNotFound,
    check_author,
    check_revision,
    is_operator,
    visible_to,
)
from services.content.handlers import EventLog, Ownership
from services.content.routing import owner_address


class LifecycleStore(Protocol):
    """One partition's posts, as the lifecycle reads and writes them."""

    def get(self, post_id: str) -> Post | None:
        """The post's current state."""

    def put_event(self, envelope: Envelope, payload: PostEvent) -> Applied | None:
        """Apply an appended event ahead of the tail."""

    def revisions(self, post_id: str, before: int, limit: int) -> list[Post]:
        """Revisions below ``before`` (0: all), newest first."""

    def edit_revision(self, post_id: str, request_id: str) -> int:
        """The revision an edit request made (0: none)."""


class LifecycleStores(Protocol):
    """The posts stores of this replica."""

    def store(self, partition: int) -> LifecycleStore:
        """The store of ``partition``."""


class IndexStore(Protocol):
    """One partition of the author index."""

    def put_event(self, envelope: Envelope, payload: PostEvent) -> None:
        """Apply an appended event ahead of the tail."""


class IndexStores(Protocol):
    """The author-index stores of this replica."""

    def store(self, partition: int) -> IndexStore:
        """The store of ``partition``."""


class TopicHooks(Protocol):
    """What an edit or deletion asks of the topic side (services/content/topics.TopicHandlers)."""

    def touched(self, before: Post, after: Post) -> list[tuple[str, int]]:
        """The topics (and their topic-posts partitions) the event is logged on."""

    def changed(self, targets: list[tuple[str, int]], envelope: Envelope,
                payload: PostEvent) -> None:
        """Fold the committed event into the topic pages kept here."""


class LifecyclePeers(Protocol):
    """The other replicas' PostLifecycleService (PeerFailed when one does not answer)."""

    async def edit_post(self, addr: str, request: lc.EditPostRequest, caller: Caller
                        ) -> rpc.Post:
        """The owner's answer."""

    async def delete_post(self, addr: str, request: lc.DeletePostRequest, caller: Caller
                          ) -> rpc.Post:
        """The owner's answer."""

    async def list_revisions(self, addr: str, request: lc.ListPostRevisionsRequest,
                             caller: Caller) -> lc.ListPostRevisionsResponse:
        """The owner's page."""

    async def close(self) -> None:
        """Close every connection."""


def edit_request(cmd: EditPost) -> lc.EditPostRequest:
    """The request that asks the owner replica for ``cmd``."""
    req = lc.EditPostRequest(post_id=cmd.post_id, editor_id=cmd.editor_id,
                             request_id=cmd.request_id,
                             expected_revision=cmd.expected_revision)
    for name in ("title", "body", "summary", "cover_image_url"):
        value = getattr(cmd, name)
        if value is not None:
            setattr(req, name, value)
    if cmd.hashtags is not None:
        req.set_hashtags = True
        req.hashtags.extend(cmd.hashtags)
    if cmd.mentions is not None:
        req.set_mentions = True
        req.mentions.extend(cmd.mentions)
    if cmd.components is not None:
        req.set_components = True
        req.components.extend(component_to_pb(c) for c in cmd.components)
    return req


class PostLifecycle:
    """Edit, delete and revisions over the local stores, the event log and the owners."""

    def __init__(self, stores: LifecycleStores, index: IndexStores, log: EventLog,
                 peers: LifecyclePeers, ownership: Ownership,
                 clock_ms: Callable[[], int], topics: TopicHooks | None = None) -> None:
        # The topic pages (services/content/topics.py); None in bare unit tests.
        self._topics = topics
        self._stores = stores
        self._index = index
        self._log = log
        self._peers = peers
        self._ownership = ownership
        self._clock_ms = clock_ms
        self._locks: dict[str, tuple[asyncio.Lock, list[int]]] = {}

    def _owner(self, partition: int, caller: Caller) -> str | None:
        """None when this replica serves ``partition``; else the owner to forward to (as
        ContentHandlers decides: a forwarded call is never forwarded again)."""
        return owner_address(self._ownership, partition, caller, "posts")

    async def edit_post(self, cmd: EditPost, caller: Caller) -> Post:
        """The post after the edit (a retried request answers the post as it is now)."""
        partition = self._ownership.partition_of(cmd.post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            return post_from_pb(await self._peers.edit_post(owner, edit_request(cmd), caller))
        store = self._stores.store(partition)
        async with self._lock(cmd.post_id):
            self._owner(partition, caller)  # ownership may have moved while this waited
            current = check_author(store.get(cmd.post_id), cmd.editor_id, caller.roles)
            if cmd.request_id and store.edit_revision(cmd.post_id, cmd.request_id):
                return current  # this request's edit was made: answer, do not repeat it
            check_revision(current, cmd.expected_revision)
            now = self._clock_ms()
            post = edited(current, cmd, now)
            return await self._append(partition, store, post,
                                      post_edited(post, cmd.request_id), now, current)

    async def delete_post(self, post_id: str, deleter_id: str, caller: Caller) -> Post:
        """The deleted post (deleting again answers it as it is)."""
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            return post_from_pb(await self._peers.delete_post(owner, lc.DeletePostRequest(
                post_id=post_id, deleter_id=deleter_id), caller))
        store = self._stores.store(partition)
        async with self._lock(post_id):
            self._owner(partition, caller)
            current = check_author(store.get(post_id), deleter_id, caller.roles)
            if current.deleted_at_ms:
                return current
            now = self._clock_ms()
            post = replace(current, version=current.version + 1, deleted_at_ms=now)
            return await self._append(partition, store, post, post_deleted(post, now), now,
                                      current)

    async def _append(self, partition: int, store: LifecycleStore, post: Post,
                      event: PostEvent, now: int, before: Post) -> Post:
        envelope = wrap(event, event_id=event_id_for(post.post_id, post.version),
                        source=CONTENT, aggregate_id=post.post_id, occurred_at_ms=now,
                        aggregate_version=post.version)
        author_partition = self._ownership.partition_of(post.creator_id)
        # The topic pages it was or is on hear it in the same transaction: added topics list
        # it, removed ones drop it, the rest show the new revision (domain/topic_entries.py).
        targets = [] if self._topics is None else self._topics.touched(before, post)
        if targets:
            await self._log.append(envelope, partition, post.creator_id, author_partition,
                                   topics=targets)
        else:
            await self._log.append(envelope, partition, post.creator_id, author_partition)
        applied = store.put_event(envelope, event)
        if self._topics is not None:
            self._topics.changed(targets, envelope, event)
        if author_partition in self._ownership.local:
            self._index.store(author_partition).put_event(envelope, event)
        if applied is None:  # cannot happen under the lock; the tail applies it anyway
            return store.get(post.post_id) or post
        return applied.post

    async def list_revisions(self, post_id: str, before: int, limit: int, caller: Caller
                             ) -> tuple[list[Post], int]:
        """Revisions newest first, and the next page's ``before`` (0 on the last): the
        author's and operators' only (PostNotFound for anyone else: the history of a post
        is not public, and a deleted one does not exist for them)."""
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answered = await self._peers.list_revisions(owner, lc.ListPostRevisionsRequest(
                post_id=post_id, before_revision=before, limit=limit), caller)
            return ([post_from_pb(p) for p in answered.revisions],
                    answered.next_before_revision)
        store = self._stores.store(partition)
        post = store.get(post_id)
        allowed = post is not None and visible_to(post, caller.user_id, caller.roles) and (
            post.creator_id == caller.user_id or is_operator(caller.roles))
        if post is None or not allowed:
            raise PostNotFound("post not found")
        page = store.revisions(post_id, before, limit + 1)
        if len(page) > limit:
            return page[:limit], page[limit - 1].revision
        return page, 0

    def _lock(self, post_id: str) -> _PostLock:
        return _PostLock(self._locks, post_id)

    async def close(self) -> None:
        """Close the channels to the other replicas."""
        await self._peers.close()


class _PostLock:
    """The lock of one post id, dropped from the registry when nobody holds or awaits it
    (counted: a released lock with a waiter about to wake reports ``locked()`` False)."""

    def __init__(self, locks: dict[str, tuple[asyncio.Lock, list[int]]], post_id: str
                 ) -> None:
        self._locks = locks
        self._post_id = post_id
        self._lock, self._users = locks.setdefault(post_id, (asyncio.Lock(), [0]))

    async def __aenter__(self) -> None:
        self._users[0] += 1
        try:
            await self._lock.acquire()
        except BaseException:
            self._leave()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        self._users[0] -= 1
        if self._users[0] == 0:
            self._locks.pop(self._post_id, None)
