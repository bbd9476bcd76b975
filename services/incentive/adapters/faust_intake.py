"""The incentive processor's intake as Faust agents: source events → facts and statuses.

Four agents, each reading its sources as ONE Faust stream (records of one agent are folded
one at a time, so two sources never race on a table key or on the order of the whole-status
records they write):

- items:   planet.content.posts.v1, .moderation.v1, .interactions.v1 (all keyed by post id,
           same partition count) → INTERACTION_FACTS (comments, replies, likes, shares) and
           ITEM_STATUS (the item's whole status on every change);
- users:   planet.exchange.kyc.v1, planet.social.identities.v1, planet.exchange.trade-fees.v1
           (all keyed by user id) → USER_STATUS (the user's whole status on every change);
- follows: planet.social.graph.v1 → INTERACTION_FACTS (Followed);
- groups:  planet.groups.events.v1 (keyed by group id, 8 partitions: its own agent and table,
           co-partitioned with it) → INTERACTION_FACTS (group messages and reactions) and
           ITEM_STATUS (the group item's whole status on every change).

The folds are pure (services/incentive/intake); this module reads, writes tables and sends.
Outputs and dead letters are written in the source partition's transaction
(faust_transactions), with the table changelogs and the source offsets: exactly once.

The composition root wires it so::

    intake = declare_intake(app, suffix)               # topics and tables, before start
    dead_letters = DeadLetters(intake.dead_letters, now_ms)
    register_intake(app, intake, dead_letters, settings.quote_asset)
    # topics: registry_topics(suffix) must exist (require_topics); changelog_topics(app_id)
    # are the service's own to create (ensure_topics) before the worker starts;
    # readiness: source_partitions(suffix) → {topic name: partitions} (TableReadiness).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from planetkit import topics as registry
from planetkit.envelope import UndecodableEvent
from planetkit.kafka.producer import check_writer
from planetkit.service_identities import INCENTIVE
from planetkit.topics import Topic, with_suffix
from services.incentive.adapters.dead_letters import DeadLetters
from services.incentive.adapters.faust_transactions import ReplayGuard, send_in_source_transaction
from services.incentive.intake.dispatch import (
    FOLLOW_SOURCES,
    GROUP_SOURCES,
    ITEM_SOURCES,
    USER_SOURCES,
    Table,
    UserTables,
    on_follow_record,
    on_group_record,
    on_item_record,
    on_user_record,
)
from services.incentive.intake.records import Output

# Every topic the intake reads (for readiness and the topic check) and writes.
SOURCES: tuple[Topic, ...] = (*ITEM_SOURCES, *USER_SOURCES, *FOLLOW_SOURCES, *GROUP_SOURCES)
OUTPUTS: tuple[Topic, ...] = (
    registry.INTERACTION_FACTS, registry.ITEM_STATUS, registry.USER_STATUS, registry.DLQ_SCORING,
)
# The tables (Faust names; their changelogs are "<app id>-<name>-changelog").
TABLE_NAMES: tuple[str, ...] = (
    "intake-items", "intake-users", "intake-sanctions", "intake-fee-ids", "intake-groups",
)
# Tables are partitioned like their sources; every source but the groups' has this many
# partitions (the groups' table has the groups topic's).
PARTITIONS = registry.POSTS.partitions
GROUP_PARTITIONS = registry.GROUP_EVENTS.partitions
_TABLE_PARTITIONS = {"intake-groups": GROUP_PARTITIONS}


@dataclass(frozen=True)
class IntakeTables:
    """The intake's tables, typed as the mappings the pure folds use."""

    items: Table
    users: UserTables
    groups: Table


@dataclass(frozen=True)
class Intake:
    """What ``declare_intake`` declared: Faust topics (untyped) and tables."""

    suffix: str
    items_in: Any
    users_in: Any
    follows_in: Any
    groups_in: Any
    dead_letters: Any
    outputs: Mapping[str, Any]  # registry topic name → Faust topic under the suffix
    tables: IntakeTables


def registry_topics(suffix: str) -> list[Topic]:
    """Every registered topic the intake touches, under the suffix (they must exist)."""
    return [with_suffix(t, suffix) for t in (*SOURCES, *OUTPUTS)]


def source_partitions(suffix: str) -> dict[str, int]:
    """{source topic name: partitions}: what the worker must hold to have seen everything."""
    return {with_suffix(t, suffix).name: t.partitions for t in SOURCES}


def changelog_topics(app_id: str) -> list[Topic]:
    """The intake tables' changelog topics, so they exist before the worker starts (left to
    Faust, an agent can see "0 partitions" on a fresh broker and crash for good)."""
    return [
        Topic(f"{app_id}-{name}-changelog", "table key", (), INCENTIVE,
              partitions=_TABLE_PARTITIONS.get(name, PARTITIONS), compacted=True,
              enveloped=False)
        for name in TABLE_NAMES
    ]


def declare_intake(app: Any, suffix: str) -> Intake:
    """Declare the intake's topics (raw bytes codecs) and tables on ``app``."""
    wrong = [t.name for t in SOURCES if t not in GROUP_SOURCES and t.partitions != PARTITIONS]
    if wrong:
        # One table partition per source partition: co-partitioning is what keeps a key's
        # records and its table value on one worker, in one transaction. (The groups agent
        # reads one topic into a table of that topic's partition count.)
        raise ValueError(f"intake sources {wrong} do not have {PARTITIONS} partitions")
    # Faust sends with its own producer, not a writer-bound one: check the outputs here.
    for output in OUTPUTS:
        check_writer(INCENTIVE, with_suffix(output, suffix).name)

    def topic(*ts: Topic) -> Any:
        return app.topic(
            *(with_suffix(t, suffix).name for t in ts),
            key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
            partitions=ts[0].partitions,
        )

    def table(name: str, help_: str) -> Table:
        return cast(Table, app.Table(name, default=None, key_type=str, value_type=bytes,
                                     partitions=_TABLE_PARTITIONS.get(name, PARTITIONS),
                                     help=help_))

    items, users, sanctions, fee_ids, groups = TABLE_NAMES
    return Intake(
        suffix=suffix,
        items_in=topic(*ITEM_SOURCES),
        users_in=topic(*USER_SOURCES),
        follows_in=topic(*FOLLOW_SOURCES),
        groups_in=topic(*GROUP_SOURCES),
        dead_letters=topic(registry.DLQ_SCORING),
        outputs={t.name: topic(t) for t in OUTPUTS if t is not registry.DLQ_SCORING},
        tables=IntakeTables(
            items=table(items, "item id → ItemStatus"),
            users=UserTables(
                users=table(users, "user id → UserStatus"),
                sanctions=table(sanctions, "user|sanction id → index in sanctioned"),
                fee_ids=table(fee_ids, "user|UTC day → fee id digests summed"),
            ),
            groups=table(groups, "group item id → ItemStatus"),
        ),
    )


def register_intake(app: Any, intake: Intake, dead_letters: DeadLetters, quote_asset: str) -> None:
    """Attach the four intake agents."""
    by_name = {with_suffix(t, intake.suffix).name: t for t in SOURCES}
    guard = ReplayGuard(app)

    def source_of(message: Any) -> Topic:
        return by_name[str(message.topic)]

    _agent(app, intake, intake.items_in, "intake-items", dead_letters, guard,
           lambda m: on_item_record(source_of(m), m.value, intake.tables.items))
    _agent(app, intake, intake.users_in, "intake-users", dead_letters, guard,
           lambda m: on_user_record(source_of(m), m.value, intake.tables.users, quote_asset))
    _agent(app, intake, intake.follows_in, "intake-follows", dead_letters, guard,
           lambda m: on_follow_record(m.value))
    _agent(app, intake, intake.groups_in, "intake-groups", dead_letters, guard,
           lambda m: on_group_record(m.value, intake.tables.groups))


def _agent(app: Any, intake: Intake, topic: Any, name: str, dead_letters: DeadLetters,
           guard: ReplayGuard, fold: Callable[[Any], list[Output]]) -> None:
    async def agent(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            if guard.seen(message):
                continue  # its outputs are in the open transaction already (ReplayGuard)
            try:
                # Folds and table writes happen here, synchronously, before any send.
                outputs = fold(message)
            except UndecodableEvent as exc:
                await dead_letters.send(message, str(exc))
                guard.mark(message)
                continue
            for out in outputs:
                target = intake.outputs[out.topic.name]
                await send_in_source_transaction(
                    app, message, target.get_topic_name(), target.partitions, out.key, out.value
                )
            guard.mark(message)

    app.agent(topic, name=name)(agent)
