"""A group chat as an item of the weekly pool (issue 15): ``group:<group id>``.

One group is one item, owned by the group's owner (post once, earn forever). The id is the
same in a client's telemetry, in the incentive's fact rows and in its item statuses. Group ids
are 1-128 characters of a-z, 0-9, '-' and '_' (services.groups.domain.validation), so the
prefix never makes two groups, or a group and a post ("post_<hex>"), meet.
"""

from __future__ import annotations

GROUP_ITEM_PREFIX = "group:"
# The gateway's pattern for a group item in telemetry (the groups service's id alphabet).
GROUP_ITEM_PATTERN = "group:[a-z0-9_-]{1,128}"
_ID_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")


def group_item(group_id: str) -> str:
    """The item id of a group."""
    return f"{GROUP_ITEM_PREFIX}{group_id}"


def group_of_item(item_id: str) -> str | None:
    """The group id of a group item; None for any other item (or a malformed group item)."""
    if not item_id.startswith(GROUP_ITEM_PREFIX):
        return None
    group_id = item_id[len(GROUP_ITEM_PREFIX):]
    if not 0 < len(group_id) <= 128 or not set(group_id) <= _ID_ALPHABET:
        return None
    return group_id
