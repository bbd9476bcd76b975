"""The posts and interaction stores as readers see them: with each item's removal (from the
moderation store of the same partition) applied.

A post's removal lives on its own partition of planet.content.moderation.v1, which the replica
that owns the post's partition also owns (co-partitioned), so marking a post or a comment
removed is one more local read, never a call to another replica. The author-posts and
topic-posts stores, which live on other partitions, get the removal as a copy of the event
instead (services/content/moderation.py) and fold it with ``domain/post_events.py``.

- A removed post carries ``removed_at_ms``: ``post_rules.visible_to`` hides it like a deleted
  one (GetPost answers NOT_FOUND to anyone but its author and operators) and
  ``interaction_gate.accepts_interactions`` refuses comments, likes and shares on it.
- A removed comment reads like a deleted one: a tombstone (text "", ``deleted``) in its
  thread while it has replies, left out of it otherwise, and it takes no reply, like or
  edit. (The post's comment count still counts it, as the interaction store keeps it.)

The use cases get these views; the replica's tail and the writers keep the raw stores.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as pb
from planet.content.v1 import reports_pb2 as rp
from planet.events.v1.envelope_pb2 import Envelope
from services.content.domain.interactions import Stats
from services.content.domain.interactions_layout import ThreadCursor
from services.content.domain.model import Post
from services.content.domain.post_events import Applied, PostEvent


class ModerationLookup(Protocol):
    """One partition's moderation store."""

    def state(self, item_id: str) -> rp.ItemModeration | None:
        """The item's moderation."""


class ModerationLookups(Protocol):
    """This replica's moderation stores."""

    def store(self, partition: int) -> ModerationLookup:
        """The store of ``partition``."""


class RawPostStore(Protocol):
    """One partition's posts store (adapters/post_store.PartitionStore)."""

    def get(self, post_id: str) -> Post | None:
        """The post."""

    def authors(self, post_ids: list[str]) -> dict[str, str]:
        """Creator of each id."""

    def put_published(self, post_id: str, creator_id: str, version: int, payload: bytes) -> None:
        """Store a post just appended."""

    def put_event(self, envelope: Envelope, payload: PostEvent) -> Applied | None:
        """Apply an appended event ahead of the tail."""

    def revisions(self, post_id: str, before: int, limit: int) -> list[Post]:
        """Revisions below ``before``."""

    def edit_revision(self, post_id: str, request_id: str) -> int:
        """The revision an edit request made."""


class RawPostStores(Protocol):
    """The posts stores."""

    def store(self, partition: int) -> RawPostStore:
        """The store of ``partition``."""


def with_removal(post: Post, state: rp.ItemModeration | None) -> Post:
    """``post`` with its moderation (as the moderation store of its partition holds it)."""
    if state is None or state.moderation_version <= post.moderation_version:
        return post
    return replace(post, removed_at_ms=state.removed_at_ms,
                   moderation_version=state.moderation_version)


class ModeratedPostStore:
    """One partition's posts, each with its removal."""

    def __init__(self, posts: RawPostStore, moderation: ModerationLookup) -> None:
        self._posts = posts
        self._moderation = moderation

    def _moderated(self, post: Post | None) -> Post | None:
        if post is None:
            return None
        return with_removal(post, self._moderation.state(post.post_id))

    def get(self, post_id: str) -> Post | None:
        """The post, marked removed while it is."""
        return self._moderated(self._posts.get(post_id))

    def authors(self, post_ids: list[str]) -> dict[str, str]:
        """Creator of each id (removal changes no authorship)."""
        return self._posts.authors(post_ids)

    def put_published(self, post_id: str, creator_id: str, version: int, payload: bytes) -> None:
        """Store a post just appended."""
        self._posts.put_published(post_id, creator_id, version, payload)

    def put_event(self, envelope: Envelope, payload: PostEvent) -> Applied | None:
        """Apply an appended edit or deletion ahead of the tail; the post as it now reads."""
        applied = self._posts.put_event(envelope, payload)
        if applied is None:
            return None
        post = self._moderated(applied.post)
        return None if post is None else replace(applied, post=post)

    def revisions(self, post_id: str, before: int, limit: int) -> list[Post]:
        """Revisions below ``before`` (the audit history: removal does not rewrite it)."""
        return self._posts.revisions(post_id, before, limit)

    def edit_revision(self, post_id: str, request_id: str) -> int:
        """The revision an edit request made."""
        return self._posts.edit_revision(post_id, request_id)


class ModeratedPosts:
    """The posts stores of this replica as readers see them."""

    def __init__(self, posts: RawPostStores, moderation: ModerationLookups) -> None:
        self._posts = posts
        self._moderation = moderation

    def store(self, partition: int) -> ModeratedPostStore:
        """The moderated view of ``partition``."""
        return ModeratedPostStore(self._posts.store(partition),
                                  self._moderation.store(partition))


class RawInteractionStore(Protocol):
    """One partition's interactions (adapters/interaction_store.py)."""

    def apply_decided(self, event_id: str, event: Message) -> bool:
        """Apply an action just committed."""

    def was_applied(self, event_id: str) -> bool:
        """True when the action is in the store."""

    def comment(self, comment_id: str) -> pb.Comment | None:
        """A comment."""

    def share(self, share_id: str) -> pb.ShareView | None:
        """A share."""

    def liked(self, item_id: str, user_id: str) -> bool:
        """Whether the user likes the item."""

    def stats(self, item_id: str) -> Stats:
        """Exact counts."""

    def thread(self, post_id: str, parent_comment_id: str, after: ThreadCursor | None,
               limit: int, newest_first: bool) -> tuple[list[pb.Comment], ThreadCursor | None]:
        """A page of one scope."""


class RawInteractionStores(Protocol):
    """The interaction stores."""

    def store(self, partition: int) -> RawInteractionStore:
        """The store of ``partition``."""


def tombstone(comment: pb.Comment) -> pb.Comment:
    """A removed comment as a thread shows a deleted one: its place, not its words."""
    out = pb.Comment()
    out.CopyFrom(comment)
    out.text = ""
    out.deleted = True
    return out


class ModeratedInteractionStore:
    """One partition's interactions, removed comments read as deleted ones."""

    def __init__(self, interactions: RawInteractionStore, moderation: ModerationLookup) -> None:
        self._interactions = interactions
        self._moderation = moderation

    def _moderated(self, comment: pb.Comment) -> pb.Comment:
        if comment.deleted:
            return comment
        state = self._moderation.state(comment.comment_id)
        return comment if state is None or not state.removed_at_ms else tombstone(comment)

    def apply_decided(self, event_id: str, event: Message) -> bool:
        """Apply an action just committed."""
        return self._interactions.apply_decided(event_id, event)

    def was_applied(self, event_id: str) -> bool:
        """True when the action is in the store."""
        return self._interactions.was_applied(event_id)

    def comment(self, comment_id: str) -> pb.Comment | None:
        """A comment; a removed one reads as deleted."""
        comment = self._interactions.comment(comment_id)
        return None if comment is None else self._moderated(comment)

    def share(self, share_id: str) -> pb.ShareView | None:
        """A share."""
        return self._interactions.share(share_id)

    def liked(self, item_id: str, user_id: str) -> bool:
        """Whether the user likes the item."""
        return self._interactions.liked(item_id, user_id)

    def stats(self, item_id: str) -> Stats:
        """Exact counts."""
        return self._interactions.stats(item_id)

    def thread(self, post_id: str, parent_comment_id: str, after: ThreadCursor | None,
               limit: int, newest_first: bool) -> tuple[list[pb.Comment], ThreadCursor | None]:
        """A page of one scope, as a deletion leaves it: a removed comment with replies is a
        tombstone, one without is left out (the page may come out shorter; its cursor holds)."""
        comments, following = self._interactions.thread(post_id, parent_comment_id, after,
                                                         limit, newest_first)
        out: list[pb.Comment] = []
        for comment in comments:
            shown = self._moderated(comment)
            if shown is not comment and not self._interactions.stats(comment.comment_id).comments:
                continue
            out.append(shown)
        return out, following


class ModeratedInteractions:
    """The interaction stores of this replica as readers see them."""

    def __init__(self, interactions: RawInteractionStores, moderation: ModerationLookups
                 ) -> None:
        self._interactions = interactions
        self._moderation = moderation

    def store(self, partition: int) -> ModeratedInteractionStore:
        """The moderated view of ``partition``."""
        return ModeratedInteractionStore(self._interactions.store(partition),
                                         self._moderation.store(partition))
