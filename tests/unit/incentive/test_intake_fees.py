"""Trade fees → per-day quote values over the trailing window, each fee id counted once."""

from __future__ import annotations

import pytest
from intake_events import DAY, EXCHANGE, T0, fee, raw

from planet.incentive.v1.facts_pb2 import DayFees, UserStatus
from planetkit.envelope import UndecodableEvent
from planetkit.upcasters import decode_fee
from services.incentive.intake.fee_window import WINDOW_DAYS, FeeChange, fold_fee

D0 = T0 // DAY


def fold(status: UserStatus | None, seen: dict[int, bytes], payload: object,
         event_id: str) -> FeeChange | None:
    event = decode_fee(raw(payload, event_id, source=EXCHANGE), "USDT")  # type: ignore[arg-type]
    day = event.payload.charged_at_ms // DAY
    change = fold_fee(status, event, "USDT", seen.get(day))
    if change is not None:
        for d in change.dropped_days:
            seen.pop(d)
        seen[change.day] = change.seen
    return change


def test_fees_sum_per_utc_day_once_per_fee_id() -> None:
    seen: dict[int, bytes] = {}
    a = fold(None, seen, fee(fee_id="f1", value=100), "e1")
    assert a is not None
    b = fold(a.status, seen, fee(fee_id="f2", value=50, at_ms=T0 + 1), "e2")
    assert b is not None
    assert fold(b.status, seen, fee(fee_id="f1", value=100), "e1-again") is None  # same fee id
    c = fold(b.status, seen, fee(fee_id="f3", value=7, at_ms=T0 + DAY), "e3")
    assert c is not None
    assert list(c.status.fees) == [DayFees(day=D0, quote_minor=150, quote_asset="USDT"),
                                   DayFees(day=D0 + 1, quote_minor=7, quote_asset="USDT")]
    assert not c.status.fee_ids  # the dedup memory is the caller's table, not the record


def test_only_the_window_is_kept_and_older_fees_are_not_counted() -> None:
    seen: dict[int, bytes] = {}
    status = fold(None, seen, fee(fee_id="old"), "e1")
    assert status is not None
    later = fold(status.status, seen, fee(fee_id="new", at_ms=T0 + WINDOW_DAYS * DAY), "e2")
    assert later is not None and later.dropped_days == (D0,)
    assert [d.day for d in later.status.fees] == [D0 + WINDOW_DAYS]
    assert list(seen) == [D0 + WINDOW_DAYS]
    assert fold(later.status, seen, fee(fee_id="late"), "e3") is None


def test_a_status_never_grows_past_the_window_however_long_the_history() -> None:
    seen: dict[int, bytes] = {}
    status: UserStatus | None = None
    for n in range(3 * WINDOW_DAYS):
        change = fold(status, seen, fee(fee_id=f"f{n}", at_ms=T0 + n * DAY), f"e{n}")
        assert change is not None
        status = change.status
    assert status is not None and len(status.fees) == WINDOW_DAYS and len(seen) == WINDOW_DAYS


def test_a_fee_valued_in_another_asset_is_refused_with_the_reason() -> None:
    event = decode_fee(raw(fee(asset="EUR"), "e", source=EXCHANGE), "USDT")
    with pytest.raises(UndecodableEvent, match="not in the pool's quote asset"):
        fold_fee(None, event, "USDT", None)
