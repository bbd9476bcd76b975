"""A deleted post takes no interactions; a live one does (domain/interaction_gate.py)."""

from __future__ import annotations

from dataclasses import replace

from services.content.domain.interaction_gate import accepts_interactions
from services.content.domain.model import Post, PostKind

LIVE = Post(post_id="p", creator_id="alice", kind=PostKind.SHORT, title="", body="b",
            hashtags=(), mentions=(), components=(), published_at_ms=1)


def test_a_live_post_accepts_interactions() -> None:
    assert accepts_interactions(LIVE)
    assert accepts_interactions(replace(LIVE, revision=3, edited_at_ms=5))


def test_a_deleted_post_accepts_none() -> None:
    assert not accepts_interactions(replace(LIVE, deleted_at_ms=7))
