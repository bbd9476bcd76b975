"""Table values: protobuf bytes for records, compact JSON for the small indexes beside them."""

from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping
from typing import Any, TypeVar

from google.protobuf.message import Message

Table = MutableMapping[str, bytes]
ReadTable = Mapping[str, bytes]
M = TypeVar("M", bound=Message)


def read_proto(table: ReadTable, key: str, cls: type[M]) -> M | None:
    """The message stored at ``key``, or None."""
    raw = table.get(key)
    if raw is None:
        return None
    message = cls()
    message.ParseFromString(raw)
    return message


def write_proto(table: Table, key: str, message: Message) -> None:
    """Store ``message`` at ``key`` (deterministic bytes, so a rewrite is byte-identical)."""
    table[key] = message.SerializeToString(deterministic=True)


def read_json(table: ReadTable, key: str) -> Any:
    """The JSON value at ``key``, or None."""
    raw = table.get(key)
    return None if raw is None else json.loads(raw)


def write_json(table: Table, key: str, value: Any) -> None:
    """Store ``value`` as compact, sorted-key JSON."""
    table[key] = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def insert_desc(values: list[str], value: str) -> list[str] | None:
    """``values`` (descending, unique) with ``value`` inserted; None when already there."""
    if value in values:
        return None
    return sorted([*values, value], reverse=True)


def page_desc(values: list[str], before: str, limit: int) -> tuple[list[str], str]:
    """Up to ``limit`` of ``values`` (descending) strictly below ``before`` (empty = from the
    top), and the cursor for the next page ("" when there is none)."""
    rest = [v for v in values if not before or v < before]
    page = rest[:limit]
    return page, (page[-1] if len(rest) > limit else "")
