"""What a user may do to another in the graph, and the facts each accepted action records.

Each rule reads an ``EdgeView`` (what the actor's partition knows about the pair) and returns
the facts to append, or raises a ``GraphRuleError``. A repeated action returns no fact at all:
idempotent by construction, so a retry or a double tap never changes a count.
"""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.message import Message

from planet.social.v1.graph_pb2 import (
    UNFOLLOW_CAUSE_BLOCK,
    UNFOLLOW_CAUSE_FOLLOWER,
    BellSet,
    Blocked,
    Followed,
    Muted,
    Unblocked,
    Unfollowed,
    Unmuted,
)


class GraphRuleError(ValueError):
    """An action the graph refuses; the message is written for the end user."""


class SelfAction(GraphRuleError):
    """Following, blocking or muting oneself (INVALID_ARGUMENT)."""


class BlockedPair(GraphRuleError):
    """A follow between two users where one blocks the other (PERMISSION_DENIED)."""


class NotFollowing(GraphRuleError):
    """A bell on a creator the user does not follow (FAILED_PRECONDITION)."""


@dataclass(frozen=True, slots=True)
class EdgeView:
    """What the actor's partition knows about the actor and one other user."""

    following: bool = False  # the actor follows the other
    followed_by: bool = False  # the other follows the actor
    bell: bool = False  # the actor's bell for the other is on
    blocks: bool = False  # the actor blocks the other
    blocked_by: bool = False  # the other blocks the actor
    mutes: bool = False  # the actor mutes the other


def _not_self(actor: str, other: str, what: str) -> None:
    if not actor or not other:
        raise GraphRuleError("both users must be named")
    if actor == other:
        raise SelfAction(f"you cannot {what} yourself")


def follow(actor: str, other: str, view: EdgeView, at_ms: int) -> list[Message]:
    """``actor`` follows ``other``: refused between a blocked pair; a repeat records nothing."""
    _not_self(actor, other, "follow")
    if view.blocks:
        raise BlockedPair("you block this user: unblock them to follow")
    if view.blocked_by:
        # Says only that the follow is not possible, as the product shows a blocked user.
        raise BlockedPair("you cannot follow this user")
    if view.following:
        return []
    return [Followed(follower_id=actor, followee_id=other, at_ms=at_ms)]


def unfollow(actor: str, other: str, view: EdgeView, at_ms: int) -> list[Message]:
    """``actor`` stops following ``other`` (the bell goes with it); a repeat records nothing."""
    _not_self(actor, other, "unfollow")
    if not view.following:
        return []
    return [Unfollowed(follower_id=actor, followee_id=other, at_ms=at_ms,
                       cause=UNFOLLOW_CAUSE_FOLLOWER)]


def set_bell(actor: str, creator: str, on: bool, view: EdgeView, at_ms: int) -> list[Message]:
    """Turn the bell for ``creator`` on or off; on needs a follow, off without one is a no-op."""
    _not_self(actor, creator, "ring the bell for")
    if on and not view.following:
        raise NotFollowing("follow this creator before turning their bell on")
    if view.bell == on or not view.following:
        return []
    return [BellSet(follower_id=actor, creator_id=creator, on=on, at_ms=at_ms)]


def block(actor: str, other: str, view: EdgeView, at_ms: int) -> list[Message]:
    """``actor`` blocks ``other``: the block, then the end of any follow in either direction."""
    _not_self(actor, other, "block")
    if view.blocks:
        return []
    facts: list[Message] = [Blocked(blocker_id=actor, blocked_id=other, at_ms=at_ms)]
    if view.following:
        facts.append(Unfollowed(follower_id=actor, followee_id=other, at_ms=at_ms,
                                cause=UNFOLLOW_CAUSE_BLOCK))
    if view.followed_by:
        facts.append(Unfollowed(follower_id=other, followee_id=actor, at_ms=at_ms,
                                cause=UNFOLLOW_CAUSE_BLOCK))
    return facts


def unblock(actor: str, other: str, view: EdgeView, at_ms: int) -> list[Message]:
    """Lift a block (follows it removed stay removed); a repeat records nothing."""
    _not_self(actor, other, "unblock")
    if not view.blocks:
        return []
    return [Unblocked(blocker_id=actor, blocked_id=other, at_ms=at_ms)]


def mute(actor: str, other: str, view: EdgeView, at_ms: int) -> list[Message]:
    """Hide ``other``'s posts and notifications from ``actor``, keeping any follow and bell."""
    _not_self(actor, other, "mute")
    if view.mutes:
        return []
    return [Muted(muter_id=actor, muted_id=other, at_ms=at_ms)]


def unmute(actor: str, other: str, view: EdgeView, at_ms: int) -> list[Message]:
    """Show ``other`` again; a repeat records nothing."""
    _not_self(actor, other, "unmute")
    if not view.mutes:
        return []
    return [Unmuted(muter_id=actor, muted_id=other, at_ms=at_ms)]
