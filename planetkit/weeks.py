"""ISO weeks (UTC): the period every pool, estimate and aggregate belongs to."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def iso_week_of_ms(epoch_ms: int) -> str:
    """The ISO week ("2026-W48") that a UTC epoch-millisecond instant falls in."""
    year, week, _ = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).isocalendar()
    return f"{year:04d}-W{week:02d}"


def parse_iso_week(week: str) -> tuple[int, int]:
    """Split "2026-W48" into (2026, 48); ValueError when it is not a real ISO week."""
    m = _WEEK.match(week)
    if not m:
        raise ValueError(f"not an ISO week (expected YYYY-Www): {week!r}")
    year, num = int(m.group(1)), int(m.group(2))
    date.fromisocalendar(year, num, 1)  # raises ValueError for week 53 of a 52-week year
    return year, num


def week_start_ms(week: str) -> int:
    """UTC epoch milliseconds of the Monday 00:00 that starts the ISO week."""
    year, num = parse_iso_week(week)
    monday = date.fromisocalendar(year, num, 1)
    return int(datetime(monday.year, monday.month, monday.day, tzinfo=UTC).timestamp()) * 1000
