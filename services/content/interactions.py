"""The interaction use cases: comment and reply, edit and delete one's own comment, list a
post's thread, like and unlike, share.

Every interaction belongs to one post and is decided by the replica that owns the post's
partition (of the posts topic and, co-partitioned, of planet.content.interactions.v1): it
knows the post (its author, whether it exists) and keeps the post's comments, likes and
counters, so each decision reads one local store. A request that lands elsewhere is
forwarded to the owner once, as GetPost is (a forwarded call that finds the partition moving
answers UNAVAILABLE, which callers retry).

Decisions about one post take turns (a lock per post id): read the state, append the fact in
a Kafka transaction, apply it to the store, then the next. So two concurrent likes by one
user record one like, and every counter is exact. A retried request (the same idempotency
key) finds its event id already applied and records nothing new.

A user the item's author blocks may not comment on, reply to, like or share it: the social
service is asked (GetRelation) before anything is appended; if it cannot say, the action is
refused as UNAVAILABLE, never let through.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as pb
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import wrap
from planetkit.service_auth import Caller
from planetkit.service_identities import CONTENT
from services.content.domain.errors import EventLogUnavailable, NotServing
from services.content.domain.interaction_gate import accepts_interactions
from services.content.domain.interactions import (
    InteractionNotFound,
    InteractionRefused,
    InvalidInteraction,
    Kind,
    Stats,
    action_event_id,
    checked_comment_text,
    checked_post_id,
    checked_quote,
    checked_request_id,
    checked_user_id,
    comment_id_for,
    is_comment_id,
    post_of_comment,
    post_of_item,
    reply_depth,
    share_id_for,
)
from services.content.domain.interactions_layout import ThreadCursor, encode_cursor
from services.content.domain.model import Post
from services.content.routing import owner_address
from services.content.topic_engagement import Record, TopicEngagementCopies

__all__ = ["EventLogUnavailable", "InteractionHandlers", "NotServing"]
log = logging.getLogger(__name__)


class InteractionLog(Protocol):
    """Where interaction envelopes are appended (planet.content.interactions.v1)."""

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for these partitions (fencing their previous owners)."""

    async def append(self, envelope: Envelope, partition: int,
                     extra: Sequence[Record] = ()) -> None:
        """Append to ``partition`` in a transaction, with ``extra`` records (copies on
        co-partitioned topics) in the same one; EventLogUnavailable if not committed."""


class InteractionStore(Protocol):
    """One partition's interactions (adapters/interaction_store.py)."""

    def apply_decided(self, event_id: str, event: Message) -> bool:
        """Apply an action just committed."""

    def was_applied(self, event_id: str) -> bool:
        """True when the action is in the store."""

    def comment(self, comment_id: str) -> pb.Comment | None:
        """A comment (deleted ones marked)."""

    def share(self, share_id: str) -> pb.ShareView | None:
        """A share."""

    def liked(self, item_id: str, user_id: str) -> bool:
        """Whether the user likes the item."""

    def stats(self, item_id: str) -> Stats:
        """Exact counts."""

    def thread(self, post_id: str, parent_comment_id: str, after: ThreadCursor | None,
               limit: int, newest_first: bool) -> tuple[list[pb.Comment], ThreadCursor | None]:
        """A page of one scope."""


class InteractionStores(Protocol):
    """This replica's interaction stores."""

    def store(self, partition: int) -> InteractionStore:
        """The store of ``partition``."""


class PostLookup(Protocol):
    """One partition's posts (the posts store)."""

    def get(self, post_id: str) -> Post | None:
        """The post, if this partition has it."""


class PostStores(Protocol):
    """This replica's posts stores."""

    def store(self, partition: int) -> PostLookup:
        """The store of ``partition``."""


class Ownership(Protocol):
    """Who owns which partition (services.content.handlers.Ownership)."""

    addr: str
    owners: dict[int, str]
    local: frozenset[int]
    serving: bool

    def partition_of(self, post_id: str) -> int:
        """The partition a post id lives on."""


class BlockCheck(Protocol):
    """The social service's answer to "does the owner block this user?"."""

    async def blocks(self, owner_id: str, user_id: str, caller: Caller) -> bool:
        """True when owner_id blocks user_id; IdentityCheckUnavailable when unknown."""


class InteractionPeers(Protocol):
    """The owner replicas (PeerFailed when one does not answer)."""

    async def forward(self, addr: str, method: str, request: Message, caller: Caller
                      ) -> Message:
        """The owner's answer to ``request`` for InteractionService/``method``."""


def _stats_pb(stats: Stats) -> pb.ItemStats:
    return pb.ItemStats(likes=stats.likes, comments=stats.comments, shares=stats.shares)


class InteractionHandlers:
    """The use cases over the local stores, the interactions log and the owner replicas."""

    def __init__(self, posts: PostStores, stores: InteractionStores, log_: InteractionLog,
                 peers: InteractionPeers, ownership: Ownership, blocks: BlockCheck,
                 clock_ms: Callable[[], int],
                 engagement: TopicEngagementCopies | None = None) -> None:
        self._posts = posts
        # Copies of comments, likes and shares for the most-engaged topic pages.
        self._engagement = engagement
        self._stores = stores
        self._log = log_
        self._peers = peers
        self._ownership = ownership
        self._blocks = blocks
        self._clock_ms = clock_ms
        self._locks: dict[str, asyncio.Lock] = {}
        # The partitions the log was last told it owns: after a rebalance the first decision
        # hands it the new set, which starts (and so fences) the producers of new partitions.
        self._owned: frozenset[int] | None = None
        self._owning = asyncio.Lock()

    # Placement ----------------------------------------------------------------------------

    def _owner(self, partition: int, caller: Caller) -> str | None:
        """None when this replica decides for ``partition``; else the owner's address."""
        return owner_address(self._ownership, partition, caller, "posts")

    def _post(self, partition: int, post_id: str) -> Post:
        post = self._posts.store(partition).get(post_id)
        if post is None or not accepts_interactions(post):  # a deleted post: as if none
            raise InteractionNotFound(f"post {post_id} not found")
        return post

    def _live_comment(self, store: InteractionStore, comment_id: str) -> pb.Comment:
        comment = store.comment(comment_id)
        if comment is None or comment.deleted:
            raise InteractionNotFound(f"comment {comment_id} not found")
        return comment

    async def _not_blocked(self, owners: set[str], user_id: str, caller: Caller) -> None:
        owners.discard(user_id)
        if not owners:
            return
        answers = await asyncio.gather(
            *(self._blocks.blocks(owner, user_id, caller) for owner in sorted(owners)))
        if any(answers):
            raise InteractionRefused("the author of this item has blocked you")

    def _with_stats(self, store: InteractionStore, comment: pb.Comment) -> pb.Comment:
        out = pb.Comment()
        out.CopyFrom(comment)
        out.stats.CopyFrom(_stats_pb(store.stats(comment.comment_id)))
        return out

    async def _record(self, partition: int, store: InteractionStore, event: Message,
                      event_id: str, post_id: str, caller: Caller, now: int,
                      post: Post | None = None) -> None:
        """Append one action (this replica must still own its partition) and apply it; with
        ``post``, its TopicEngagement copies go in the same transaction."""
        self._owner(partition, caller)  # ownership may have moved while waiting for the lock
        async with self._owning:
            local = self._ownership.local
            if local != self._owned:
                await self._log.own(local)
                self._owned = local
        envelope = wrap(event, event_id=event_id, source=CONTENT, aggregate_id=post_id,
                        occurred_at_ms=now)
        extra = ([] if post is None or self._engagement is None
                 else self._engagement.records(post, event, event_id, now))
        if extra:
            await self._log.append(envelope, partition, extra)
        else:
            await self._log.append(envelope, partition)
        store.apply_decided(event_id, event)

    def _lock(self, post_id: str) -> asyncio.Lock:
        return self._locks.setdefault(post_id, asyncio.Lock())

    def _release(self, post_id: str, lock: asyncio.Lock) -> None:
        if not lock.locked() and self._locks.get(post_id) is lock:
            del self._locks[post_id]

    # Comments -----------------------------------------------------------------------------

    async def post_comment(self, request: pb.PostCommentRequest, caller: Caller) -> pb.Comment:
        """Comment on a post or reply to one of its comments; a retry returns the first."""
        user = checked_user_id(request.user_id)
        request_id = checked_request_id(request.request_id)
        post_id = checked_post_id(request.post_id)
        text = checked_comment_text(request.text)
        parent_id = request.parent_comment_id
        if parent_id and post_of_comment(parent_id) != post_id:
            raise InvalidInteraction("parent_comment_id is a comment of another post")
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._peers.forward(owner, "PostComment", request, caller)
            assert isinstance(answer, pb.Comment)
            return answer
        store = self._stores.store(partition)
        comment_id = comment_id_for(post_id, user, request_id)
        if (existing := store.comment(comment_id)) is not None:
            return self._with_stats(store, existing)
        post = self._post(partition, post_id)
        owners = {post.creator_id}
        parent: pb.Comment | None = None
        if parent_id:
            parent = self._live_comment(store, parent_id)
            owners.add(parent.author_id)
        depth = reply_depth(None if parent is None else parent.depth)
        await self._not_blocked(owners, user, caller)
        lock = self._lock(post_id)
        try:
            async with lock:
                if (existing := store.comment(comment_id)) is not None:
                    return self._with_stats(store, existing)
                if parent is not None:
                    parent = self._live_comment(store, parent_id)  # deleted meanwhile?
                now = self._clock_ms()
                event = pb.CommentPosted(
                    comment_id=comment_id, post_id=post_id, post_author_id=post.creator_id,
                    author_id=user, parent_comment_id=parent_id, text=text,
                    text_length=len(text), at_ms=now,
                    parent_author_id="" if parent is None else parent.author_id, depth=depth)
                await self._record(partition, store, event,
                                   action_event_id(Kind.COMMENT, user, post_id, request_id),
                                   post_id, caller, now, post=post)
        finally:
            self._release(post_id, lock)
        stored = store.comment(comment_id)
        assert stored is not None
        return self._with_stats(store, stored)

    async def edit_comment(self, request: pb.EditCommentRequest, caller: Caller) -> pb.Comment:
        """The comment's author replaces its text; a retry changes nothing more."""
        user = checked_user_id(request.user_id)
        request_id = checked_request_id(request.request_id)
        post_id = post_of_comment(request.comment_id)
        text = checked_comment_text(request.text)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._peers.forward(owner, "EditComment", request, caller)
            assert isinstance(answer, pb.Comment)
            return answer
        store = self._stores.store(partition)
        event_id = action_event_id(Kind.EDIT, user, request.comment_id, request_id)
        lock = self._lock(post_id)
        try:
            async with lock:
                comment = self._live_comment(store, request.comment_id)
                if comment.author_id != user:
                    raise InteractionRefused("only its author edits a comment")
                if not store.was_applied(event_id):
                    now = self._clock_ms()
                    await self._record(partition, store, pb.CommentEdited(
                        comment_id=comment.comment_id, post_id=post_id, author_id=user,
                        text=text, text_length=len(text), at_ms=now,
                        revision=comment.revision + 1), event_id, post_id, caller, now)
        finally:
            self._release(post_id, lock)
        return self._with_stats(store, self._live_comment(store, request.comment_id))

    async def delete_comment(self, request: pb.DeleteCommentRequest, caller: Caller
                             ) -> pb.DeleteCommentResponse:
        """The comment's author deletes it (a repeat is a success that changes nothing)."""
        user = checked_user_id(request.user_id)
        request_id = checked_request_id(request.request_id)
        post_id = post_of_comment(request.comment_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._peers.forward(owner, "DeleteComment", request, caller)
            assert isinstance(answer, pb.DeleteCommentResponse)
            return answer
        store = self._stores.store(partition)
        lock = self._lock(post_id)
        try:
            async with lock:
                comment = store.comment(request.comment_id)
                if comment is None:
                    raise InteractionNotFound(f"comment {request.comment_id} not found")
                if comment.author_id != user:
                    raise InteractionRefused("only its author deletes a comment")
                if not comment.deleted:
                    now = self._clock_ms()
                    await self._record(partition, store, pb.CommentDeleted(
                        comment_id=comment.comment_id, post_id=post_id, author_id=user,
                        at_ms=now),
                        action_event_id(Kind.DELETE, user, comment.comment_id, request_id),
                        post_id, caller, now)
        finally:
            self._release(post_id, lock)
        return pb.DeleteCommentResponse(comment_id=request.comment_id)

    async def list_comments(self, request: pb.ListCommentsRequest, after: ThreadCursor | None,
                            limit: int, caller: Caller) -> pb.ListCommentsResponse:
        """A page of a post's top-level comments or of one comment's replies."""
        post_id = checked_post_id(request.post_id)
        parent_id = request.parent_comment_id
        if parent_id and post_of_comment(parent_id) != post_id:
            raise InvalidInteraction("parent is a comment of another post")
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._peers.forward(owner, "ListComments", request, caller)
            assert isinstance(answer, pb.ListCommentsResponse)
            return answer
        self._post(partition, post_id)
        store = self._stores.store(partition)
        if parent_id and store.comment(parent_id) is None:
            raise InteractionNotFound(f"comment {parent_id} not found")
        order = request.order
        if order == pb.COMMENT_ORDER_UNSPECIFIED:
            # Newest first at the top of a thread, a conversation (replies) oldest first.
            order = pb.COMMENT_ORDER_OLDEST if parent_id else pb.COMMENT_ORDER_NEWEST
        comments, following = store.thread(post_id, parent_id, after, limit,
                                           newest_first=order == pb.COMMENT_ORDER_NEWEST)
        return pb.ListCommentsResponse(
            comments=[self._with_stats(store, c) for c in comments],
            next_cursor="" if following is None else encode_cursor(following))

    # Likes and shares ---------------------------------------------------------------------

    def _item_author(self, store: InteractionStore, post: Post, item_id: str) -> str:
        if is_comment_id(item_id):
            return self._live_comment(store, item_id).author_id
        return post.creator_id

    async def like(self, request: pb.LikeRequest, caller: Caller, *, on: bool) -> pb.LikeState:
        """Like (``on``) or unlike an item; one like per user per item, a repeat records
        nothing."""
        user = checked_user_id(request.user_id)
        request_id = checked_request_id(request.request_id)
        item_id = request.item_id
        post_id = post_of_item(item_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._peers.forward(owner, "Like" if on else "Unlike", request,
                                               caller)
            assert isinstance(answer, pb.LikeState)
            return answer
        store = self._stores.store(partition)
        post = self._post(partition, post_id)
        item_author = self._item_author(store, post, item_id)
        kind = Kind.LIKE if on else Kind.UNLIKE
        event_id = action_event_id(kind, user, item_id, request_id)
        if on and not store.liked(item_id, user) and not store.was_applied(event_id):
            # Taking a like back needs nobody's leave; giving one does.
            await self._not_blocked({post.creator_id, item_author}, user, caller)
        lock = self._lock(post_id)
        try:
            async with lock:
                if store.liked(item_id, user) != on and not store.was_applied(event_id):
                    now = self._clock_ms()
                    event: Message
                    if on:
                        event = pb.ItemLiked(item_id=item_id, item_author_id=item_author,
                                             user_id=user, at_ms=now, post_id=post_id)
                    else:
                        event = pb.ItemUnliked(item_id=item_id, item_author_id=item_author,
                                               user_id=user, at_ms=now, post_id=post_id)
                    await self._record(partition, store, event, event_id, post_id, caller, now,
                                       post=post)
        finally:
            self._release(post_id, lock)
        return pb.LikeState(item_id=item_id, liked=store.liked(item_id, user),
                            stats=_stats_pb(store.stats(item_id)))

    async def share(self, request: pb.ShareRequest, caller: Caller) -> pb.ShareView:
        """Share (repost) a post, with an optional quote; a retry returns the first share."""
        user = checked_user_id(request.user_id)
        request_id = checked_request_id(request.request_id)
        post_id = checked_post_id(request.post_id)
        quote = checked_quote(request.quote)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._peers.forward(owner, "Share", request, caller)
            assert isinstance(answer, pb.ShareView)
            return answer
        store = self._stores.store(partition)
        share_id = share_id_for(post_id, user, request_id)
        if (existing := store.share(share_id)) is not None:
            return existing
        post = self._post(partition, post_id)
        await self._not_blocked({post.creator_id}, user, caller)
        lock = self._lock(post_id)
        try:
            async with lock:
                if store.share(share_id) is None:
                    now = self._clock_ms()
                    await self._record(partition, store, pb.ItemShared(
                        share_id=share_id, item_id=post_id, item_author_id=post.creator_id,
                        user_id=user, quote=quote, at_ms=now, post_id=post_id,
                        quote_length=len(quote)),
                        action_event_id(Kind.SHARE, user, post_id, request_id),
                        post_id, caller, now, post=post)
        finally:
            self._release(post_id, lock)
        shared = store.share(share_id)
        assert shared is not None
        return shared

    async def item_stats(self, item_id: str, caller: Caller) -> pb.ItemStats:
        """An item's exact counts (zeros for an item nobody interacted with)."""
        post_id = post_of_item(item_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._peers.forward(
                owner, "GetItemStats", pb.GetItemStatsRequest(item_id=item_id), caller)
            assert isinstance(answer, pb.ItemStats)
            return answer
        return _stats_pb(self._stores.store(partition).stats(item_id))
