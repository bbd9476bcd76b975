"""Finding 2: no query ran with a limit; a huge numbers() scan outlived the gateway's 30 s,
blocked every other query and the sink's inserts behind one lock, and grew the process 3.5 GB.

Now every analyst query runs under time, memory, rows/bytes-read and result limits, the
caller's deadline lowers the time limit, and inserts run beside queries, not behind them.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.analytics.adapters.chdb_store import ChdbStore
from services.analytics.adapters.engine import Engine
from services.analytics.domain.store import (
    QueryFailedError,
    QueryLimitError,
    QueryLimits,
    RawEventRow,
)
from tests.security.analytics_store import module_store

store = module_store()

# A scan that would run for hours: only a limit ends it.
RUNAWAY = "SELECT count() FROM numbers(1000000000000) WHERE sipHash64(number) % 7 = 1"
# Generous: the engine checks its limits between blocks; this bounds "stopped", not speed.
BOUND_S = 20.0


def test_the_time_limit_stops_a_runaway_scan(store: ChdbStore) -> None:
    started = time.monotonic()
    with pytest.raises(QueryLimitError, match=r"(?i)timeout|time"):
        store.query(RUNAWAY, limits=QueryLimits(max_execution_time_s=1.0,
                                                max_rows_to_read=10**15))
    assert time.monotonic() - started < BOUND_S


def test_the_rows_read_limit_stops_a_scan(store: ChdbStore) -> None:
    with pytest.raises(QueryLimitError, match="max_rows_to_read"):
        store.query(RUNAWAY, limits=QueryLimits(max_rows_to_read=1_000_000))


def test_the_memory_limit_stops_a_query(store: ChdbStore) -> None:
    with pytest.raises(QueryLimitError, match=r"(?i)memory"):
        store.query("SELECT groupArray(number) FROM numbers(200000000)",
                    limits=QueryLimits(max_memory_bytes=64 * 1024**2))


def test_the_result_limit_throws_rather_than_cuts(store: ChdbStore) -> None:
    with pytest.raises(QueryLimitError, match=r"(?i)result"):
        store.query("SELECT number FROM numbers(100)", limits=QueryLimits(max_result_rows=10))


def test_limits_are_frozen_in_the_query_session(store: ChdbStore) -> None:
    # Defence in depth: the session is read-only after the service's limits are set, so a
    # statement the guard wrongly passed could neither lift a limit nor write.
    with store._reader(QueryLimits(max_execution_time_s=7)) as session:
        for statement in ("SET max_execution_time = 0", "SET readonly = 0",
                          "CREATE TABLE planet.x (a Int8) ENGINE = Memory",
                          "INSERT INTO planet.events_raw (event_id) VALUES ('x')"):
            with pytest.raises(RuntimeError, match=r"(?i)readonly"):
                session.query(statement)
        raw = session.query("SELECT getSetting('max_execution_time'),"
                            " getSetting('readonly'), getSetting('allow_introspection_functions')",
                            "JSONCompact").bytes()
    assert json.loads(raw)["data"] == [[7, 1, False]]


@pytest.fixture
async def engine(tmp_path: Path, store: ChdbStore) -> AsyncIterator[Engine]:
    # The module's store owns the process's engine; an Engine on the same directory shares it.
    running = Engine(lambda: ChdbStore(store.path), query_workers=2)
    await running.open()
    try:
        yield running
    finally:
        await running.close()


def _row(n: int) -> RawEventRow:
    return RawEventRow(
        event_id=f"limits-{n}", event_type="test.limits", schema_version=1, source="test",
        aggregate_id="a", aggregate_version=0, occurred_at_ms=n, topic="t", partition=0,
        offset=n, payload_json="{}", ingested_at_ms=n,
    )


async def test_the_callers_deadline_stops_the_query(engine: Engine) -> None:
    started = time.monotonic()
    with pytest.raises(QueryLimitError):
        await engine.query(RUNAWAY, limits=QueryLimits(max_execution_time_s=600,
                                                       max_rows_to_read=10**15),
                           deadline=time.monotonic() + 1.0)
    assert time.monotonic() - started < BOUND_S


async def test_a_passed_deadline_never_reaches_the_engine(engine: Engine) -> None:
    with pytest.raises(QueryLimitError, match="deadline passed"):
        await engine.query("SELECT 1", deadline=time.monotonic() - 1)


async def test_inserts_are_not_starved_by_a_running_query(engine: Engine) -> None:
    runaway = asyncio.create_task(engine.query(
        RUNAWAY, limits=QueryLimits(max_execution_time_s=BOUND_S, max_rows_to_read=10**15)))
    # Poll until the query is surely running on its worker, then insert beside it.
    deadline = time.monotonic() + BOUND_S
    await asyncio.sleep(0)
    await engine.insert([_row(n) for n in range(100)])
    count = await engine.query("SELECT count() FROM planet.events_raw"
                               " WHERE event_type = 'test.limits'")
    # The insert and a second query both finished while the runaway still runs.
    assert count.rows == [(100,)]
    assert not runaway.done() and time.monotonic() < deadline
    with pytest.raises(QueryFailedError):
        # The engine stops it at close's latest; here at its own limit.
        await asyncio.wait_for(runaway, timeout=BOUND_S * 3)
