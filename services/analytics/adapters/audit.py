"""The audit log of analytics queries, on Kafka (planet.audit.analytics-queries.v1).

Fail closed: ``accepted`` is written (acknowledged by every in-sync replica) before a query
runs, and a query whose record cannot be written does not run; ``finished`` is written before
the result is returned, and a result whose record cannot be written is withheld.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from planet.analytics.v1 import audit_pb2
from planetkit.envelope import wrap
from planetkit.kafka.producer import publish
from planetkit.service_auth import Caller
from planetkit.service_identities import ANALYTICS
from services.analytics.domain.sql_guard import Audience

SOURCE = ANALYTICS
_AUDIENCES = {
    Audience.ANALYST: audit_pb2.AUDIENCE_ANALYST,
    Audience.OPERATOR: audit_pb2.AUDIENCE_OPERATOR,
}


class AuditUnavailableError(RuntimeError):
    """The audit record could not be written; the query must not run (or return)."""


class AuditLog(Protocol):
    """Where the analytics service records who queried what."""

    async def accepted(
        self, caller: Caller, audience: Audience, canonical_sql: str, at_ms: int
    ) -> str:
        """Record an accepted query before it runs; its query id. AuditUnavailableError."""
        ...

    async def finished(
        self,
        caller: Caller,
        query_id: str,
        outcome: audit_pb2.Outcome.ValueType,
        row_count: int,
        error: str,
        at_ms: int,
        elapsed_ms: int,
    ) -> None:
        """Record how a query ended. AuditUnavailableError."""
        ...


class KafkaAuditLog:
    """Audit records on the audit topic, keyed by user id, each in the standard envelope."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, timeout_s: float) -> None:
        self._producer = producer
        self._topic = topic
        self._timeout_s = timeout_s

    async def _send(self, caller: Caller, event_id: str, payload: audit_pb2.QueryAccepted
                    | audit_pb2.QueryFinished, at_ms: int) -> None:
        # A service acting for itself has no user: its records are keyed by the service.
        key = caller.user_id or f"service:{caller.service}"
        envelope = wrap(payload, event_id=event_id, source=SOURCE, aggregate_id=key,
                        occurred_at_ms=at_ms)
        try:
            await asyncio.wait_for(publish(self._producer, self._topic, envelope),
                                   self._timeout_s)
        except (KafkaError, TimeoutError) as exc:
            raise AuditUnavailableError(f"the query audit log is unavailable: {exc!r}") from exc

    async def accepted(
        self, caller: Caller, audience: Audience, canonical_sql: str, at_ms: int
    ) -> str:
        """Record an accepted query before it runs; its query id."""
        query_id = uuid.uuid4().hex
        record = audit_pb2.QueryAccepted(
            query_id=query_id, user_id=caller.user_id, roles=sorted(caller.roles),
            service=caller.service, audience=_AUDIENCES[audience],
            canonical_sql=canonical_sql, accepted_at_ms=at_ms,
        )
        await self._send(caller, f"{query_id}-accepted", record, at_ms)
        return query_id

    async def finished(
        self,
        caller: Caller,
        query_id: str,
        outcome: audit_pb2.Outcome.ValueType,
        row_count: int,
        error: str,
        at_ms: int,
        elapsed_ms: int,
    ) -> None:
        """Record how a query ended."""
        record = audit_pb2.QueryFinished(
            query_id=query_id, user_id=caller.user_id, outcome=outcome, row_count=row_count,
            error=error, finished_at_ms=at_ms, elapsed_ms=elapsed_ms,
        )
        await self._send(caller, f"{query_id}-finished", record, at_ms)
