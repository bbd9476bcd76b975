"""Decode ClickHouse ``JSONCompact`` output into typed Python rows, driven by the column types.

The embedded engine's Arrow output loses types (DateTime becomes a bare integer, Int128 bytes),
so this reads the JSON form and its ``meta`` types instead, producing what clickhouse-connect
produces for a server: int, float, Decimal, str, bool, date, tz-aware datetime, UUID, IP
address, list, dict, tuple. The session must set ``output_format_json_quote_64bit_integers=0``,
``output_format_json_quote_decimals=1``, ``output_format_json_quote_denormals=1`` and
``output_format_json_named_tuples_as_objects=0`` (see ChdbStore).
"""

from __future__ import annotations

import ipaddress
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from typing import cast
from zoneinfo import ZoneInfo

from services.analytics.domain.store import QueryResult

Converter = Callable[[object], object]

_DECIMALS = frozenset({"Decimal", "Decimal32", "Decimal64", "Decimal128", "Decimal256"})
_WRAPPERS = frozenset({"LowCardinality"})
_IDENTIFIER_HEAD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_`")


def _top_level(text: str) -> Iterator[tuple[int, str]]:
    """(index, character) of every character of ``text`` outside quotes and parentheses."""
    depth = 0
    quote = ""
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "'`\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            yield i, ch


def split_type(type_name: str) -> tuple[str, list[str]]:
    """``Map(String, Array(UInt8))`` -> ``("Map", ["String", "Array(UInt8)"])``."""
    type_name = type_name.strip()
    open_paren = type_name.find("(")
    if open_paren < 0 or not type_name.endswith(")"):
        return type_name, []
    name = type_name[:open_paren]
    inner = type_name[open_paren + 1 : -1]
    args: list[str] = []
    start = 0
    for i, ch in _top_level(inner):
        if ch == ",":
            args.append(inner[start:i].strip())
            start = i + 1
    args.append(inner[start:].strip())
    return name, args


def _strip_element_name(element: str) -> str:
    """``a UInt8`` (a named tuple element) -> ``UInt8``; types never hold a top-level space."""
    if element[:1] not in _IDENTIFIER_HEAD:
        return element
    for i, ch in _top_level(element):
        if ch == " ":
            return element[i + 1 :].strip()
    return element


def _timezone(args: list[str], index: int) -> tzinfo:
    if len(args) <= index:
        # No zone in the type: the session timezone, which ChdbStore pins to UTC.
        return UTC
    name = args[index].strip("'")
    return UTC if name == "UTC" else ZoneInfo(name)


def _datetime_converter(zone: tzinfo) -> Converter:
    # fromisoformat keeps up to microseconds; DateTime64(9) loses nanoseconds, as in
    # clickhouse-connect. Parsing an explicit offset is much cheaper than replace(tzinfo=...).
    if zone is UTC:
        return lambda value: datetime.fromisoformat(f"{value}+00:00")
    return lambda value: datetime.fromisoformat(str(value)).replace(tzinfo=zone)


def _identity(value: object) -> object:
    return value


def _to_fixed_string(value: object) -> object:
    return str(value).encode("utf-8")


def _to_uuid(value: object) -> object:
    return uuid.UUID(str(value))


def _to_ip(value: object) -> object:
    return ipaddress.ip_address(str(value))


def _to_date(value: object) -> object:
    return date.fromisoformat(str(value))


# A whole float arrives as a JSON int ("1"), nan/inf as strings: float() takes all three.
_to_float = cast(Converter, float)


def _to_decimal(value: object) -> object:
    # Decimals arrive quoted (output_format_json_quote_decimals=1), so nothing went via float.
    return Decimal(str(value))


# Types whose JSON value already is the Python value: strings, ints (unquoted, with
# output_format_json_quote_64bit_integers=0, so exact at any width), bools, enum names.
_INTEGERS = frozenset(
    {f"{sign}Int{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64, 128, 256)}
)
_PASSTHROUGH = _INTEGERS | {"String", "Bool", "Enum8", "Enum16"}
_SCALARS: dict[str, Converter] = {
    "Float32": _to_float,
    "Float64": _to_float,
    "BFloat16": _to_float,
    "FixedString": _to_fixed_string,
    "UUID": _to_uuid,
    "IPv4": _to_ip,
    "IPv6": _to_ip,
    "Date": _to_date,
    "Date32": _to_date,
    "Nothing": lambda v: None,
}


@cache
def converter_for(type_name: str) -> Converter:
    """The function turning one JSON value of ClickHouse type ``type_name`` into Python."""
    name, args = split_type(type_name)
    if name in _PASSTHROUGH:
        return _identity
    if name in _WRAPPERS:
        return converter_for(args[0])
    if name == "SimpleAggregateFunction":
        return converter_for(args[1])
    if name == "Nullable":
        inner = converter_for(args[0])
        if inner is _identity:
            return _identity
        return lambda v: None if v is None else inner(v)
    if name in _DECIMALS:
        return _to_decimal
    if name == "DateTime":
        return _datetime_converter(_timezone(args, 0))
    if name == "DateTime64":
        return _datetime_converter(_timezone(args, 1))
    if name == "Array":
        item = converter_for(args[0])
        return lambda v: [item(x) for x in _as_list(v)]
    if name == "Map":
        # JSON object keys are always strings, so integer keys need parsing back.
        key = int if _is_integer(args[0]) else converter_for(args[0])
        val = converter_for(args[1])
        return lambda v: {key(k): val(x) for k, x in _as_dict(v).items()}
    if name == "Tuple":
        items = [converter_for(_strip_element_name(arg)) for arg in args]
        return lambda v: tuple(c(x) for c, x in zip(items, _as_list(v), strict=True))
    # JSON, Dynamic, Variant, intervals and the like: the JSON value is the best answer.
    return _SCALARS.get(name, _identity)


def _is_integer(type_name: str) -> bool:
    name, args = split_type(type_name)
    while name in ("LowCardinality", "Nullable"):
        name, args = split_type(args[0])
    return name in _INTEGERS


def _as_list(value: object) -> list[object]:
    if not isinstance(value, list):
        raise TypeError(f"expected a JSON array, got {type(value).__name__}")
    return value


def _as_dict(value: object) -> dict[str, object]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


def decode(raw: bytes) -> QueryResult:
    """A QueryResult from a ``JSONCompact`` document (empty input means no result set)."""
    if not raw.strip():
        return QueryResult(columns=(), rows=[])
    document = json.loads(raw)
    meta: list[dict[str, str]] = document["meta"]
    columns = tuple(column["name"] for column in meta)
    data: list[list[object]] = document["data"]
    if not data:
        return QueryResult(columns=columns, rows=[])
    # Column by column: passthrough columns cost nothing and map() beats a per-value loop.
    converted: list[Sequence[object]] = []
    for column, values in zip(meta, zip(*data, strict=True), strict=True):
        convert = converter_for(column["type"])
        converted.append(values if convert is _identity else list(map(convert, values)))
    return QueryResult(columns=columns, rows=list(zip(*converted, strict=True)))
