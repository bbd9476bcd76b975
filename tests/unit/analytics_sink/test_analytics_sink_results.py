"""Query results as JSON: exact integers, lossless text for the rest, and a row cap."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from services.analytics.domain.results import rows_json


def test_values_round_trip_through_json_without_losing_precision() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC)
    ident = uuid.UUID(int=1)
    rows = [(2**64 - 1, -(2**63), Decimal("0.10"), when, date(2026, 1, 2), ident,
             float("nan"), float("-inf"), 1.5, None, True, [1, (2, "x")], {1: "a"})]
    out = rows_json(rows, max_rows=10)
    assert (out.row_count, out.truncated) == (1, False)
    assert json.loads(out.text) == [[
        2**64 - 1, -(2**63), "0.10", "2026-01-02T03:04:05.006000+00:00", "2026-01-02",
        str(ident), "nan", "-inf", 1.5, None, True, [1, [2, "x"]], {"1": "a"},
    ]]


def test_only_the_first_max_rows_come_back_and_the_cut_is_flagged() -> None:
    out = rows_json([(n,) for n in range(5)], max_rows=3)
    assert json.loads(out.text) == [[0], [1], [2]]
    assert (out.row_count, out.truncated) == (3, True)


def test_an_empty_result_is_an_empty_array() -> None:
    out = rows_json([], max_rows=3)
    assert (out.text, out.row_count, out.truncated) == ("[]", 0, False)
