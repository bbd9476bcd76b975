"""Pure encoders shared by both backends: insert batches and query parameter values."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring_ascii
from typing import TypeVar

from services.analytics.domain.store import MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, RawEventRow

T = TypeVar("T")

_UINT32_MAX = 2**32 - 1
_UINT64_MAX = 2**64 - 1


def _json_str(text: str) -> str:
    return str(encode_basestring_ascii(text))


@lru_cache(maxsize=65_536)
def _second_text(epoch_second: int) -> str:
    # A batch holds many events from the same seconds; gmtime+strftime is the slow part.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch_second))


def ms_to_datetime_text(ms: int) -> str:
    """Epoch milliseconds as ``YYYY-MM-DD hh:mm:ss.fff`` in UTC, exact, for DateTime64(3)."""
    # Text, not a number: ClickHouse reads a JSON number for DateTime64 as whole seconds,
    # and short decimal strings ("0.001") as broken dates.
    if not MIN_TIMESTAMP_MS <= ms <= MAX_TIMESTAMP_MS:
        raise ValueError(f"timestamp {ms} ms is outside DateTime64's range (1900..2299)")
    second, millis = divmod(ms, 1000)
    return f"{_second_text(second)}.{millis:03d}"


def _unsigned(name: str, value: int, maximum: int) -> int:
    # ClickHouse would wrap a negative into a huge unsigned number instead of failing.
    if not 0 <= value <= maximum:
        raise ValueError(f"{name}={value} does not fit the column (0..{maximum})")
    return value


def encode_row(row: RawEventRow) -> str:
    """One row as a JSONCompactEachRow line (no newline) in ddl.INSERT_COLUMNS order."""
    # Hand-assembled: json.dumps per row was the largest cost of a 10 000-row insert.
    # encode_basestring_ascii is json's own C string encoder; ASCII output keeps lone
    # surrogates from turning into invalid UTF-8 in the engine.
    return (
        f"[{_json_str(row.event_id)},{_json_str(row.event_type)},"
        f"{_unsigned('schema_version', row.schema_version, _UINT32_MAX)},"
        f"{_json_str(row.source)},{_json_str(row.aggregate_id)},"
        f"{_unsigned('aggregate_version', row.aggregate_version, _UINT64_MAX)},"
        f'"{ms_to_datetime_text(row.occurred_at_ms)}",{_json_str(row.topic)},'
        f"{_unsigned('partition', row.partition, _UINT32_MAX)},"
        f"{_unsigned('offset', row.offset, _UINT64_MAX)},"
        f'{_json_str(row.payload_json)},"{ms_to_datetime_text(row.ingested_at_ms)}"]'
    )


def encode_rows(rows: Sequence[RawEventRow]) -> bytes:
    """A JSONCompactEachRow body for ddl.insert_events(table), one line per row."""
    return "".join(f"{encode_row(row)}\n" for row in rows).encode("ascii")


def chunked(rows: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` rows."""
    if size < 1:
        raise ValueError("chunk size must be positive")
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _datetime_param_text(value: datetime) -> str:
    # Naive datetimes are taken as UTC, the store's only timezone; microseconds are kept
    # (clickhouse-connect would drop them) so DateTime64 parameters compare exactly.
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    text = f"{value:%Y-%m-%d %H:%M:%S}"
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def normalize_param(value: object) -> object:
    """A parameter value both backends bind the same way: datetimes become UTC text."""
    if value is None or isinstance(value, str | bool | int | float | Decimal | uuid.UUID):
        return value
    if isinstance(value, datetime):
        return _datetime_param_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [normalize_param(item) for item in value]
    if isinstance(value, tuple):
        return tuple(normalize_param(item) for item in value)
    if isinstance(value, Mapping):
        return {normalize_param(k): normalize_param(v) for k, v in value.items()}
    raise TypeError(f"unsupported query parameter type {type(value).__name__}")


_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    "\n": "\\n",
    "\t": "\\t",
    "\r": "\\r",
    "\0": "\\0",
    "\b": "\\b",
    "\f": "\\f",
}


def _escape(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) for ch in text)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        # Plain notation: str() may give "1E+2", which a Decimal parameter does not accept.
        return format(value, "f")
    # int, float (repr is exact; its nan/inf/-inf spellings are ClickHouse's too), UUID.
    return str(value)


def _literal(value: object) -> str:
    """A value inside an Array/Tuple/Map parameter: a quoted SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return f"'{_escape(value)}'"
    if isinstance(value, uuid.UUID):
        return f"'{value}'"
    return _container_text(value) or _scalar_text(value)


def _container_text(value: object) -> str | None:
    if isinstance(value, list):
        return "[" + ", ".join(_literal(item) for item in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(item) for item in value) + ")"
    if isinstance(value, dict):
        pairs = (f"{_literal(k)}: {_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    return None


def param_text(value: object) -> str:
    """The text the embedded engine binds to ``{name:Type}`` for a normalized value."""
    # The engine reads a top-level parameter as TSV-escaped text (a raw newline ends it),
    # while containers are read as SQL literals: the same split clickhouse-connect makes.
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
    return _container_text(value) or _scalar_text(value)
