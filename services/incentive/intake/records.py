"""What the intake writes: enveloped records, each naming its (registry) topic and key."""

from __future__ import annotations

from dataclasses import dataclass

from planet.incentive.v1.facts_pb2 import FactRows, ItemStatus, UserStatus
from planetkit.envelope import encode, wrap
from planetkit.service_identities import INCENTIVE
from planetkit.topics import INTERACTION_FACTS, ITEM_STATUS, USER_STATUS, Topic


@dataclass(frozen=True)
class Output:
    """One record to write: ``topic`` is the registry topic (the adapter adds the suffix)."""

    topic: Topic
    key: str
    value: bytes


def facts_output(facts: FactRows, source_event_id: str, occurred_at_ms: int) -> Output:
    """The FactRows of one source event, keyed by its consumer.

    The envelope's event id is derived from the source event's, so a reader deduplicating by
    envelope id and one deduplicating by fact event id agree.
    """
    env = wrap(facts, event_id=f"{source_event_id}/facts", source=INCENTIVE,
               aggregate_id=facts.consumer_id, occurred_at_ms=occurred_at_ms)
    return Output(INTERACTION_FACTS, facts.consumer_id, encode(env))


def item_output(status: ItemStatus, source_event_id: str) -> Output:
    """An item's whole status after ``source_event_id``, keyed by item id (compacted topic)."""
    env = wrap(status, event_id=f"{source_event_id}/item-status/{status.item_id}",
               source=INCENTIVE, aggregate_id=status.item_id,
               occurred_at_ms=status.updated_at_ms)
    return Output(ITEM_STATUS, status.item_id, encode(env))


def user_output(status: UserStatus, source_event_id: str) -> Output:
    """A user's whole status after ``source_event_id``, keyed by user id (compacted topic)."""
    env = wrap(status, event_id=f"{source_event_id}/user-status/{status.user_id}",
               source=INCENTIVE, aggregate_id=status.user_id,
               occurred_at_ms=status.updated_at_ms)
    return Output(USER_STATUS, status.user_id, encode(env))
