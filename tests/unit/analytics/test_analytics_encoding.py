"""Insert encoding, parameter binding text and JSONCompact decoding (pure: no engine)."""

from __future__ import annotations

import ipaddress
import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from services.analytics.adapters import ddl
from services.analytics.adapters.encoding import (
    MAX_TIMESTAMP_MS,
    MIN_TIMESTAMP_MS,
    chunked,
    encode_rows,
    ms_to_datetime_text,
    normalize_param,
    param_text,
)
from services.analytics.adapters.jsoncompact import converter_for, decode, split_type
from services.analytics.adapters.server_store import _without_database
from services.analytics.domain.store import QueryResult, RawEventRow

ROW = RawEventRow(
    event_id="e-1",
    event_type="planet.content.v1.PostPublished",
    schema_version=1,
    source="content",
    aggregate_id='post "1"',
    aggregate_version=2**64 - 1,
    occurred_at_ms=1_732_540_000_123,
    topic="planet.content.events.v1",
    partition=3,
    offset=42,
    payload_json='{"title":"naïve \\n 🚀"}',
    ingested_at_ms=0,
)


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "1970-01-01 00:00:00.000"),
        (1, "1970-01-01 00:00:00.001"),
        (-1, "1969-12-31 23:59:59.999"),
        (1_732_540_000_123, "2024-11-25 13:06:40.123"),
        (MIN_TIMESTAMP_MS, "1900-01-01 00:00:00.000"),
        (MAX_TIMESTAMP_MS, "2299-12-31 23:59:59.999"),
    ],
)
def test_timestamps_are_exact_utc_text(ms: int, text: str) -> None:
    assert ms_to_datetime_text(ms) == text


@pytest.mark.parametrize("ms", [MIN_TIMESTAMP_MS - 1, MAX_TIMESTAMP_MS + 1])
def test_timestamps_outside_datetime64_are_refused(ms: int) -> None:
    with pytest.raises(ValueError, match="range"):
        ms_to_datetime_text(ms)


def test_rows_encode_as_json_compact_lines_in_column_order() -> None:
    body = encode_rows([ROW, ROW])
    lines = body.decode("ascii").splitlines()
    assert len(lines) == 2 and body.endswith(b"\n")
    decoded = json.loads(lines[0])
    assert len(decoded) == len(ddl.INSERT_COLUMNS)
    by_column = dict(zip(ddl.INSERT_COLUMNS, decoded, strict=True))
    assert by_column == {
        "event_id": "e-1",
        "event_type": "planet.content.v1.PostPublished",
        "schema_version": 1,
        "source": "content",
        "aggregate_id": 'post "1"',
        "aggregate_version": 2**64 - 1,
        "occurred_at": "2024-11-25 13:06:40.123",
        "kafka_topic": "planet.content.events.v1",
        "kafka_partition": 3,
        "kafka_offset": 42,
        "payload_json": '{"title":"naïve \\n 🚀"}',
        "ingested_at": "1970-01-01 00:00:00.000",
    }


@pytest.mark.parametrize("field", [{"offset": -1}, {"partition": 2**32}, {"schema_version": -2}])
def test_values_an_unsigned_column_would_wrap_are_refused(field: dict[str, int]) -> None:
    fields = {name: getattr(ROW, name) for name in ROW.__slots__}
    with pytest.raises(ValueError, match="does not fit"):
        encode_rows([RawEventRow(**{**fields, **field})])


def test_chunked_slices_without_losing_rows() -> None:
    rows = list(range(7))
    assert [list(c) for c in chunked(rows, 3)] == [[0, 1, 2], [3, 4, 5], [6]]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "\\N"),
        ("plain", "plain"),
        ("it's\n\ta \\ b", "it\\'s\\n\\ta \\\\ b"),
        (True, "true"),
        (7, "7"),
        (1.5, "1.5"),
        (float("nan"), "nan"),
        (Decimal("1E+2"), "100"),
        (date(2024, 2, 29), "2024-02-29"),
        (datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC), "2024-01-02 03:04:05.678000"),
        (datetime(2024, 1, 2, 3, 4, 5), "2024-01-02 03:04:05"),
        (
            datetime(2024, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1))),
            "2024-01-02 03:04:05",
        ),
        (["a'b", None, 1], "['a\\'b', NULL, 1]"),
        ((1, "x"), "(1, 'x')"),
        ({"k": [1, 2]}, "{'k': [1, 2]}"),
        (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ],
)
def test_parameter_text(value: object, text: str) -> None:
    assert param_text(normalize_param(value)) == text


def test_unsupported_parameter_types_are_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        normalize_param({1, 2})


def test_split_type_respects_nesting_and_quotes() -> None:
    assert split_type("Map(String, Array(Tuple(a UInt8, b DateTime64(3, 'UTC'))))") == (
        "Map",
        ["String", "Array(Tuple(a UInt8, b DateTime64(3, 'UTC')))"],
    )
    assert split_type("Enum8('a,b' = 1, 'c' = 2)") == ("Enum8", ["'a,b' = 1", "'c' = 2"])
    assert split_type("UInt64") == ("UInt64", [])


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        ("UInt64", 18446744073709551615, 2**64 - 1),
        ("Int128", -(2**127), -(2**127)),
        ("Float64", 0.1, 0.1),
        ("Float64", 1, 1.0),
        ("Float32", "inf", float("inf")),
        (
            "Decimal(38, 4)",
            "123456789012345678901234.5678",
            Decimal("123456789012345678901234.5678"),
        ),
        ("LowCardinality(Nullable(String))", None, None),
        ("Nullable(UInt8)", 5, 5),
        ("Bool", True, True),
        ("FixedString(3)", "ab\u0000", b"ab\x00"),
        ("Date32", "1900-01-01", date(1900, 1, 1)),
        ("DateTime", "2024-01-02 03:04:05", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (
            "DateTime('Europe/Paris')",
            "2024-01-02 04:04:05",
            datetime(2024, 1, 2, 4, 4, 5, tzinfo=ZoneInfo("Europe/Paris")),
        ),
        (
            "DateTime64(3, 'UTC')",
            "2024-01-02 03:04:05.678",
            datetime(2024, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC),
        ),
        (
            "UUID",
            "61f0c404-5cb3-11e7-907b-a6006ad3dba0",
            uuid.UUID("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
        ),
        ("IPv4", "1.2.3.4", ipaddress.ip_address("1.2.3.4")),
        ("Enum8('a' = 1)", "a", "a"),
        ("Array(Nullable(Int32))", [1, None], [1, None]),
        ("Map(UInt8, String)", {"1": "x"}, {1: "x"}),
        ("Map(LowCardinality(String), Nullable(Float64))", {"a": None}, {"a": None}),
        ("Tuple(a UInt8, `b c` Date)", [1, "2024-01-02"], (1, date(2024, 1, 2))),
        ("SimpleAggregateFunction(sum, UInt64)", 3, 3),
    ],
)
def test_json_values_convert_by_clickhouse_type(
    type_name: str, value: object, expected: object
) -> None:
    assert converter_for(type_name)(value) == expected


def test_decode_keeps_decimals_exact_and_ints_integral() -> None:
    raw = (
        b'{"meta":[{"name":"d","type":"Decimal(38, 10)"},{"name":"n","type":"UInt64"}],'
        b'"data":[["0.1000000001",18446744073709551615]],"rows":1}'
    )
    result = decode(raw)
    assert result == QueryResult(columns=("d", "n"), rows=[(Decimal("0.1000000001"), 2**64 - 1)])


def test_decode_of_no_output_is_an_empty_result() -> None:
    assert decode(b"") == QueryResult(columns=(), rows=[])


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://u:p@host:8123/analytics", "http://u:p@host:8123"),
        ("https://host:8443/db?secure=true", "https://host:8443?secure=true"),
        ("chdb:///var/lib/planet/chdb", "chdb:///var/lib/planet/chdb"),
    ],
)
def test_server_urls_drop_the_database(url: str, expected: str) -> None:
    assert _without_database(url) == expected
