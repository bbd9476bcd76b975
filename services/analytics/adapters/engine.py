"""The analytics store's blocking calls, run off the event loop on two separate executors.

Inserts (the sink) and the store's lifecycle run on one writer thread, one call at a time.
Analyst queries run on a pool of their own: each opens its own engine session (see
ChdbStore.query; chdb runs sessions of one engine concurrently, and a ClickHouse server runs
each HTTP query on its own), so a slow query never holds up an insert, and a query is bounded
by its limits, not by a lock.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

from services.analytics.adapters import ddl
from services.analytics.domain.sql_guard import Audience
from services.analytics.domain.store import (
    AnalyticsStore,
    QueryLimitError,
    QueryLimits,
    QueryResult,
    RawEventRow,
)

T = TypeVar("T")


# Analyst queries running at once; more wait for a worker (their deadline keeps counting).
DEFAULT_QUERY_WORKERS = 4


class Engine:
    """Writes one at a time on the writer thread; queries in parallel on the query pool."""

    def __init__(
        self, open_store: Callable[[], AnalyticsStore], query_workers: int = DEFAULT_QUERY_WORKERS
    ) -> None:
        # Which backend, on which directory or server, is bootstrap's decision; the store is
        # constructed (the embedded engine takes its directory lock) on the writer thread.
        self._open_store = open_store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics-engine")
        self._query_executor = ThreadPoolExecutor(
            max_workers=query_workers, thread_name_prefix="analytics-query"
        )
        # Held inside the worker thread, not by the awaiting coroutine: a caller cancelled
        # mid-call (an RPC deadline) cannot release it while the engine is still busy.
        self._lock = threading.Lock()
        self._store: AnalyticsStore | None = None

    async def _run(self, call: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return call()

        return await asyncio.get_running_loop().run_in_executor(self._executor, locked)

    @property
    def is_open(self) -> bool:
        """True once the store is open and migrated, until close()."""
        return self._store is not None

    def _require(self) -> AnalyticsStore:
        if self._store is None:
            raise RuntimeError("the analytics store is not open")
        return self._store

    async def open(self) -> None:
        """Open the store (the embedded engine takes its directory lock here) and migrate."""

        def open_and_migrate() -> AnalyticsStore:
            store = self._open_store()
            try:
                store.migrate()
            except BaseException:
                store.close()
                raise
            return store

        self._store = await self._run(open_and_migrate)

    async def insert(self, rows: Sequence[RawEventRow], table: str = ddl.EVENTS_RAW) -> None:
        """Insert rows into one of ddl.EVENT_TABLES (idempotent by event_id)."""
        store = self._require()
        await self._run(lambda: store.insert_events(rows, table))

    async def check(self, sql: str, *, audience: Audience = Audience.ANALYST) -> str:
        """The engine's canonical text of ``sql`` if the audience may run it; else ValueError."""
        store = self._require()
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._query_executor, lambda: store.check(sql, audience=audience)
        )

    async def query(
        self,
        sql: str,
        *,
        audience: Audience = Audience.ANALYST,
        limits: QueryLimits | None = None,
        deadline: float | None = None,
    ) -> QueryResult:
        """Run one analyst statement on the query pool.

        ``deadline`` (time.monotonic()) caps the query's max_execution_time when a worker
        picks it up, so time spent waiting for a worker counts against the caller's deadline.
        """
        store = self._require()

        def bounded() -> QueryResult:
            chosen = limits or QueryLimits()
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueryLimitError("the caller's deadline passed before the query ran")
                chosen = replace(
                    chosen, max_execution_time_s=min(chosen.max_execution_time_s, remaining)
                )
            return store.query(sql, audience=audience, limits=chosen)

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._query_executor, bounded)

    async def close(self) -> None:
        """Close the store after any call in flight, then the engine thread."""
        store, self._store = self._store, None
        # Queries in flight end at their own limits; then the store may close under them.
        await asyncio.to_thread(self._query_executor.shutdown, True)
        if store is not None:
            await self._run(store.close)
        self._executor.shutdown(wait=True)
