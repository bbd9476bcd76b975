"""The draft use cases: save (create), update, get, list, discard and publish a draft.

A draft lives on its author's partition of planet.content.drafts.v1, which has as many
partitions as the author-posts topic and is assigned with it: the replica that owns the
author's partition decides every write and answers every read of that author's drafts (one
local store), and a request that lands elsewhere is forwarded to it once, as an author's
post list is (a forwarded call that finds the partition moving answers UNAVAILABLE, which
callers retry).

The decisions of one author take turns (a lock per author): read the state, append the fact
in a Kafka transaction of the partition's producer, apply it to the store ahead of the tail
through the fold the tail uses (``domain/drafts.py``), then the next. So a save's revision
check and the per-author limit are exact, and the author reads their own write at once.

Publishing goes through the existing publish path (``ContentHandlers.publish_post``: the
identity check with social, instruments and topics, the post's own partition, forwarded to
its owner when that is another replica) with a request id derived from the draft id and its
revision, so a publish retried after a crash between the post and DraftPublished answers the
same post instead of making a second one; DraftPublished is appended only once the post is.

The drafts log's producer of a partition is started (fencing the previous owner's) on this
replica's first draft decision after an assignment, as the interactions log's is. A previous
owner that was paused across the hand-over and commits a save after the new owner read the
log's end is the one case where the live store's choice between two saves of the same
revision may differ from the log's order (a rebuild keeps the first in the log); the next
save, which replaces the whole content, makes them agree again.

Drafts are private: only their author reads or writes them. Operators do not (nothing in the
product needs an operator to read unpublished work, and moderation acts on what is
published), so a draft of another user is NOT_FOUND to everyone, never PERMISSION_DENIED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from planet.content.v1 import content_service_pb2 as rpc
from planet.content.v1 import drafts_pb2 as dr
from planetkit.envelope import encode, wrap
from planetkit.service_auth import Caller
from planetkit.service_identities import CONTENT
from services.content.adapters.partition_writer import Record
from services.content.domain.codec import post_from_pb
from services.content.domain.commands import PublishPost
from services.content.domain.drafts import (
    Draft,
    DraftContent,
    DraftEvent,
    DraftNotFound,
    check_ids,
    check_revision,
    check_room,
    checked_content,
    content_from_pb,
    draft_event_id,
    draft_from_pb,
    draft_id_for,
    draft_saved,
    owned,
    publish_command,
)
from services.content.domain.model import Post, Published
from services.content.domain.validation import InvalidPost
from services.content.routing import owner_address

# The caller a draft's owner replica publishes as: the end user of the draft call, decided
# here. Not ``content``: a PublishDraft forwarded to this replica was checked nowhere yet, so
# the publish path must still ask social whether the author may publish, and may forward the
# post once to the replica owning the post's partition (publish_post skips both for
# ``content``, its own forwarded calls). It never leaves this process: calls to other
# replicas are signed as content for the same user.
DRAFT_OWNER = "content.drafts"


class DraftLog(Protocol):
    """Where draft envelopes are appended (adapters/partition_writer.PartitionTransactions)."""

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for these partitions (fencing their previous owners)."""

    async def append(self, partition: int, records: Sequence[Record]) -> None:
        """Append in one transaction; EventLogUnavailable when not committed."""


class DraftStore(Protocol):
    """One partition's drafts (adapters/draft_store.py)."""

    def get(self, draft_id: str) -> Draft | None:
        """The draft's state."""

    def list(self, author_id: str) -> list[Draft]:
        """The author's live drafts, most recently updated first."""

    def count(self, author_id: str) -> int:
        """The author's live drafts."""

    def put_event(self, payload: DraftEvent) -> Draft | None:
        """Apply an appended event ahead of the tail; the draft after it."""


class DraftStores(Protocol):
    """This replica's draft stores."""

    def store(self, partition: int) -> DraftStore:
        """The store of ``partition``."""


class Ownership(Protocol):
    """Who owns which partition (services.content.handlers.Ownership)."""

    addr: str
    owners: dict[int, str]
    local: frozenset[int]
    serving: bool

    def partition_of(self, post_id: str) -> int:
        """The partition a key lives on."""


class Posts(Protocol):
    """The publish path (services.content.handlers.ContentHandlers)."""

    async def publish_post(self, cmd: PublishPost, caller: Caller) -> Published:
        """Publish (idempotent on the request id), here or on the post's owner."""

    async def get_post(self, post_id: str, caller: Caller) -> Post | None:
        """The post, here or on its owner."""


class DraftPeers(Protocol):
    """The owner replicas' DraftService (adapters/lifecycle_peers.LifecyclePeers)."""

    async def draft_call(self, addr: str, method: str, request: object, caller: Caller
                         ) -> object:
        """The owner's answer to DraftService/``method``."""


class DraftHandlers:
    """The use cases over the local draft stores, the drafts log, the publish path and the
    owner replicas."""

    def __init__(self, stores: DraftStores, log: DraftLog, topic: str, peers: DraftPeers,
                 ownership: Ownership, posts: Posts, clock_ms: Callable[[], int]) -> None:
        self._stores = stores
        self._log = log
        self._topic = topic
        self._peers = peers
        self._ownership = ownership
        self._posts = posts
        self._clock_ms = clock_ms
        self._locks: dict[str, asyncio.Lock] = {}
        # The partitions the log was last told it owns: after a rebalance the first decision
        # hands it the new set, which starts (and so fences) the producers of new partitions.
        self._owned: frozenset[int] | None = None
        self._owning = asyncio.Lock()

    # Placement ----------------------------------------------------------------------------

    def _owner(self, partition: int, caller: Caller) -> str | None:
        """None when this replica decides for ``partition``; else the owner's address (a
        forwarded call is never forwarded again)."""
        return owner_address(self._ownership, partition, caller, "drafts")

    async def _forward(self, addr: str, method: str, request: object, caller: Caller
                       ) -> object:
        return await self._peers.draft_call(addr, method, request, caller)

    def _lock(self, author_id: str) -> asyncio.Lock:
        return self._locks.setdefault(author_id, asyncio.Lock())

    def _release(self, author_id: str, lock: asyncio.Lock) -> None:
        if not lock.locked() and self._locks.get(author_id) is lock:
            del self._locks[author_id]

    async def _append(self, partition: int, store: DraftStore, event: DraftEvent,
                      event_id: str, caller: Caller, now: int) -> Draft:
        """Append one fact (this replica must still own the partition) and apply it."""
        self._owner(partition, caller)  # ownership may have moved while waiting for the lock
        async with self._owning:
            local = self._ownership.local
            if local != self._owned:
                await self._log.own(local)
                self._owned = local
        envelope = wrap(event, event_id=event_id, source=CONTENT, aggregate_id=event.author_id,
                        occurred_at_ms=now)
        await self._log.append(partition, [Record(
            self._topic, event.author_id.encode(), encode(envelope), partition)])
        after = store.put_event(event)
        if after is None:  # cannot happen under the author's lock
            raise RuntimeError(f"draft {event.draft_id}: an appended event changed nothing")
        return after

    # Use cases ----------------------------------------------------------------------------

    async def save(self, request: dr.SaveDraftRequest, caller: Caller) -> Draft:
        """A new draft at revision 1; a retry (same request id) answers the same draft."""
        check_ids(request.author_id, request.request_id, what="request_id")
        content = checked_content(request.author_id, content_from_pb(request.content))
        partition = self._ownership.partition_of(request.author_id)
        if (owner := self._owner(partition, caller)) is not None:
            return draft_from_pb(_is(await self._forward(owner, "SaveDraft", request, caller),
                                     dr.Draft))
        store = self._stores.store(partition)
        draft_id = draft_id_for(request.author_id, request.request_id)
        lock = self._lock(request.author_id)
        try:
            async with lock:
                if (existing := store.get(draft_id)) is not None:
                    return owned(existing, request.author_id)  # discarded since: 404
                check_room(store.count(request.author_id))
                now = self._clock_ms()
                draft = Draft(draft_id, request.author_id, 1, content, now, now)
                return await self._append(partition, store,
                                          draft_saved(draft, request.request_id),
                                          draft_event_id(draft_id, "saved", 1), caller, now)
        finally:
            self._release(request.author_id, lock)

    async def update(self, request: dr.UpdateDraftRequest, caller: Caller) -> Draft:
        """The draft with its content replaced, as the next revision; DraftConflict when
        ``expected_revision`` is not the latest (another tab saved first)."""
        check_ids(request.author_id, request.draft_id, what="draft_id")
        if not request.expected_revision:
            # Autosave from several tabs: a save that names no revision could overwrite one.
            raise InvalidPost("expected_revision is required: the revision this save replaces")
        content = checked_content(request.author_id, content_from_pb(request.content))
        partition = self._ownership.partition_of(request.author_id)
        if (owner := self._owner(partition, caller)) is not None:
            return draft_from_pb(_is(await self._forward(owner, "UpdateDraft", request,
                                                         caller), dr.Draft))
        store = self._stores.store(partition)
        lock = self._lock(request.author_id)
        try:
            async with lock:
                current = owned(store.get(request.draft_id), request.author_id)
                if current.live and content == current.content and (
                        request.expected_revision == current.revision - 1):
                    # The retry of the save that made the current revision (its answer was
                    # lost): answer it instead of a conflict.
                    return current
                check_revision(current, request.expected_revision)
                now = self._clock_ms()
                revision = current.revision + 1
                draft = Draft(current.draft_id, current.author_id, revision, content,
                              current.created_at_ms, now)
                return await self._append(partition, store, draft_saved(draft),
                                          draft_event_id(current.draft_id, "saved", revision),
                                          caller, now)
        finally:
            self._release(request.author_id, lock)

    async def get(self, request: dr.GetDraftRequest, caller: Caller) -> Draft:
        """The author's draft (a published one too, naming its post)."""
        check_ids(request.author_id, request.draft_id, what="draft_id")
        partition = self._ownership.partition_of(request.author_id)
        if (owner := self._owner(partition, caller)) is not None:
            return draft_from_pb(_is(await self._forward(owner, "GetDraft", request, caller),
                                     dr.Draft))
        return owned(self._stores.store(partition).get(request.draft_id), request.author_id)

    async def list(self, request: dr.ListDraftsRequest, caller: Caller) -> list[Draft]:
        """The author's live drafts, most recently updated first (bounded by the limit)."""
        check_ids(request.author_id, "-", what="request_id")
        partition = self._ownership.partition_of(request.author_id)
        if (owner := self._owner(partition, caller)) is not None:
            answer = _is(await self._forward(owner, "ListDrafts", request, caller),
                         dr.ListDraftsResponse)
            return [draft_from_pb(d) for d in answer.drafts]
        return self._stores.store(partition).list(request.author_id)

    async def discard(self, request: dr.DiscardDraftRequest, caller: Caller) -> None:
        """Discard the draft (again: a success that changes nothing); DraftConflict once it
        is published (its post is deleted through the post, not the draft)."""
        check_ids(request.author_id, request.draft_id, what="draft_id")
        partition = self._ownership.partition_of(request.author_id)
        if (owner := self._owner(partition, caller)) is not None:
            _is(await self._forward(owner, "DiscardDraft", request, caller),
                dr.DiscardDraftResponse)
            return
        store = self._stores.store(partition)
        lock = self._lock(request.author_id)
        try:
            async with lock:
                current = store.get(request.draft_id)
                if (current is not None and current.author_id == request.author_id
                        and current.discarded_at_ms):
                    return
                current = owned(current, request.author_id)
                check_revision(current, 0)
                now = self._clock_ms()
                await self._append(partition, store, dr.DraftDiscarded(
                    draft_id=current.draft_id, author_id=current.author_id, at_ms=now),
                    draft_event_id(current.draft_id, "discarded", current.revision), caller,
                    now)
        finally:
            self._release(request.author_id, lock)

    async def publish(self, request: dr.PublishDraftRequest, caller: Caller) -> Post:
        """The post the draft became (publishing again answers the same post)."""
        check_ids(request.author_id, request.draft_id, what="draft_id")
        partition = self._ownership.partition_of(request.author_id)
        if (owner := self._owner(partition, caller)) is not None:
            return post_from_pb(_is(await self._forward(owner, "PublishDraft", request,
                                                        caller), rpc.Post))
        store = self._stores.store(partition)
        decider = Caller(DRAFT_OWNER, caller.user_id, caller.roles)
        lock = self._lock(request.author_id)
        try:
            async with lock:
                current = owned(store.get(request.draft_id), request.author_id)
                if current.published_post_id:
                    return await self._published(current, decider)
                check_revision(current, request.expected_revision)
                # Idempotent on (draft, revision): a retry after a crash between the post
                # and DraftPublished finds the post its first attempt made.
                published = await self._posts.publish_post(publish_command(current), decider)
                now = self._clock_ms()
                await self._append(partition, store, dr.DraftPublished(
                    draft_id=current.draft_id, author_id=current.author_id,
                    post_id=published.post.post_id, at_ms=now),
                    draft_event_id(current.draft_id, "published", current.revision), caller,
                    now)
                return published.post
        finally:
            self._release(request.author_id, lock)

    async def _published(self, draft: Draft, caller: Caller) -> Post:
        post = await self._posts.get_post(draft.published_post_id, caller)
        if post is None:
            raise DraftNotFound(f"the draft's post {draft.published_post_id} is gone")
        return post


T = TypeVar("T")


def _is(answer: object, kind: type[T]) -> T:
    """The owner's answer as the message the method returns (anything else is a bug)."""
    if not isinstance(answer, kind):
        raise TypeError(f"expected {kind.__name__}, the owner answered {type(answer).__name__}")
    return answer


__all__ = ["DRAFT_OWNER", "DraftContent", "DraftHandlers"]
