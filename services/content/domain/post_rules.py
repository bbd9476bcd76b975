"""Who may see, edit and delete a post, and the revision check (pure).

Only a post's author edits or deletes it. A deleted post is shown to its author and to
operators only: to anyone else it does not exist (404, not 403, so a deletion reveals
nothing). An edit may name the revision it was made against; another revision being the
latest is a conflict (HTTP 409), so two editors never silently overwrite each other.
"""

from __future__ import annotations

from services.content.domain.model import Post
from services.content.domain.validation import MAX_ID_CHARS

OPERATOR_ROLES = frozenset({"operator"})
MAX_REVISION_PAGE = 50
DEFAULT_REVISION_PAGE = 20


class PostNotFound(LookupError):
    """No such post, or one the caller may not see."""


class NotAuthor(PermissionError):
    """The caller is not the post's author."""


class RevisionConflict(RuntimeError):
    """The post is not at the revision the caller expected (or is deleted)."""


def is_operator(roles: frozenset[str]) -> bool:
    """True for a platform operator (sees deleted posts and any post's revisions)."""
    return bool(roles & OPERATOR_ROLES)


def visible_to(post: Post, user_id: str, roles: frozenset[str]) -> bool:
    """Whether ``user_id`` (holding ``roles``) may see ``post``."""
    if not post.deleted_at_ms and not post.removed_at_ms:
        return True
    return (bool(user_id) and user_id == post.creator_id) or is_operator(roles)


def check_author(post: Post | None, user_id: str, roles: frozenset[str]) -> Post:
    """The post when ``user_id`` is its author; PostNotFound when the caller may not even
    see it, NotAuthor when they see it but it is not theirs."""
    if post is None or not visible_to(post, user_id, roles):
        raise PostNotFound("post not found")
    if not user_id or post.creator_id != user_id:
        raise NotAuthor("only a post's author edits or deletes it")
    return post


def check_revision(post: Post, expected_revision: int) -> None:
    """RevisionConflict when the post is deleted, or not at ``expected_revision`` (0: any)."""
    if post.deleted_at_ms:
        raise RevisionConflict("the post is deleted; it can no longer be edited")
    if post.removed_at_ms:
        # An edit could move a removed post onto topic pages that never saw its removal.
        raise RevisionConflict("the post was removed after a report; it cannot be edited "
                               "while removed (appeal the removal instead)")
    if expected_revision and expected_revision != post.revision:
        raise RevisionConflict(
            f"the post is at revision {post.revision}, not {expected_revision}: "
            "another edit came first; reload it and edit again")


def check_post_id(post_id: str) -> str:
    """Why a post id cannot be one ("" when it may be)."""
    if not post_id or len(post_id) > MAX_ID_CHARS:
        return f"post_id must be 1-{MAX_ID_CHARS} characters"
    return ""


def revision_page_limit(requested: int) -> int:
    """Revisions per page: 0 is the default; 1-50 otherwise (ValueError)."""
    if requested == 0:
        return DEFAULT_REVISION_PAGE
    if not 1 <= requested <= MAX_REVISION_PAGE:
        raise ValueError(f"limit must be 1-{MAX_REVISION_PAGE}, not {requested}")
    return requested
