"""The in-memory projection of every published post, rebuilt from the log on startup."""

from __future__ import annotations

from collections.abc import Iterable

from services.content.domain.model import Post


class PostCatalog:
    """Posts by id; applying the same post twice is a no-op, so replays are safe."""

    def __init__(self) -> None:
        self._posts: dict[str, Post] = {}

    def apply(self, post: Post) -> None:
        """Record a published post; the first version of an id wins."""
        self._posts.setdefault(post.post_id, post)

    def get(self, post_id: str) -> Post | None:
        """The post called ``post_id``, if it was published."""
        return self._posts.get(post_id)

    def authors(self, item_ids: Iterable[str]) -> dict[str, str]:
        """Creator id of each known item; unknown items are left out."""
        found: dict[str, str] = {}
        for item_id in item_ids:
            post = self._posts.get(item_id)
            if post is not None:
                found[item_id] = post.creator_id
        return found

    def __len__(self) -> int:
        return len(self._posts)
