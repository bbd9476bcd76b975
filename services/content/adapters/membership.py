"""Group membership on the posts topic and its per-author copy: a custom assignor that
co-partitions them (partition p of both to one member) and hands out the owner map.

Each member's JoinGroup metadata carries its claim (address, stored offsets); the leader
assigns with ``domain.assignment.assign`` and puts the owner map (partition -> address)
into every member's assignment user data. A replica that dies stops heartbeating; after
the session timeout the group rebalances and its partitions (and their addresses) move to
the survivors in one step. aiokafka calls an assignor's methods on the class, so each
replica gets a class of its own bound to its claim and its directory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping

from aiokafka import TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.cluster import ClusterMetadata
from aiokafka.coordinator.assignors.abstract import AbstractPartitionAssignor
from aiokafka.coordinator.protocol import (
    ConsumerProtocolMemberAssignment,
    ConsumerProtocolMemberMetadata,
)

from services.content.domain.assignment import (
    Claim,
    assign,
    decode_claim,
    decode_owners,
    encode_claim,
    encode_owners,
)

ASSIGNOR_NAME = "planet-content-owners"


def owner_map_assignor(
    claim: Callable[[], Claim], on_owners: Callable[[dict[int, str]], None]
) -> type[AbstractPartitionAssignor]:
    """An assignor class whose members send ``claim()`` and receive the owner map."""

    # aiokafka ships no type information, so its base class is Any to mypy.
    class OwnerMapAssignor(AbstractPartitionAssignor):  # type: ignore[misc]
        name = ASSIGNOR_NAME
        version = 0

        @classmethod
        def assign(
            cls, cluster: ClusterMetadata, members: Mapping[str, ConsumerProtocolMemberMetadata]
        ) -> dict[str, ConsumerProtocolMemberAssignment]:
            claims = {m: decode_claim(meta.user_data) for m, meta in members.items()}
            topics = sorted({t for meta in members.values() for t in meta.subscription})
            per_member: dict[str, list[tuple[str, list[int]]]] = {m: [] for m in members}
            # Co-partitioned: partition p of every subscribed topic (posts, author-posts) goes
            # to one member, so the owner map holds for both and the owner of p keeps both.
            partitions = sorted({p for topic in topics
                                 for p in cluster.partitions_for_topic(topic) or ()})
            owned_by = assign(partitions, claims)
            owners = {p: claims[m].addr for m, owned in owned_by.items() for p in owned}
            for member, owned in owned_by.items():
                for topic in topics:
                    if topic in members[member].subscription:
                        present = cluster.partitions_for_topic(topic) or set()
                        per_member[member].append((topic, [p for p in owned if p in present]))
            data = encode_owners(owners)
            return {m: ConsumerProtocolMemberAssignment(cls.version, a, data)
                    for m, a in per_member.items()}

        @classmethod
        def metadata(cls, topics: Iterable[str]) -> ConsumerProtocolMemberMetadata:
            return ConsumerProtocolMemberMetadata(cls.version, list(topics), encode_claim(claim()))

        @classmethod
        def on_assignment(cls, assignment: ConsumerProtocolMemberAssignment) -> None:
            on_owners(decode_owners(assignment.user_data))

    return OwnerMapAssignor


class RebalanceListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Hands revocations and assignments (awaited by aiokafka, in order) to the replica."""

    def __init__(
        self,
        revoked: Callable[[set[TopicPartition]], Awaitable[None]],
        assigned: Callable[[set[TopicPartition]], Awaitable[None]],
    ) -> None:
        self._revoked = revoked
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        await self._assigned(set(assigned))
