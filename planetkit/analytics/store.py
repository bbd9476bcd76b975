"""The analytics store contract: raw events in, read-only analyst queries out.

Two backends implement it with the same DDL and SQL: ``ChdbStore`` (the embedded ClickHouse
engine, the local default) and ``ServerStore`` (a real ClickHouse server over HTTP).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

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

    def query(self, sql: str, params: Mapping[str, object] | None = None) -> QueryResult:
        """Run one read-only statement; ValueError for anything but SELECT/WITH/SHOW/DESCRIBE."""
        ...

    def close(self) -> None:
        """Release the engine or connection; idempotent."""
        ...


class ClosableStore:
    """What both backends share: close once, refuse calls after that, and ``with`` support."""

    _closed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise AnalyticsStoreError("the store is closed")

    def close(self) -> None:
        """Release the engine or connection; idempotent."""
        if self._closed:
            return
        self._closed = True
        self._release()

    def _release(self) -> None:
        raise NotImplementedError
