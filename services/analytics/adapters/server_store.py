"""AnalyticsStore over clickhouse-connect, for a real ClickHouse server (``CLICKHOUSE_URL``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from services.analytics.adapters import ddl
from services.analytics.adapters.encoding import chunked, encode_rows, normalize_param
from services.analytics.adapters.store_base import ClosableStore
from services.analytics.domain.sql_guard import CURRENT_DATABASE, Audience, guard
from services.analytics.domain.store import (
    DEFAULT_MAX_INSERT_ROWS,
    DEFAULT_MAX_RESULT_ROWS,
    QueryFailedError,
    QueryLimitError,
    QueryLimits,
    QueryResult,
    RawEventRow,
)


def _without_database(url: str) -> str:
    # Every statement names planet.* itself, and clickhouse-connect refuses a DSN whose
    # database does not exist yet, which it would not before the first migrate().
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return url
    return urlunsplit(parts._replace(path=""))


# See chdb_store.LIMIT_ERROR_CODES.
_LIMIT_ERROR_CODES = ("Code: 158.", "Code: 159.", "Code: 160.", "Code: 241.", "Code: 307.",
                      "Code: 396.")


def _is_limit(exc: DatabaseError) -> bool:
    text = str(exc)
    return any(code in text for code in _LIMIT_ERROR_CODES)


class _ClientParser:
    """sql_guard's engine-side parse through the server (nothing is executed)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def canonical(self, sql: str) -> str:
        try:
            # No readonly setting here: the chdb interface restores per-call settings with SET,
            # which a read-only handle refuses. formatQuerySingleLine executes nothing.
            result = self._client.query(
                "SELECT formatQuerySingleLine({q:String})", parameters={"q": sql}
            )
        except DatabaseError as exc:
            raise ValueError(f"the query does not parse: {exc}") from exc
        value = result.result_rows[0][0]
        if not isinstance(value, str):
            raise ValueError("the query does not parse")
        return value

    def ast_dump(self, canonical: str, params: Mapping[str, object]) -> str:
        try:
            # fmt=None: the client must not append a FORMAT clause, which would become part
            # of the statement being explained. The server's default output is TabSeparated,
            # one dump line per row (a name's control characters arrive escaped, and such a
            # name is refused as unreadable).
            raw = self._client.raw_query("EXPLAIN AST " + canonical, parameters=dict(params),
                                         fmt=None)
        except DatabaseError as exc:
            raise ValueError(f"the query does not parse: {exc}") from exc
        return raw.decode("utf-8", errors="replace")


class ServerStore(ClosableStore):
    """The ClickHouse-server store; it owns the clickhouse-connect client it is given."""

    def __init__(
        self,
        client: Client,
        *,
        max_result_rows: int = DEFAULT_MAX_RESULT_ROWS,
        max_insert_rows: int = DEFAULT_MAX_INSERT_ROWS,
    ) -> None:
        self._client = client
        self._max_insert_rows = max_insert_rows
        self.default_limits = QueryLimits(max_result_rows=max_result_rows)

    @classmethod
    def from_url(cls, url: str, **kwargs: int) -> ServerStore:
        """Connect to ``http(s)://user:password@host:port[/ignored-database]``."""
        # tz_mode="aware" returns DateTime64('UTC') values as aware datetimes, like ChdbStore.
        if urlsplit(url).scheme in ("http", "https"):
            # No server session: the sink inserts while analysts query on other threads, and
            # ClickHouse refuses concurrent queries in one session. Nothing here needs one.
            client = clickhouse_connect.get_client(
                dsn=_without_database(url), tz_mode="aware", autogenerate_session_id=False
            )
        else:
            client = clickhouse_connect.get_client(dsn=url, tz_mode="aware")
        return cls(client, **kwargs)

    def migrate(self) -> None:
        """Create the database, table and views if missing; safe to run on every start."""
        self._check_open()
        for statement in ddl.MIGRATIONS:
            try:
                self._client.command(statement)
            except OperationalError:
                raise
            except DatabaseError as exc:
                raise QueryFailedError(f"migration failed: {exc}") from exc

    def insert_events(self, rows: Sequence[RawEventRow], table: str = ddl.EVENTS_RAW) -> None:
        """Insert rows into ``table`` (one of ddl.EVENT_TABLES), one INSERT per
        ``max_insert_rows``; duplicates are harmless."""
        # As in ChdbStore: a bad row raises ValueError before its chunk is sent.
        self._check_open()
        ddl.insert_events(table)  # refuses a table that is not an events table
        for chunk in chunked(rows, self._max_insert_rows):
            try:
                self._client.raw_insert(
                    table,
                    ddl.INSERT_COLUMNS,
                    insert_block=encode_rows(chunk),
                    fmt=ddl.INSERT_FORMAT,
                )
            except OperationalError:
                # Connection trouble is not a statement failure; callers may retry it.
                raise
            except DatabaseError as exc:
                raise QueryFailedError(f"insert into {table} failed: {exc}") from exc

    def _use_current_database(self) -> None:
        # The guard reads an unqualified table name as one in CURRENT_DATABASE, so the server
        # must resolve it there too (not in the connection's default database). Set here, not
        # at connect time: the database exists only once migrate() has run.
        if self._client.database != CURRENT_DATABASE:
            self._client.database = CURRENT_DATABASE

    def check(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        audience: Audience = Audience.ANALYST,
    ) -> str:
        """The engine's canonical text of ``sql`` if the audience may run it; else ValueError."""
        self._check_open()
        self._use_current_database()
        parameters = {name: normalize_param(value) for name, value in (params or {}).items()}
        return guard(sql, audience, _ClientParser(self._client), parameters)

    def query(
        self,
        sql: str,
        params: Mapping[str, object] | None = None,
        *,
        audience: Audience = Audience.ANALYST,
        limits: QueryLimits | None = None,
    ) -> QueryResult:
        """Run one SELECT/DESCRIBE the audience may read (see sql_guard), within ``limits``."""
        self._check_open()
        self._use_current_database()
        parameters = {name: normalize_param(value) for name, value in (params or {}).items()}
        statement = guard(sql, audience, _ClientParser(self._client), parameters)
        # readonly goes last: a server applying these in order must not freeze the others.
        # Each HTTP request is its own query (no server session), so nothing of another
        # query's output can reach this one.
        settings = {**(limits or self.default_limits).settings(), "readonly": 1}
        try:
            result = self._client.query(statement, parameters=parameters, settings=settings)
        except OperationalError:
            raise
        except DatabaseError as exc:
            if _is_limit(exc):
                raise QueryLimitError(f"the query was stopped at a limit: {exc}") from exc
            raise QueryFailedError(str(exc)) from exc
        return QueryResult(
            columns=tuple(result.column_names),
            rows=[tuple(row) for row in result.result_rows],
        )

    def _release(self) -> None:
        self._client.close()
