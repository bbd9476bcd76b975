"""One behavioural suite for every AnalyticsStore backend, plus each backend's own rules.

Backends: ChdbStore on a real embedded engine (a fresh directory per test); ServerStore on
clickhouse-connect's in-process chdb interface (so its code runs for real without a server);
ServerStore on the server at PLANET_TEST_CLICKHOUSE_URL, skipped unless that is set. Every test
tags its rows with a unique event_type, so the server run can share the ``planet`` database;
it still writes rows, so point PLANET_TEST_CLICKHOUSE_URL at a disposable server (a dedicated
variable, so a shell that points CLICKHOUSE_URL at a real server never gets test rows).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from services.analytics.adapters.chdb_store import ChdbStore
from services.analytics.adapters.server_store import ServerStore
from services.analytics.adapters.store_factory import open_store
from services.analytics.domain.store import (
    AnalyticsStore,
    DataDirectoryLockedError,
    QueryFailedError,
    RawEventRow,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
CLICKHOUSE_URL = os.environ.get("PLANET_TEST_CLICKHOUSE_URL", "")


def make_row(tag: str, n: int, **overrides: object) -> RawEventRow:
    """A plausible row whose event_type is the test's tag."""
    fields: dict[str, object] = {
        "event_id": f"{tag}-{n:06d}",
        "event_type": tag,
        "schema_version": 1,
        "source": "content",
        "aggregate_id": f"post-{n % 7}",
        "aggregate_version": n,
        "occurred_at_ms": 1_732_540_000_123 + n,
        "topic": "planet.content.events.v1",
        "partition": n % 4,
        "offset": 1_000 + n,
        "payload_json": f'{{"post_id":"post-{n % 7}","n":{n}}}',
        "ingested_at_ms": 1_732_540_005_000 + n,
    }
    fields.update(overrides)
    return RawEventRow(**fields)  # type: ignore[arg-type]


def utc_ms(ms: int) -> datetime:
    """The aware UTC datetime both backends return for a DateTime64(3, 'UTC') value."""
    return datetime.fromtimestamp(ms // 1000, tz=UTC).replace(microsecond=ms % 1000 * 1000)


def run_python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``script`` in another interpreter process, importing this repo; its output captured."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


StoreFactory = Callable[..., AnalyticsStore]


def tables_exist(store: AnalyticsStore, *names: str) -> bool:
    """True when DESCRIBE finds every planet.<name> (it fails on a missing table)."""
    return all(store.query(f"DESCRIBE TABLE planet.{name}").rows for name in names)


class AnalyticsStoreContract:
    """What every backend must do; subclasses provide ``store_factory``."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Iterator[StoreFactory]:
        """Opens stores on one backend (taking its constructor options) and closes them after."""
        raise NotImplementedError

    @pytest.fixture
    def store(self, store_factory: StoreFactory) -> AnalyticsStore:
        store = store_factory()
        store.migrate()
        return store

    @pytest.fixture
    def tag(self) -> str:
        return f"test.{uuid.uuid4().hex}"

    def count(self, store: AnalyticsStore, source: str, tag: str) -> int:
        result = store.query(
            f"SELECT count() FROM {source} WHERE event_type = {{t:String}}", {"t": tag}
        )
        value = result.rows[0][0]
        assert isinstance(value, int)
        return value

    def test_migrate_is_idempotent(self, store: AnalyticsStore) -> None:
        store.migrate()
        store.migrate()
        assert tables_exist(store, "events_raw", "events_raw_dedup")
        described = store.query("DESCRIBE TABLE planet.events_raw").as_dicts()
        types = {d["name"]: d["type"] for d in described}
        assert types["occurred_at"] == "DateTime64(3, 'UTC')"
        assert types["kafka_offset"] == "UInt64"

    def test_inserted_rows_come_back_exactly(self, store: AnalyticsStore, tag: str) -> None:
        awkward = '{"text":"quote \' dq \\" backslash \\\\ newline \\n tab \\t","emoji":"🚀 é"}'
        rows = [
            make_row(tag, 1),
            make_row(
                tag,
                2,
                aggregate_id="créateur-'\"\\\n",
                aggregate_version=2**63 + 5,
                occurred_at_ms=-1,  # one millisecond before the epoch
                partition=2**32 - 1,
                offset=2**64 - 1,
                payload_json=awkward,
                schema_version=3,
            ),
        ]
        store.insert_events(rows)
        result = store.query(
            "SELECT event_id, event_type, schema_version, source, aggregate_id,"
            " aggregate_version, occurred_at, kafka_topic, kafka_partition, kafka_offset,"
            " payload_json, ingested_at, toUnixTimestamp64Milli(occurred_at) AS occurred_ms"
            " FROM planet.events_raw_dedup WHERE event_type = {t:String} ORDER BY event_id",
            {"t": tag},
        )
        assert result.columns[0] == "event_id"
        assert result.columns[-1] == "occurred_ms"
        expected = [
            (
                r.event_id,
                r.event_type,
                r.schema_version,
                r.source,
                r.aggregate_id,
                r.aggregate_version,
                utc_ms(r.occurred_at_ms),
                r.topic,
                r.partition,
                r.offset,
                r.payload_json,
                utc_ms(r.ingested_at_ms),
                r.occurred_at_ms,
            )
            for r in rows
        ]
        assert result.rows == expected
        for value, want in zip(result.rows[1], expected[1], strict=True):
            assert type(value) is type(want)  # ints stay ints: no floats for 64-bit values
        occurred_at = result.rows[0][6]
        assert isinstance(occurred_at, datetime) and occurred_at.utcoffset() is not None

    def test_duplicate_event_id_counts_once(self, store: AnalyticsStore, tag: str) -> None:
        batch = [make_row(tag, n) for n in range(50)]
        store.insert_events(batch)
        # A crash before the Kafka commit redelivers the batch, with new ingestion times.
        store.insert_events(
            [make_row(tag, n, ingested_at_ms=1_732_540_009_000 + n) for n in range(50)]
        )
        store.insert_events(batch[:1])
        assert self.count(store, "planet.events_raw_dedup", tag) == 50
        assert self.count(store, "planet.events_raw FINAL", tag) == 50
        # ingested_at is the ReplacingMergeTree version: the newest copy is the one kept.
        kept = store.query(
            "SELECT ingested_at FROM planet.events_raw_dedup WHERE event_id = {id:String}",
            {"id": f"{tag}-000007"},
        )
        assert kept.rows == [(utc_ms(1_732_540_009_007),)]

    def test_empty_insert_is_a_no_op(self, store: AnalyticsStore, tag: str) -> None:
        store.insert_events([])
        assert self.count(store, "planet.events_raw", tag) == 0

    @pytest.mark.parametrize(
        "sql",
        [
            "INSERT INTO planet.events_raw (event_id) VALUES ('x')",
            "DROP TABLE planet.events_raw",
            "TRUNCATE TABLE planet.events_raw",
            "ALTER TABLE planet.events_raw DELETE WHERE 1",
            "CREATE TABLE planet.t (a Int8) ENGINE = Memory",
            "OPTIMIZE TABLE planet.events_raw FINAL",
            "SYSTEM STOP MERGES",
            "SET readonly = 0",
            "KILL QUERY WHERE 1",
            "SELECT 1; DROP TABLE planet.events_raw",
            "/* SELECT */ DELETE FROM planet.events_raw WHERE 1",
            "SELECT 1 INTO OUTFILE '/tmp/planet-analytics-outfile.csv'",
            "",
        ],
    )
    def test_non_read_statements_are_rejected(self, store: AnalyticsStore, sql: str) -> None:
        with pytest.raises(ValueError):
            store.query(sql)
        assert tables_exist(store, "events_raw", "events_raw_dedup")

    def test_settings_are_not_the_analysts_to_read(self, store: AnalyticsStore) -> None:
        # The engine-side read-only session is proven in tests/security (the guard refuses
        # every statement that could show it from here).
        with pytest.raises(ValueError, match="getSetting"):
            store.query("SELECT getSetting('readonly') AS readonly")

    def test_engine_errors_are_query_failed(self, store: AnalyticsStore) -> None:
        with pytest.raises(QueryFailedError, match="no_such_column"):
            store.query("SELECT no_such_column FROM planet.events_raw")

    def test_query_with_params(self, store: AnalyticsStore, tag: str) -> None:
        store.insert_events([make_row(tag, n) for n in range(10)])
        result = store.query(
            "SELECT event_id FROM planet.events_raw_dedup"
            " WHERE event_type = {t:String}"
            " AND occurred_at >= {since:DateTime64(3, 'UTC')}"
            " AND kafka_partition IN {partitions:Array(UInt32)}"
            " ORDER BY event_id LIMIT {limit:UInt32}",
            {"t": tag, "since": utc_ms(1_732_540_000_125), "partitions": [0, 3], "limit": 2},
        )
        assert result.rows == [(f"{tag}-000003",), (f"{tag}-000004",)]

    def test_params_are_bound_as_values_not_sql(self, store: AnalyticsStore) -> None:
        nasty = 'it\'s \\ a "line"\nand\ttab; DROP TABLE planet.events_raw'
        result = store.query(
            "SELECT {s:String} AS s, {n:Nullable(Int64)} AS n, {a:Array(String)} AS a,"
            " {d:Date} AS d, {x:Decimal(18, 4)} AS x",
            {
                "s": nasty,
                "n": None,
                "a": [nasty, "b"],
                "d": date(2024, 2, 29),
                "x": Decimal("-1.5"),
            },
        )
        assert result.rows == [(nasty, None, [nasty, "b"], date(2024, 2, 29), Decimal("-1.5"))]

    def test_values_come_back_as_plain_python_types(self, store: AnalyticsStore) -> None:
        result = store.query(
            "SELECT toUInt64(18446744073709551615) AS u64, toInt64(-9223372036854775808) AS i64,"
            " toDecimal64('12.34', 2) AS dec, 1.5 AS f, 'héllo' AS s, true AS b,"
            " toDate('2024-02-29') AS d,"
            " toDateTime('2024-01-02 03:04:05', 'UTC') AS dt,"
            " toDateTime64('2024-01-02 03:04:05.678', 3, 'UTC') AS dt64,"
            " [1, 2, 3] AS arr, map('k', 1) AS m, (1, 'x') AS tup,"
            " CAST(NULL AS Nullable(String)) AS n,"
            " toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') AS id"
        )
        assert result.as_dicts() == [
            {
                "u64": 2**64 - 1,
                "i64": -(2**63),
                "dec": Decimal("12.34"),
                "f": 1.5,
                "s": "héllo",
                "b": True,
                "d": date(2024, 2, 29),
                "dt": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
                "dt64": datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC),
                "arr": [1, 2, 3],
                "m": {"k": 1},
                "tup": (1, "x"),
                "n": None,
                "id": uuid.UUID("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
            }
        ]
        row = result.rows[0]
        assert [type(v) for v in row[:4]] == [int, int, Decimal, float]

    def test_results_are_capped_at_max_result_rows(
        self, store: AnalyticsStore, store_factory: StoreFactory
    ) -> None:
        # One process serves every analyst; an unbounded SELECT * must not exhaust it.
        capped = store_factory(max_result_rows=5)
        assert len(capped.query("SELECT number FROM numbers(5)").rows) == 5
        with pytest.raises(QueryFailedError, match=r"(?i)limit"):
            capped.query("SELECT number FROM numbers(100)")

    def test_with_and_describe_are_allowed(self, store: AnalyticsStore, tag: str) -> None:
        store.insert_events([make_row(tag, n) for n in range(3)])
        result = store.query(
            "WITH {t:String} AS wanted SELECT uniqExact(aggregate_id) AS posts"
            " FROM planet.events_raw_dedup WHERE event_type = wanted;",
            {"t": tag},
        )
        assert result.rows == [(3,)]
        assert store.query("DESC planet.events_raw_dedup").rows
        # SHOW reads the system database, which analysts do not see.
        with pytest.raises(ValueError, match="only SELECT"):
            store.query("SHOW DATABASES")


class TestChdbStore(AnalyticsStoreContract):
    """The embedded engine, for real, in a fresh directory per test."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Iterator[StoreFactory]:
        opened: list[ChdbStore] = []

        def open_chdb(**options: int) -> ChdbStore:
            opened.append(ChdbStore(str(tmp_path / "chdb"), **options))
            return opened[-1]

        yield open_chdb
        for store in opened:
            store.close()

    def test_inserting_before_migrate_fails_clearly(
        self, store: ChdbStore, tmp_path: Path, tag: str
    ) -> None:
        store.close()
        with (
            ChdbStore(str(tmp_path / "fresh")) as fresh,
            pytest.raises(QueryFailedError, match="events_raw"),
        ):
            fresh.insert_events([make_row(tag, 1)])

    def test_table_functions_that_reach_the_host_are_refused(self, store: AnalyticsStore) -> None:
        with pytest.raises(ValueError, match="table function file is not allowed"):
            store.query("SELECT * FROM file('/etc/hostname', 'LineAsString')")

    def test_ten_thousand_rows_insert_and_query_back_quickly(
        self, store: AnalyticsStore, tag: str
    ) -> None:
        rows = [make_row(tag, n) for n in range(10_000)]
        started = time.perf_counter()
        store.insert_events(rows)
        inserted = time.perf_counter()
        result = store.query(
            "SELECT * FROM planet.events_raw_dedup WHERE event_type = {t:String}", {"t": tag}
        )
        queried = time.perf_counter()
        assert len(result.rows) == 10_000
        print(f"insert 10k: {inserted - started:.3f}s, query 10k: {queried - inserted:.3f}s")
        assert inserted - started < 1.0
        assert queried - inserted < 1.0

    def test_a_second_store_in_the_same_process_shares_the_engine(
        self, store: ChdbStore, tag: str
    ) -> None:
        store.insert_events([make_row(tag, 1)])
        with ChdbStore(store.path) as second:
            assert self.count(second, "planet.events_raw_dedup", tag) == 1
        # Closing the second store leaves the first one working.
        assert self.count(store, "planet.events_raw_dedup", tag) == 1

    def test_another_directory_in_the_same_process_fails_clearly(
        self, store: ChdbStore, tmp_path: Path
    ) -> None:
        with pytest.raises(DataDirectoryLockedError, match="one per process"):
            ChdbStore(str(tmp_path / "other"))

    def test_another_process_cannot_open_an_owned_directory(self, store: ChdbStore) -> None:
        script = textwrap.dedent(
            """
            import sys
            from services.analytics.domain.store import DataDirectoryLockedError
            from services.analytics.adapters.chdb_store import ChdbStore
            try:
                ChdbStore(sys.argv[1]).close()
            except DataDirectoryLockedError as exc:
                print(exc)
                sys.exit(3)
            """
        )
        other = run_python(script, store.path)
        assert other.returncode == 3, other.stderr
        assert "locked by another process" in other.stdout
        assert f"PID: {os.getpid()}" in other.stdout

    def test_the_directory_is_free_again_once_the_owner_closes(self, store: ChdbStore) -> None:
        store.close()
        opened = run_python(
            "import sys; from services.analytics.adapters.chdb_store import ChdbStore;"
            " s = ChdbStore(sys.argv[1]); s.migrate(); s.close()",
            store.path,
        )
        assert opened.returncode == 0, opened.stderr

    def test_data_survives_reopening(self, store: ChdbStore, tag: str) -> None:
        store.insert_events([make_row(tag, n) for n in range(5)])
        store.close()
        with ChdbStore(store.path) as reopened:
            assert self.count(reopened, "planet.events_raw_dedup", tag) == 5


class TestServerStoreOnEmbeddedEngine(AnalyticsStoreContract):
    """ServerStore's code for real, through clickhouse-connect's in-process chdb interface."""

    @pytest.fixture
    def store_factory(self, tmp_path: Path) -> Iterator[StoreFactory]:
        opened: list[ServerStore] = []

        def open_server(**options: int) -> ServerStore:
            opened.append(ServerStore.from_url(f"chdb://{tmp_path / 'chdb'}", **options))
            return opened[-1]

        yield open_server
        for store in opened:
            store.close()


@pytest.mark.skipif(
    not CLICKHOUSE_URL,
    reason="set PLANET_TEST_CLICKHOUSE_URL=http://user:pass@host:8123 (a disposable server) to run",
)
class TestServerStoreOnClickHouseServer(AnalyticsStoreContract):
    """ServerStore against the real server at CLICKHOUSE_URL."""

    @pytest.fixture
    def store_factory(self) -> Iterator[StoreFactory]:
        opened: list[ServerStore] = []

        def open_server(**options: int) -> ServerStore:
            opened.append(ServerStore.from_url(CLICKHOUSE_URL, **options))
            return opened[-1]

        yield open_server
        for store in opened:
            store.close()


def test_factory_picks_the_embedded_engine_without_a_url(tmp_path: Path) -> None:
    for url in (None, ""):
        store = open_store(url, str(tmp_path / "chdb"))
        try:
            assert isinstance(store, ChdbStore)
        finally:
            store.close()


def test_factory_picks_clickhouse_connect_with_a_url(tmp_path: Path) -> None:
    store = open_store(f"chdb://{tmp_path / 'via-url'}", str(tmp_path / "unused"))
    try:
        assert isinstance(store, ServerStore)
        assert isinstance(store, AnalyticsStore)
    finally:
        store.close()


def test_an_unreachable_server_fails_at_open() -> None:
    from clickhouse_connect.driver.exceptions import OperationalError

    with pytest.raises(OperationalError):
        open_store("http://planet:secret@127.0.0.1:1/planet", "/nonexistent")
