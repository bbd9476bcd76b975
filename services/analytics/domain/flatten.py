"""Kafka records as RawEventRows: one row per event, a columnar batch exploded per event.

Every event becomes two rows: one for operators (public and personal values in clear) and one
for analysts (personal values pseudonymised). Private content and secrets are in neither; what
is which comes from planetkit.classification.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from planet.engagement.v1.telemetry_pb2 import EngagementBatch, EngagementKind
from planetkit.classification import (
    ENVELOPE,
    FIELD_CLASSES,
    NEVER_STORED,
    PERSONAL,
    DataClass,
    Sunk,
    check_classified,
    sink_policy,
)
from planetkit.engagement_batches import iter_rows
from planetkit.envelope import DomainEvent, UndecodableEvent, decode
from planetkit.group_items import group_of_item
from planetkit.topics import Topic, with_suffix
from services.analytics.domain.redaction import Transform, redact
from services.analytics.domain.store import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, RawEventRow

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


def payload_dict(message: Message) -> dict[str, object]:
    """The payload as a JSON-ready dict: proto field names, zero values present, exact ints."""
    as_dict = MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    # upb and pure-Python descriptors are one type at runtime; the stubs name two.
    descriptor = cast(Descriptor, message.DESCRIPTOR)
    return cast(dict[str, object], _exact_ints(as_dict, descriptor))


# One encoder for every row: json.dumps with arguments builds a new one per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def _dumps(payload: Mapping[str, object]) -> str:
    return _ENCODER.encode(payload)


def _column(cls: DataClass, value: str, personal: Transform | None) -> str:
    """A text column of one audience's row: kept, pseudonymised, or blank if never stored."""
    if cls in NEVER_STORED:
        return ""
    if cls is PERSONAL and personal is not None:
        return personal(value)
    return value


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


# An engagement row's payload keys and the batch column each comes from: the row is not a
# message of its own, so each key takes the class of its column.
_ENGAGEMENT_KEYS: dict[str, str] = {
    "batch_id": "batch_id",
    "consumer_id": "consumer_id",
    "item_id": "item_ids",
    "creator_id": "creator_ids",
    "kind": "kinds",
    "dwell_seconds": "dwell_seconds",
    "text_length": "text_lengths",
    "occurred_at_ms": "occurred_at_ms",
}
_BATCH = EngagementBatch.DESCRIPTOR.full_name


def _engagement_class(column: str) -> DataClass:
    # Unclassified columns are refused at start-up (check_classified); fail closed regardless.
    return FIELD_CLASSES.get(f"{_BATCH}.{column}", DataClass.SECRET)


def _envelope_class(name: str) -> DataClass:
    return FIELD_CLASSES.get(f"{ENVELOPE}.{name}", DataClass.SECRET)


@dataclass(frozen=True, slots=True)
class Source:
    """A topic the sink reads, with the policy that classifies its envelope."""

    topic: Topic
    policy: Sunk


def sunk_sources(topics: Iterable[Topic], suffix: str) -> dict[str, Source]:
    """The topics whose policy is Sunk, by (suffixed) name; UnclassifiedError if any is not
    classified, so the sink never starts with a field it does not know how to store."""
    registered = list(topics)
    check_classified(registered)
    sources: dict[str, Source] = {}
    for topic in registered:
        policy = sink_policy(topic)
        if isinstance(policy, Sunk):
            named = with_suffix(topic, suffix)
            sources[named.name] = Source(named, policy)
    return sources


@dataclass(frozen=True, slots=True)
class Rows:
    """What one record becomes: the operators' rows and the analysts' rows, event by event."""

    operator: list[RawEventRow]
    analyst: list[RawEventRow]


@dataclass(frozen=True, slots=True)
class Flattened:
    """A fetch translated: rows per audience, and records to dead-letter with their reasons."""

    operator: list[RawEventRow]
    analyst: list[RawEventRow]
    rejected: list[tuple[int, str]]


class Flattener:
    """Translates records into rows; ``pseudonymize`` turns a personal value into a pseudonym."""

    def __init__(self, pseudonymize: Transform) -> None:
        self._pseudonymize = pseudonymize

    def flatten(
        self, records: Iterable[Record], sources: Mapping[str, Source], ingested_at_ms: int
    ) -> Flattened:
        """Rows of every decodable record; (index, reason) of every other one."""
        operator: list[RawEventRow] = []
        analyst: list[RawEventRow] = []
        rejected: list[tuple[int, str]] = []
        for index, record in enumerate(records):
            source = sources.get(record.topic)
            if source is None:
                rejected.append((index, f"topic {record.topic!r} is not a registered source"))
                continue
            try:
                rows = self.to_rows(record, source, ingested_at_ms)
            except UndecodableEvent as exc:
                rejected.append((index, str(exc)))
                continue
            operator.extend(rows.operator)
            analyst.extend(rows.analyst)
        return Flattened(operator, analyst, rejected)

    def to_rows(self, record: Record, source: Source, ingested_at_ms: int) -> Rows:
        """The rows one record becomes; UndecodableEvent with the reason otherwise."""
        event: DomainEvent[Message] = decode(record.value, *source.topic.payloads)
        if isinstance(event.payload, EngagementBatch):
            return self._engagement_rows(event, event.payload, record, ingested_at_ms)
        env = event.envelope
        occurred_at_ms = _check_time(env.occurred_at_ms, "occurred_at")
        clear = payload_dict(event.payload)
        descriptor = cast(Descriptor, event.payload.DESCRIPTOR)
        policy = source.policy

        def row(personal: Transform | None) -> RawEventRow:
            return RawEventRow(
                event_id=_column(policy.event_id, env.event_id, personal),
                event_type=_column(_envelope_class("type"), env.type, personal),
                schema_version=env.schema_version,
                source=_column(_envelope_class("source"), env.source, personal),
                aggregate_id=_column(policy.aggregate_id, env.aggregate_id, personal),
                aggregate_version=env.aggregate_version,
                occurred_at_ms=occurred_at_ms,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                payload_json=_dumps(redact(clear, descriptor, personal)),
                ingested_at_ms=ingested_at_ms,
            )

        return Rows(operator=[row(None)], analyst=[row(self._pseudonymize)])

    def _engagement_rows(
        self, event: DomainEvent[Message], batch: EngagementBatch, record: Record,
        ingested_at_ms: int,
    ) -> Rows:
        # The volume path: classes are looked up once per process (_engagement_plan), values
        # shared by the whole batch are pseudonymised once per batch, and per event only the
        # event id costs a fresh HMAC (creators repeat, and the pseudonymizer caches them).
        env = event.envelope
        try:
            engagement = list(iter_rows(batch))
        except ValueError as exc:
            raise UndecodableEvent(f"malformed EngagementBatch: {exc}") from None
        plan = _engagement_plan()
        pseudonymize = self._pseudonymize
        consumer = batch.consumer_id
        source = (_column(plan.source, env.source, None),
                  _column(plan.source, env.source, pseudonymize))
        aggregate = (_column(plan.consumer, consumer, None),
                     _column(plan.consumer, consumer, pseudonymize))
        rows = Rows(operator=[], analyst=[])
        for e in engagement:
            if not e.event_id:
                raise UndecodableEvent(f"batch {batch.batch_id!r} has an event without an id")
            occurred_at_ms = _check_time(e.occurred_at_ms, f"event {e.event_id!r} occurred_at")
            clear: dict[str, object] = {
                "batch_id": batch.batch_id,
                "consumer_id": consumer,
                "item_id": e.item_id,
                "creator_id": e.creator_id,
                "kind": _kind_name(e.kind),
                "dwell_seconds": e.dwell_seconds,
                "text_length": e.text_length,
                "occurred_at_ms": e.occurred_at_ms,
            }
            for key in plan.dropped:
                del clear[key]
            hidden = dict(clear)
            for key in plan.personal:
                hidden[key] = pseudonymize(str(hidden[key]))
            if "item_id" in hidden and group_of_item(e.item_id) is not None:
                # Time in a group chat: analysts see the group pseudonymised (redaction.py).
                hidden["item_id"] = pseudonymize(e.item_id)
            for n, (out, payload, personal) in enumerate((
                (rows.operator, clear, None), (rows.analyst, hidden, pseudonymize),
            )):
                out.append(RawEventRow(
                    event_id=_column(plan.event_id, e.event_id, personal),
                    event_type=ENGAGEMENT_EVENT_TYPE,
                    schema_version=env.schema_version,
                    source=source[n],
                    aggregate_id=aggregate[n],
                    aggregate_version=env.aggregate_version,
                    occurred_at_ms=occurred_at_ms,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    payload_json=_dumps(payload),
                    ingested_at_ms=ingested_at_ms,
                ))
        return rows


@dataclass(frozen=True, slots=True)
class _EngagementPlan:
    """The classes an engagement row's parts take from the batch columns they come from."""

    event_id: DataClass
    consumer: DataClass
    source: DataClass
    personal: tuple[str, ...]
    dropped: tuple[str, ...]


@lru_cache(maxsize=1)
def _engagement_plan() -> _EngagementPlan:
    classes = {key: _engagement_class(column) for key, column in _ENGAGEMENT_KEYS.items()}
    return _EngagementPlan(
        event_id=_engagement_class("event_ids"),
        consumer=_engagement_class("consumer_id"),
        source=_envelope_class("source"),
        personal=tuple(k for k, cls in classes.items() if cls is PERSONAL),
        dropped=tuple(k for k, cls in classes.items() if cls in NEVER_STORED),
    )
