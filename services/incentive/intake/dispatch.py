"""Which fold a record of each source topic goes through: plain functions over mappings.

Each ``on_*`` decodes one source record, folds it into the tables (plain str → bytes mappings:
Faust tables in the service, dicts in tests) and returns the records to write. A record that
cannot be read, or contradicts what the tables hold, raises UndecodableEvent BEFORE any table
is written, so a dead-lettered record changes nothing.

Tables and keys (each table is partitioned like its sources, so one worker's partition p holds
everything its records touch):
- items:     item id → ItemStatus (posts, comments, moderation: keyed by post id upstream,
             and a comment's records ride its post's partition)
- users:     user id → UserStatus (KYC, identities and fees: all keyed by user id upstream)
- sanctions: "user|sanction id" → the index of its period in UserStatus.sanctioned
- fee_ids:   "user|UTC day" → the 8-byte digests of the fee ids summed on that day
- groups:    group item id → ItemStatus of the group (planet.groups.events.v1, keyed by group
             id upstream; 8 partitions, so its own agent and table: group_engagement)
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TypeVar

from google.protobuf.message import DecodeError, Message

from planet.incentive.v1.facts_pb2 import ItemStatus, UserStatus
from planetkit import topics as registry
from planetkit.envelope import DomainEvent, UndecodableEvent, decode
from planetkit.topics import Topic
from planetkit.upcasters import decode_fee
from services.incentive.intake.fee_window import fee_day, fold_fee, seen_key
from services.incentive.intake.group_engagement import fold_group, group_key
from services.incentive.intake.interaction_facts import (
    GRAPH_TYPES,
    INTERACTION_TYPES,
    follow_fact,
    interaction_fact,
)
from services.incentive.intake.item_status import MODERATION_TYPES, POST_TYPES, fold_item, item_key
from services.incentive.intake.records import Output, facts_output, item_output, user_output
from services.incentive.intake.user_status import IDENTITY_TYPES, KYC_TYPES, fold_user, user_of

Table = MutableMapping[str, bytes]
M = TypeVar("M", bound=Message)

# The source topics by role (registry topics: the adapter adds the test suffix).
ITEM_SOURCES: tuple[Topic, ...] = (registry.POSTS, registry.MODERATION, registry.INTERACTIONS)
USER_SOURCES: tuple[Topic, ...] = (registry.KYC, registry.SOCIAL_IDENTITIES, registry.TRADE_FEES)
FOLLOW_SOURCES: tuple[Topic, ...] = (registry.SOCIAL_GRAPH,)
GROUP_SOURCES: tuple[Topic, ...] = (registry.GROUP_EVENTS,)

_ITEM_TYPES: dict[str, tuple[type[Message], ...]] = {
    registry.POSTS.name: POST_TYPES,
    registry.MODERATION.name: MODERATION_TYPES,
    registry.INTERACTIONS.name: INTERACTION_TYPES,
}
_USER_TYPES: dict[str, tuple[type[Message], ...]] = {
    registry.KYC.name: KYC_TYPES,
    registry.SOCIAL_IDENTITIES.name: IDENTITY_TYPES,
}


@dataclass(frozen=True)
class UserTables:
    """The three tables a user's status is folded in."""

    users: Table
    sanctions: Table
    fee_ids: Table


def on_item_record(source: Topic, raw: bytes | None, items: Table) -> list[Output]:
    """A posts, moderation or interactions record: its fact (interactions) and the item's
    whole status when it changed."""
    event = decode(raw, *_ITEM_TYPES[source.name])
    outputs: list[Output] = []
    if source.name == registry.INTERACTIONS.name:
        facts = interaction_fact(event)
        if facts is not None:
            outputs.append(facts_output(facts, event.event_id, facts.occurred_at_ms[0]))
    status = fold_item(_item(items, event), event)
    if status is not None:
        items[status.item_id] = status.SerializeToString(deterministic=True)
        outputs.append(item_output(status, event.event_id))
    return outputs


def on_follow_record(raw: bytes | None) -> list[Output]:
    """A graph record: a Followed's fact; nothing for unfollows and bells."""
    event = decode(raw, *GRAPH_TYPES)
    facts = follow_fact(event)
    if facts is None:
        return []
    return [facts_output(facts, event.event_id, facts.occurred_at_ms[0])]


def on_group_record(raw: bytes | None, groups: Table) -> list[Output]:
    """A group record: a message's or reaction's fact, and the group item's whole status
    when it changed (created, ownership transferred, closed, reopened)."""
    event = decode(raw, *registry.GROUP_EVENTS.payloads)
    key = group_key(event)
    raw_status = groups.get(key)
    change = fold_group(None if raw_status is None else _parse(ItemStatus, raw_status,
                                                               f"group {key}"), event)
    outputs: list[Output] = []
    if change.facts is not None:
        outputs.append(facts_output(change.facts, event.event_id,
                                    change.facts.occurred_at_ms[0]))
    if change.status is not None:
        groups[key] = change.status.SerializeToString(deterministic=True)
        outputs.append(item_output(change.status, event.event_id))
    return outputs


def on_user_record(source: Topic, raw: bytes | None, tables: UserTables,
                   quote_asset: str) -> list[Output]:
    """A KYC, identities or trade-fee record: the user's whole status when it changed."""
    if source.name == registry.TRADE_FEES.name:
        return _on_fee(raw, tables, quote_asset)
    event = decode(raw, *_USER_TYPES[source.name])
    user_id = user_of(event)
    current = _user(tables.users, user_id)
    index = _sanction_index(tables.sanctions, user_id, event)
    change = fold_user(current, event, index)
    if change is None:
        return []
    if change.new_sanction is not None:
        sanction_id, position = change.new_sanction
        tables.sanctions[f"{user_id}|{sanction_id}"] = str(position).encode()
    tables.users[user_id] = change.status.SerializeToString(deterministic=True)
    return [user_output(change.status, event.event_id)]


def _on_fee(raw: bytes | None, tables: UserTables, quote_asset: str) -> list[Output]:
    event = decode_fee(raw, quote_asset)
    user_id = event.payload.user_id
    if not user_id:
        raise UndecodableEvent(f"fee {event.payload.fee_id or event.event_id} lacks user_id")
    day = fee_day(event)
    change = fold_fee(_user(tables.users, user_id), event, quote_asset,
                      tables.fee_ids.get(seen_key(user_id, day)))
    if change is None:
        return []
    for dropped in change.dropped_days:
        tables.fee_ids.pop(seen_key(user_id, dropped), None)
    tables.fee_ids[seen_key(user_id, change.day)] = change.seen
    tables.users[user_id] = change.status.SerializeToString(deterministic=True)
    return [user_output(change.status, event.event_id)]


def _item(items: Table, event: DomainEvent[Message]) -> ItemStatus | None:
    key = item_key(event)
    raw = items.get(key) if key is not None else None
    return None if raw is None else _parse(ItemStatus, raw, f"item {key}")


def _user(users: Table, user_id: str) -> UserStatus | None:
    raw = users.get(user_id)
    return None if raw is None else _parse(UserStatus, raw, f"user {user_id}")


def _sanction_index(sanctions: Table, user_id: str, event: DomainEvent[Message]) -> dict[str, int]:
    """The one index the event can need (its sanction's), read from the table."""
    sanction_id = getattr(event.payload, "sanction_id", "")
    if not isinstance(sanction_id, str) or not sanction_id:
        return {}
    raw = sanctions.get(f"{user_id}|{sanction_id}")
    return {} if raw is None else {sanction_id: int(raw.decode())}


def _parse(cls: type[M], raw: bytes, what: str) -> M:
    message = cls()
    try:
        message.ParseFromString(raw)
    except DecodeError as exc:  # our own table value: a bug, not the record's fault
        raise RuntimeError(f"the intake table holds an unreadable {what}: {exc}") from exc
    return message

