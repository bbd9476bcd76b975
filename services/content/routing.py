"""Where a request for a partition is answered: here, or at its owner replica (one hop).

Every content use case (posts, edits, interactions, topics, drafts, moderation) routes the same
way, so the rule lives here once: a replica still restoring answers nothing; a partition owned
here is answered here; otherwise the call goes to the owner the last rebalance named, but a
call already forwarded by another replica (signed as content) is never forwarded again, and
an owner that is unknown or ourselves means the partition is moving: UNAVAILABLE, retried.
"""

from __future__ import annotations

from typing import Protocol

from planetkit.service_auth import Caller
from planetkit.service_identities import CONTENT
from services.content.domain.errors import NotServing


class Placement(Protocol):
    """What the last rebalance said (services.content.handlers.Ownership)."""

    @property
    def serving(self) -> bool:
        """Whether this replica has restored what it owns."""

    @property
    def local(self) -> frozenset[int]:
        """The partitions this replica owns."""

    @property
    def owners(self) -> dict[int, str]:
        """Each partition's owner address."""

    @property
    def addr(self) -> str:
        """This replica's address."""


def owner_address(placement: Placement, partition: int, caller: Caller, what: str) -> str | None:
    """None when this replica answers for ``partition`` (of ``what``: posts, drafts, topics);
    else the owner's address. NotServing while restoring or while the partition moves."""
    if not placement.serving:
        raise NotServing("content is restoring or rebalancing its partitions; retry")
    if partition in placement.local:
        return None
    addr = placement.owners.get(partition)
    if caller.service == CONTENT or not addr or addr == placement.addr:
        raise NotServing(f"partition {partition} of the {what} is moving between replicas; "
                         "retry")
    return addr
