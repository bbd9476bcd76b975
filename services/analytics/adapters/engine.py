"""The analytics store behind one lock, its blocking calls run off the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from planetkit.analytics import AnalyticsStore, QueryResult, RawEventRow, ddl, open_store

T = TypeVar("T")


class Engine:
    """Every store call runs on one engine thread under one lock: never two at once."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics-engine")
        # Held inside the worker thread, not by the awaiting coroutine: a caller cancelled
        # mid-call (an RPC deadline) cannot release it while the engine is still busy.
        self._lock = threading.Lock()
        self._store: AnalyticsStore | None = None

    async def _run(self, call: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return call()

        return await asyncio.get_running_loop().run_in_executor(self._executor, locked)

    def _require(self) -> AnalyticsStore:
        if self._store is None:
            raise RuntimeError("the analytics store is not open")
        return self._store

    async def open(self, clickhouse_url: str | None, chdb_path: str) -> None:
        """Open the store (the embedded engine takes its directory lock here) and migrate."""

        def open_and_migrate() -> AnalyticsStore:
            store = open_store(clickhouse_url, chdb_path)
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

    async def query(self, sql: str) -> QueryResult:
        """Run one read-only statement."""
        store = self._require()
        return await self._run(lambda: store.query(sql))

    async def close(self) -> None:
        """Close the store after any call in flight, then the engine thread."""
        store, self._store = self._store, None
        if store is not None:
            await self._run(store.close)
        self._executor.shutdown(wait=True)
