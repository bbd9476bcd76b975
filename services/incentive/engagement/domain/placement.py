"""Is a batch on the partition its consumer maps to? Dedup depends on it.

Dedup memory is kept per input partition, so it only catches a repeated event id
if every copy of it arrives on the same partition. The gateway keys batches by
consumer id with Kafka's default partitioner (murmur2), so every copy of a
consumer's batch lands on ``murmur2(consumer) % partitions``. A record that sits
anywhere else was written by a producer with another partitioner (``kcat``
defaults to ``consistent_random``, a crc32 hash) or across a change of partition
count; counting it could count its events a second time, so it is refused.
"""

from __future__ import annotations

from planetkit.kafka.partitioning import partition_for


class MisplacedRecord(ValueError):
    """A batch on another partition than its consumer's: dead-lettered, never counted."""


class Placement:
    """Checks records against murmur2 placement; caches each consumer's partition."""

    def __init__(self, partitions: int, cache_limit: int = 1_000_000) -> None:
        self.partitions = partitions
        self._owner: dict[str, int] = {}
        self._cache_limit = cache_limit

    def expected(self, consumer_id: str) -> int:
        """The input partition ``consumer_id``'s batches must be on."""
        owner = self._owner.get(consumer_id)
        if owner is None:
            if len(self._owner) >= self._cache_limit:
                self._owner.clear()  # a cache, not state: bounded
            owner = self._owner[consumer_id] = partition_for(consumer_id, self.partitions)
        return owner

    def check(self, consumer_id: str, partition: int) -> None:
        """MisplacedRecord with the reason when the batch is not where murmur2 puts it."""
        if not consumer_id:
            return  # an empty batch counts nothing wherever it is
        expected = self.expected(consumer_id)
        if expected != partition:
            raise MisplacedRecord(
                f"misplaced: consumer {consumer_id!r} maps to partition {expected} of "
                f"{self.partitions} under Kafka's default murmur2 partitioner, but the record "
                f"is on partition {partition} (a producer with another partitioner, e.g. "
                f"kcat's consistent_random/crc32, or a partition-count change); its events "
                f"are not counted"
            )
