"""Kafka records as RawEventRows: one row per event, a columnar batch exploded per event."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from planet.engagement.v1.telemetry_pb2 import EngagementBatch, EngagementKind
from planetkit.analytics.encoding import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS
from planetkit.analytics.store import RawEventRow
from planetkit.engagement_batches import iter_rows
from planetkit.envelope import DomainEvent, UndecodableEvent, decode
from planetkit.topics import Topic

ENGAGEMENT_EVENT_TYPE = "planet.engagement.v1.EngagementEvent"

_INT64_TYPES = frozenset(
    {
        FieldDescriptor.TYPE_INT64,
        FieldDescriptor.TYPE_UINT64,
        FieldDescriptor.TYPE_SINT64,
        FieldDescriptor.TYPE_FIXED64,
        FieldDescriptor.TYPE_SFIXED64,
    }
)


@dataclass(frozen=True, slots=True)
class Record:
    """The parts of a consumed Kafka record the sink stores."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


def _exact_ints(value: object, descriptor: Descriptor) -> object:
    # The proto3 JSON mapping writes 64-bit integers as strings (for JavaScript's sake);
    # analysts sum them with JSONExtractInt, which wants numbers, and Python's ints are exact.
    if not isinstance(value, dict):
        return value
    out: dict[str, object] = {}
    for name, item in value.items():
        field = descriptor.fields_by_name.get(name)
        out[name] = item if field is None else _exact_field(item, field)
    return out


def _exact_field(value: object, field: FieldDescriptor) -> object:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        if not isinstance(value, dict):
            return value
        return {k: _exact_field(v, value_field) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact_scalar(v, field) for v in value]
    return _exact_scalar(value, field)


def _exact_scalar(value: object, field: FieldDescriptor) -> object:
    if field.type in _INT64_TYPES and isinstance(value, str):
        return int(value)
    if field.message_type is not None:
        return _exact_ints(value, field.message_type)
    return value


def payload_json(message: Message) -> str:
    """The payload as compact JSON: proto field names, zero values present, exact integers."""
    as_dict = MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    # upb and pure-Python descriptors are one type at runtime; the stubs name two.
    descriptor = cast(Descriptor, message.DESCRIPTOR)
    return json.dumps(_exact_ints(as_dict, descriptor), separators=(",", ":"))


def _kind_name(kind: int) -> str:
    try:
        name = EngagementKind.Name(EngagementKind.ValueType(kind))
    except ValueError:
        # A kind newer than this build: keep the number rather than lose the event.
        return str(kind)
    return name.removeprefix("ENGAGEMENT_KIND_").lower()


def _check_time(ms: int, what: str) -> int:
    # The store refuses such a row and would fail the whole fetch; it is the record's fault.
    if not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        raise UndecodableEvent(f"{what} {ms} ms is outside the storable range (1900..2299)")
    return ms


def _engagement_rows(
    event: DomainEvent[Message], batch: EngagementBatch, record: Record, ingested_at_ms: int
) -> list[RawEventRow]:
    env = event.envelope
    try:
        engagement = list(iter_rows(batch))
    except ValueError as exc:
        raise UndecodableEvent(f"malformed EngagementBatch: {exc}") from None
    rows = []
    for e in engagement:
        if not e.event_id:
            raise UndecodableEvent(f"batch {batch.batch_id!r} has an event without an id")
        payload = {
            "batch_id": batch.batch_id,
            "consumer_id": batch.consumer_id,
            "item_id": e.item_id,
            "creator_id": e.creator_id,
            "kind": _kind_name(e.kind),
            "dwell_seconds": e.dwell_seconds,
            "text_length": e.text_length,
            "occurred_at_ms": e.occurred_at_ms,
        }
        rows.append(
            RawEventRow(
                event_id=e.event_id,
                event_type=ENGAGEMENT_EVENT_TYPE,
                schema_version=env.schema_version,
                source=env.source,
                aggregate_id=batch.consumer_id,
                aggregate_version=env.aggregate_version,
                occurred_at_ms=_check_time(e.occurred_at_ms, f"event {e.event_id!r} occurred_at"),
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                payload_json=json.dumps(payload, separators=(",", ":")),
                ingested_at_ms=ingested_at_ms,
            )
        )
    return rows


def to_rows(record: Record, topic: Topic, ingested_at_ms: int) -> list[RawEventRow]:
    """The rows one record of ``topic`` becomes; UndecodableEvent with the reason otherwise."""
    event: DomainEvent[Message] = decode(record.value, *topic.payloads)
    if isinstance(event.payload, EngagementBatch):
        return _engagement_rows(event, event.payload, record, ingested_at_ms)
    env = event.envelope
    return [
        RawEventRow(
            event_id=env.event_id,
            event_type=env.type,
            schema_version=env.schema_version,
            source=env.source,
            aggregate_id=env.aggregate_id,
            aggregate_version=env.aggregate_version,
            occurred_at_ms=_check_time(env.occurred_at_ms, "occurred_at"),
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            payload_json=payload_json(event.payload),
            ingested_at_ms=ingested_at_ms,
        )
    ]


@dataclass(frozen=True, slots=True)
class Flattened:
    """A fetch translated: rows to insert, and records to dead-letter with their reasons."""

    rows: list[RawEventRow]
    rejected: list[tuple[int, str]]


def flatten(
    records: Iterable[Record], topics: Mapping[str, Topic], ingested_at_ms: int
) -> Flattened:
    """Rows of every decodable record; (index, reason) of every other one."""
    rows: list[RawEventRow] = []
    rejected: list[tuple[int, str]] = []
    for index, record in enumerate(records):
        topic = topics.get(record.topic)
        if topic is None:
            rejected.append((index, f"topic {record.topic!r} is not a registered source"))
            continue
        try:
            rows.extend(to_rows(record, topic, ingested_at_ms))
        except UndecodableEvent as exc:
            rejected.append((index, str(exc)))
    return Flattened(rows, rejected)
