"""The analytics store contract: raw events in, read-only analyst queries out.

Two backends implement it with the same DDL and SQL: ``ChdbStore`` (the embedded ClickHouse
engine, the local default) and ``ServerStore`` (a real ClickHouse server over HTTP).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from services.analytics.domain.sql_guard import Audience

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# DateTime64's range; ClickHouse clamps values outside it silently, so rows outside it are
# refused (the flattener dead-letters such a record, the encoder refuses such a row).
MIN_TIMESTAMP_MS = int((datetime(1900, 1, 1, tzinfo=UTC) - _EPOCH).total_seconds()) * 1000
MAX_TIMESTAMP_MS = (
    int((datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC) - _EPOCH).total_seconds()) * 1000 + 999
)

# Both backends' limits unless told otherwise.
DEFAULT_MAX_RESULT_ROWS = 1_000_000
DEFAULT_MAX_INSERT_ROWS = 100_000


@dataclass(frozen=True, slots=True)
class RawEventRow:
    """One consumed Kafka record, flattened for analysts; event_id is the dedup key."""

    event_id: str
    event_type: str
    schema_version: int
    source: str
    aggregate_id: str
    aggregate_version: int
    occurred_at_ms: int
    topic: str
    partition: int
    offset: int
    payload_json: str
    ingested_at_ms: int


@dataclass(frozen=True, slots=True)
class QueryResult:
    """Column names and rows of plain Python values (int, str, datetime, Decimal, list...)."""

    columns: tuple[str, ...]
    rows: list[tuple[object, ...]]

    def as_dicts(self) -> list[dict[str, object]]:
        """The rows as dicts keyed by column name."""
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


class AnalyticsStoreError(RuntimeError):
    """Base class of the store's own failures."""


class QueryFailedError(AnalyticsStoreError):
    """The engine rejected or failed a statement; the message is the engine's."""


class QueryLimitError(QueryFailedError):
    """The engine stopped a query at one of its limits (time, memory, rows or bytes)."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """What one analyst query may spend; the engine stops it at the first limit it passes."""

    max_execution_time_s: float = 30.0
    max_memory_bytes: int = 1024**3
    max_rows_to_read: int = 1_000_000_000
    max_bytes_to_read: int = 100 * 1024**3
    max_result_rows: int = DEFAULT_MAX_RESULT_ROWS
    max_result_bytes: int = 256 * 1024**2

    def settings(self) -> dict[str, object]:
        """The engine settings that enforce these limits (throw, never truncate silently)."""
        return {
            # Milliseconds are enough; the engine takes fractional seconds.
            "max_execution_time": round(max(self.max_execution_time_s, 0.001), 3),
            "timeout_overflow_mode": "throw",
            "max_memory_usage": int(self.max_memory_bytes),
            "max_rows_to_read": int(self.max_rows_to_read),
            "max_bytes_to_read": int(self.max_bytes_to_read),
            "read_overflow_mode": "throw",
            "max_result_rows": int(self.max_result_rows),
            "max_result_bytes": int(self.max_result_bytes),
            "result_overflow_mode": "throw",
        }


class DataDirectoryLockedError(AnalyticsStoreError):
    """The embedded engine's data directory is owned by another process (or another path)."""


@runtime_checkable
class AnalyticsStore(Protocol):
    """Where raw events land for analysts; one implementation per ClickHouse flavour."""

    def migrate(self) -> None:
        """Create the database, table and views if missing; safe to run on every start."""
        ...

    def insert_events(self, rows: Sequence[RawEventRow], table: str = ...) -> None:
        """Insert rows into ``table`` (analysts' planet.events_raw unless told; one of
        ddl.EVENT_TABLES) in as few INSERTs as possible; re-inserting an event_id is harmless."""
        ...

    def check(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        audience: Audience = Audience.ANALYST,
    ) -> str:
        """The engine's canonical text of ``sql`` if the audience may run it; else ValueError.

        Nothing runs; ``query`` checks again whatever it is given, so passing it this
        canonical text runs exactly what was checked (and audited).
        """
        ...

    def query(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        audience: Audience = Audience.ANALYST,
        limits: QueryLimits | None = None,
    ) -> QueryResult:
        """Run one SELECT/DESCRIBE the audience may read, within ``limits``.

        ValueError for anything the guard (``sql_guard``) refuses, QueryLimitError when the
        engine stops it at a limit, QueryFailedError for any other engine error.
        """
        ...

    def close(self) -> None:
        """Release the engine or connection; idempotent."""
        ...
