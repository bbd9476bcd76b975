"""Kafka's default key partitioner (murmur2), so our explicit routing agrees with it."""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_for(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner picks for ``key``."""
    hashed: int = murmur2(key.encode())
    return (hashed & 0x7FFFFFFF) % partitions
