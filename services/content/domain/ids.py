"""Deterministic ids: the same request always names the same post."""

from __future__ import annotations

import hashlib


def post_id_for(creator_id: str, request_id: str) -> str:
    """The post id of ``request_id`` by ``creator_id``: "post_" + 24 hex digits of SHA-256.

    Deriving the id instead of drawing it makes PublishPost idempotent across
    restarts: a retried request finds its post in the rebuilt projection.
    """
    # A separator that cannot occur in either part keeps ("a:b", "c") and ("a", "b:c") apart.
    digest = hashlib.sha256(f"{creator_id}\x00{request_id}".encode()).hexdigest()
    return f"post_{digest[:24]}"


def event_id_for(post_id: str, version: int) -> str:
    """The event id of a post's ``version``-th event, stable so retries dedup downstream."""
    digest = hashlib.sha256(f"{post_id}\x00{version}".encode()).hexdigest()
    return f"evt_{digest[:24]}"
