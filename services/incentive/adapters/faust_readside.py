"""The read side's Faust part: agents projecting the pool's output topics into two tables.

- ``readside-creators`` (as many partitions as CREATOR_WEEKS, ESTIMATES and PAYOUT_STATES,
  all keyed by creator id): settled weeks, item ledgers, payout states, the latest estimate;
- ``readside-weeks`` (one partition, like INCENTIVE_WEEKS and INCENTIVE_OPERATIONS):
  settlements, closes, late facts, fundings, policies, held decisions.

Both are GlobalTables: every replica reads every changelog partition (as standby once its
first recovery is done), so any replica of the service answers for any creator and week,
while each source partition is still projected by the one replica the group gives it. The
changelogs are co-partitioned with their sources (no ``use_partitioner``), so a table write
and its source offset commit share one transaction under exactly-once.

``recovery_buffer_size=1`` is what makes the other replicas see changes at all: Faust lists
a GlobalTable's changelog partitions as this worker's ACTIVE ones as well as standbys, and
its changelog reader (tables/recovery.py ``_slurp_changelogs``) buffers an active partition's
records until ``recovery_buffer_size`` (default 1000) of them arrived before applying them.
With the default, a replica that does not own a partition showed none of its last <1000
changes (test_incentive_api_replicas found it); with 1 every change is applied on arrival.
Faust's own GlobalTable docstring names the same setting.

What each key holds is in services/incentive/readside/{creators,weeks}.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from google.protobuf.message import Message

from planet.incentive.v1.weekly_pool_pb2 import (
    CreatorEstimate,
    CreatorWeekResult,
    FactsLate,
    HeldDecided,
    PayoutStateChanged,
    PolicyPublished,
    PoolFunded,
    WeekClosed,
    WeekCloseRequested,
    WeekSettled,
)
from planetkit.envelope import DomainEvent, UndecodableEvent, decode
from planetkit.service_identities import INCENTIVE
from planetkit.topics import (
    CREATOR_WEEKS,
    ESTIMATES,
    INCENTIVE_OPERATIONS,
    INCENTIVE_WEEKS,
    PAYOUT_STATES,
    Topic,
    with_suffix,
)
from services.incentive.adapters.dead_letters import DeadLetters
from services.incentive.readside.codec import Table
from services.incentive.readside.creators import (
    apply_creator_week,
    apply_estimate,
    apply_payout_state,
)
from services.incentive.readside.keys import UnreadableRecord
from services.incentive.readside.weeks import apply_operation, apply_week_record

log = logging.getLogger(__name__)

# The read side's sources; readiness waits until the group has projected them.
READSIDE_SOURCES: tuple[Topic, ...] = (
    CREATOR_WEEKS, ESTIMATES, PAYOUT_STATES, INCENTIVE_WEEKS, INCENTIVE_OPERATIONS,
)
CREATORS_TABLE = "readside-creators"
WEEKS_TABLE = "readside-weeks"
if len({CREATOR_WEEKS.partitions, ESTIMATES.partitions, PAYOUT_STATES.partitions}) != 1:
    raise ValueError("creator weeks, estimates and payout states must be co-partitioned")
if INCENTIVE_WEEKS.partitions != INCENTIVE_OPERATIONS.partitions:
    raise ValueError("incentive weeks and operations must be co-partitioned")


@dataclass(frozen=True)
class ReadSideTables:
    """The two tables, typed as the mappings the projections use."""

    creators: Table
    weeks: Table


def readside_changelogs(app_id: str) -> list[Topic]:
    """The tables' changelog topics, so the service can create them before Faust starts."""
    return [
        Topic(f"{app_id}-{name}-changelog", "table key", (), INCENTIVE, partitions=n,
              compacted=True, enveloped=False)
        for name, n in ((CREATORS_TABLE, CREATOR_WEEKS.partitions),
                        (WEEKS_TABLE, INCENTIVE_WEEKS.partitions))
    ]


def declare_readside_tables(app: Any) -> ReadSideTables:
    """Declare the two GlobalTables (str keys, bytes values: the app's raw codec)."""

    def table(name: str, partitions: int, help_: str) -> Table:
        return cast(Table, app.GlobalTable(
            name, default=None, key_type=str, value_type=bytes, partitions=partitions,
            recovery_buffer_size=1, help=help_))

    return ReadSideTables(
        creators=table(CREATORS_TABLE, CREATOR_WEEKS.partitions,
                       "creator → settled weeks, item ledger, payout states, estimate"),
        weeks=table(WEEKS_TABLE, INCENTIVE_WEEKS.partitions,
                    "week → settlement, close, late facts, fundings, policies, held"),
    )


def _decoded(handle: Callable[[DomainEvent[Any]], bool],
             *types: type[Message]) -> Callable[[bytes | None], bool]:
    def apply(raw: bytes | None) -> bool:
        return handle(decode(raw, *types))
    return apply


def register_readside(app: Any, suffix: str, tables: ReadSideTables,
                      dead_letters: DeadLetters) -> None:
    """One agent per source topic: decode, project, dead-letter what cannot be projected."""
    creators, weeks = tables.creators, tables.weeks
    projections: dict[Topic, Callable[[bytes | None], bool]] = {
        CREATOR_WEEKS: _decoded(lambda e: apply_creator_week(creators, e.payload),
                                CreatorWeekResult),
        ESTIMATES: _decoded(lambda e: apply_estimate(creators, e.payload), CreatorEstimate),
        PAYOUT_STATES: _decoded(lambda e: apply_payout_state(creators, e.payload),
                                PayoutStateChanged),
        INCENTIVE_WEEKS: _decoded(lambda e: apply_week_record(weeks, e.payload),
                                  WeekClosed, WeekSettled, FactsLate),
        INCENTIVE_OPERATIONS: _decoded(lambda e: apply_operation(weeks, e.payload, e.event_id),
                                       PoolFunded, PolicyPublished, WeekCloseRequested,
                                       HeldDecided),
    }
    for source, project in projections.items():
        named = with_suffix(source, suffix)
        topic = app.topic(named.name, key_type=bytes, value_type=bytes, key_serializer="raw",
                          value_serializer="raw", partitions=named.partitions)
        _agent(app, topic, f"readside-{source.name}", project, dead_letters)


def _agent(app: Any, topic: Any, name: str, project: Callable[[bytes | None], bool],
           dead_letters: DeadLetters) -> None:
    async def agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            if message.value is None:
                continue  # a tombstone on a compacted topic (ESTIMATES): nothing to project
            try:
                project(message.value)
            except (UndecodableEvent, UnreadableRecord) as exc:
                await dead_letters.send(message, str(exc))

    app.agent(topic, name=name)(agent)
