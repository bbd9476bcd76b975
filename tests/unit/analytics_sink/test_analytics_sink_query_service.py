"""The Query RPC over a real embedded engine and a real gRPC server (no Kafka: the audit
log is kept in memory here; tests/security/test_analyst_query_audit.py writes it to Kafka)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from planet.analytics.v1 import analytics_service_pb2 as rpc
from planet.analytics.v1 import analytics_service_pb2_grpc as rpc_grpc
from services.analytics.adapters.chdb_store import ChdbStore
from services.analytics.adapters.engine import Engine
from services.analytics.adapters.grpc_server import AnalyticsServicer, make_server, new_health
from services.analytics.domain.store import RawEventRow
from tests.security.analytics_harness import BindCaller, RecordingAuditLog, as_user

NOW = 1_764_000_000_000


@dataclass
class Served:
    stub: rpc_grpc.AnalyticsServiceAsyncStub
    servicer: AnalyticsServicer
    engine: Engine
    audit: RecordingAuditLog


def _row(n: int, event_id: str | None = None) -> RawEventRow:
    return RawEventRow(
        event_id=event_id or f"e{n}", event_type="planet.exchange.v1.TradeFeeCharged",
        schema_version=1, source="exchange", aggregate_id="u1", aggregate_version=0,
        occurred_at_ms=NOW + n, topic="planet.exchange.trade-fees.v1", partition=0, offset=n,
        payload_json=json.dumps({"amount_minor": 2**62 + n}), ingested_at_ms=NOW + 1000 + n,
    )


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    engine = Engine(lambda: ChdbStore(str(tmp_path / "chdb")))
    await engine.open()
    audit = RecordingAuditLog()
    servicer = AnalyticsServicer(engine, audit=audit, max_query_bytes=200, max_rows=3,
                                 max_response_bytes=10_000)
    server = make_server(servicer, new_health(), 10_000, [BindCaller()])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    servicer.ready = True
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield Served(rpc_grpc.AnalyticsServiceStub(channel), servicer, engine, audit)
    finally:
        await server.stop(0)
        await engine.close()


ANALYST = as_user("ana", "analyst")


async def _query(
    served: Served, sql: str, metadata: tuple[tuple[str, str], ...] | None = ANALYST
) -> rpc.QueryResponse:
    return await served.stub.Query(rpc.QueryRequest(sql=sql), timeout=30, metadata=metadata)


async def _error(
    served: Served, sql: str, metadata: tuple[tuple[str, str], ...] | None = ANALYST
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _query(served, sql, metadata)
    return caught.value


async def test_rows_come_back_as_json_with_exact_integers_once_per_event(served: Served) -> None:
    # The same event twice (a redelivered fetch) is one row in the dedup view.
    await served.engine.insert([_row(1), _row(2), _row(1)])
    answer = await _query(served, "SELECT event_id, JSONExtractInt(payload_json, 'amount_minor') "
                                   "FROM planet.events_raw_dedup ORDER BY event_id")
    assert list(answer.columns) == ["event_id", "JSONExtractInt(payload_json, 'amount_minor')"]
    assert json.loads(answer.rows_json) == [["e1", 2**62 + 1], ["e2", 2**62 + 2]]
    assert (answer.row_count, answer.truncated) == (2, False)


async def test_writes_are_invalid_arguments_with_the_stores_message(served: Served) -> None:
    for sql in ("DROP TABLE planet.events_raw", "INSERT INTO planet.events_raw VALUES"):
        error = await _error(served, sql)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "only SELECT, WITH ... SELECT and DESCRIBE queries are allowed" in (
            error.details() or ""
        )


async def test_an_engine_error_is_an_invalid_argument_naming_the_problem(served: Served) -> None:
    error = await _error(served, "SELECT no_such_column FROM planet.events_raw")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "no_such_column" in (error.details() or "")


async def test_too_long_a_query_is_refused_before_the_engine(served: Served) -> None:
    error = await _error(served, "SELECT 1 -- " + "x" * 300)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "the limit is 200" in (error.details() or "")


async def test_big_results_are_cut_to_max_rows(served: Served) -> None:
    answer = await _query(served, "SELECT number FROM numbers(10)")
    assert json.loads(answer.rows_json) == [[0], [1], [2]]
    assert (answer.row_count, answer.truncated) == (3, True)


async def test_too_large_a_response_is_resource_exhausted(served: Served) -> None:
    error = await _error(served, "SELECT repeat('x', 5000) FROM numbers(3)")
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_queries_wait_for_readiness(served: Served) -> None:
    served.servicer.ready = False
    error = await _error(served, "SELECT 1")
    assert error.code() == grpc.StatusCode.UNAVAILABLE


async def test_every_accepted_query_is_audited_with_its_canonical_text(served: Served) -> None:
    await _query(served, "select   1 as one")
    caller, audience, canonical = served.audit.accepted_records[-1]
    assert (caller.user_id, caller.roles, caller.service) == ("ana", {"analyst"}, "gateway")
    assert (audience.value, canonical) == ("analyst", "SELECT 1 AS one")
    assert served.audit.finished_records[-1][1:] == (1, 1)  # SUCCEEDED, one row


async def test_a_refused_query_is_not_run_or_audited(served: Served) -> None:
    error = await _error(served, "SELECT hostName()")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert served.audit.accepted_records == []


async def test_no_verified_caller_is_unauthenticated(served: Served) -> None:
    error = await _error(served, "SELECT 1", metadata=None)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_user_without_a_query_role_is_denied(served: Served) -> None:
    error = await _error(served, "SELECT 1", metadata=as_user("bob", "creator"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_operators_read_the_operator_database_analysts_do_not(served: Served) -> None:
    sql = "SELECT count() FROM planet_ops.events_raw"
    error = await _error(served, sql)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "may read only the databases planet" in (error.details() or "")
    operator = as_user("olga", "operator")
    # The guard lets it through; the engine answers whether the table exists.
    try:
        await _query(served, sql, operator)
    except grpc.aio.AioRpcError as exc:
        assert "may read only" not in (exc.details() or "")


async def test_without_the_audit_log_no_query_runs(served: Served) -> None:
    served.audit.failing = True
    error = await _error(served, "SELECT 1")
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "audit" in (error.details() or "")
