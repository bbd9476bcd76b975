"""The event envelope: how every domain event is wrapped, named and versioned.

Event identity is the protobuf full name of the payload (``planet.content.v1.PostPublished``)
and the schema version is the number of its proto package, never a Python class path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

from google.protobuf.message import DecodeError, Message

from planet.events.v1.envelope_pb2 import Envelope
from planetkit.service_identities import WRITERS

M = TypeVar("M", bound=Message)
_VERSION = re.compile(r"\.v(\d+)\.[A-Za-z0-9_]+$")


class UndecodableEvent(ValueError):
    """A record that is not a valid envelope of a known payload type; carries the reason."""


def schema_version_of(message_type: type[Message]) -> int:
    """The schema version of a payload type: the N of its ``...vN`` proto package."""
    full_name = message_type.DESCRIPTOR.full_name
    m = _VERSION.search(full_name)
    if not m:
        raise ValueError(f"payload type {full_name} is not in a versioned package (…vN)")
    return int(m.group(1))


@dataclass(frozen=True)
class DomainEvent(Generic[M]):
    """A decoded envelope with its typed payload."""

    envelope: Envelope
    payload: M

    @property
    def event_id(self) -> str:
        """The event id, also its idempotency key."""
        return self.envelope.event_id


def wrap(
    payload: Message,
    *,
    event_id: str,
    source: str,
    aggregate_id: str,
    occurred_at_ms: int,
    aggregate_version: int = 0,
) -> Envelope:
    """Put a payload in an envelope.

    ``source`` is the writing service's identity (a constant of planetkit.service_identities,
    the one its producer is bound to), never a free-form string.
    """
    if source not in WRITERS:
        raise ValueError(
            f"source {source!r} is not a service identity (planetkit.service_identities: "
            f"{', '.join(WRITERS)})"
        )
    if not event_id:
        raise ValueError("event_id is required: it is the idempotency key")
    if not aggregate_id:
        raise ValueError("aggregate_id is required: it is the Kafka key")
    return Envelope(
        event_id=event_id,
        type=payload.DESCRIPTOR.full_name,
        schema_version=schema_version_of(type(payload)),
        occurred_at_ms=occurred_at_ms,
        source=source,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
        payload=payload.SerializeToString(),
    )


def encode(envelope: Envelope) -> bytes:
    """Serialize an envelope for Kafka."""
    return envelope.SerializeToString()


def decode_envelope(raw: bytes | None) -> Envelope:
    """Parse an envelope; UndecodableEvent with the reason when it is not one."""
    if raw is None:
        raise UndecodableEvent("record has no value (tombstone) where an envelope was expected")
    env = Envelope()
    try:
        env.ParseFromString(raw)
    except DecodeError as exc:
        raise UndecodableEvent(f"not a protobuf Envelope: {exc}") from None
    if not env.event_id or not env.type:
        raise UndecodableEvent("envelope lacks event_id or type")
    return env


def decode(raw: bytes | None, *expected: type[M]) -> DomainEvent[M]:
    """Parse an envelope whose payload is one of ``expected``; UndecodableEvent otherwise."""
    env = decode_envelope(raw)
    for cls in expected:
        if env.type == cls.DESCRIPTOR.full_name:
            payload = cls()
            try:
                payload.ParseFromString(env.payload)
            except DecodeError as exc:
                raise UndecodableEvent(f"payload is not a valid {env.type}: {exc}") from None
            return DomainEvent(env, payload)
    names = ", ".join(c.DESCRIPTOR.full_name for c in expected)
    raise UndecodableEvent(f"unexpected event type {env.type!r} (expected {names})")
