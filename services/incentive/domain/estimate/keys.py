"""Table keys: one place that decides how (creator, week) and friends become strings."""

from __future__ import annotations


def creator_week_key(creator_id: str, week: str) -> str:
    """Key of a creator's engagement in a week."""
    return f"{creator_id}|{week}"


def posts_key(creator_id: str, week: str, partition: int) -> str:
    """Key of the posts a creator published in a week, as seen on one posts-topic partition.

    The posts topic is keyed by post id, so one creator's posts arrive on several partitions;
    Faust writes a table key to the changelog partition of the event being processed, so each
    key must be written from exactly one partition or a replay would apply them out of order.
    """
    return f"{creator_id}|{week}|{partition}"


def fees_key(consumer_id: str, week: str) -> str:
    """Key of the trade fees a consumer paid in a week."""
    return f"{consumer_id}|{week}"


def applied_deltas_key(partition: int) -> str:
    """Key of the recently applied engagement-delta records of one deltas-topic partition."""
    return f"p{partition}"
