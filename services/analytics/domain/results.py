"""Query results as JSON text: exact integers, and a cap on how many rows go back."""

from __future__ import annotations

import ipaddress
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RowsJson:
    """Rows encoded as a JSON array of arrays, and whether some were left out."""

    text: str
    row_count: int
    truncated: bool


def plain(value: object) -> object:
    """A value json.dumps writes losslessly: ints stay ints, the rest becomes text or lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # JSON has no NaN or infinity; json.dumps would write invalid JSON for them.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        # As text: a JSON number would become a binary float in most clients.
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    return str(value)


def rows_json(rows: Sequence[Sequence[object]], max_rows: int) -> RowsJson:
    """The first ``max_rows`` rows as JSON text."""
    kept = rows[:max_rows]
    text = json.dumps([[plain(v) for v in row] for row in kept], separators=(",", ":"))
    return RowsJson(text, len(kept), len(rows) > max_rows)
