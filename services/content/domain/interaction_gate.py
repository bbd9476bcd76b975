"""Whether a post takes new interactions (pure): the one predicate every interaction asks.

A deleted post does not exist for anyone but its author and operators (domain/post_rules.py),
so it takes no comment, reply, like, unlike or share, and its thread is not listed: each is
answered "post not found" (HTTP 404), exactly as for an id that never existed, so trying
reveals nothing. Unlike is refused too (not let through as "taking back needs nobody's
leave"): a deleted post stops earning from the deletion on, so a like left on it counts for
nothing, and answering would disclose a deleted post's counts to anyone who asks.

Moderation adds its own reason here (a removed post) so every interaction path follows.
"""

from __future__ import annotations

from services.content.domain.model import Post


def accepts_interactions(post: Post) -> bool:
    """True while ``post`` may be commented on, replied to, liked, unliked or shared."""
    return not post.deleted_at_ms and not post.removed_at_ms
