"""Hand-checked cases of the track record's definitions (docs/track-record.md)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from track_record_builders import USER, fill, ms

from planet.exchange.v1 import events_pb2 as v1
from planet.exchange.v2 import events_pb2 as v2
from planetkit.money import Money
from planetkit.upcasters import check_fill, upcast_fill
from services.social.domain.track_record import (
    Rules,
    StateCorrupt,
    TrackRecord,
    WindowFigures,
    apply,
    compute,
    decode,
    encode,
    explain,
    figures,
    fill_of,
    ignore_reason,
    new_state,
)
from simulators.exchange.facts import fill_values

DAY = 86_400_000
T0 = ms("2025-03-01T09:00:00Z")
NOW = ms("2025-03-31T12:00:00Z")
ONE = Rules(min_closed_trades=1)


def window(record: TrackRecord, name: str, quote: str = "USDT") -> WindowFigures:
    (row,) = [r for r in record.rows if r.quote_asset == quote]
    (w,) = [w for w in row.windows if w.window == name]
    return w


def pnls(*fills: Any) -> list[Decimal]:
    return [t.pnl for t in explain(USER, fills)[1]]


def test_fee_in_quote_adds_to_cost_and_takes_from_proceeds() -> None:
    # cost 100 + 1.00 = 101.00; proceeds 110 - 1.10 = 108.90
    assert pnls(fill("a", T0, "BTC/USDT", "buy", "100", "1", "1.00"),
                fill("b", T0 + 1, "BTC/USDT", "sell", "110", "1", "1.10")) == [Decimal("7.90")]


def test_fee_in_base_on_a_buy_holds_less() -> None:
    # buy 1.01 BTC, 0.01 BTC fee: holds 1 BTC that cost 101.00; selling it at 110 makes 9.00
    _, trades = explain(USER, [
        fill("a", T0, "BTC/USDT", "buy", "100", "1.01", "0.01", "BTC"),
        fill("b", T0 + 1, "BTC/USDT", "sell", "110", "1"),
    ])
    assert [(t.cost, t.proceeds, t.pnl) for t in trades] == [
        (Decimal("101.00"), Decimal("110"), Decimal("9.00"))]


def test_fee_in_base_on_a_sell_takes_more_out() -> None:
    # sell 0.99 with a 0.01 BTC fee: the whole 1 BTC lot (100) for 0.99 x 110 = 108.90
    state, trades = explain(USER, [
        fill("a", T0, "BTC/USDT", "buy", "100", "1"),
        fill("b", T0 + 1, "BTC/USDT", "sell", "110", "0.99", "0.01", "BTC"),
    ])
    assert [(t.quantity, t.pnl) for t in trades] == [(Decimal("1.00"), Decimal("8.90"))]
    assert not state.instruments[("BTC", "USDT")].lots


def test_fee_in_a_third_asset_counts_only_at_the_exchanges_value() -> None:
    fills = [
        fill("a", T0, "BTC/USDT", "buy", "100", "1", "3", "BGB", "0.60"),
        fill("b", T0 + 1, "BTC/USDT", "sell", "110", "0.5", "3", "BGB", None),  # not valued
        fill("c", T0 + 2, "BTC/USDT", "sell", "120", "0.5", "0", "BGB", None),  # zero is zero
    ]
    state, trades = explain(USER, fills)
    # lot cost 100.60; b is not counted; c closes half: 50.30 for 60
    assert [(t.fill_id, t.cost, t.pnl) for t in trades] == [
        ("c", Decimal("50.300000000000000000"), Decimal("9.700000000000000000"))]
    p = window(figures(state, NOW, ONE), "all").provenance
    assert (p.fills, p.excluded) == (2, (("fee_not_valued", 1),))
    assert "not counted: 1 fee_not_valued" in p.text


def test_a_v1_fill_with_a_fee_of_unknown_asset_is_read_not_counted() -> None:
    old = v1.OrderFilled(fill_id="v1", user_id=USER, pair="BTC/USDT", side="buy", price="100",
                         quantity="1", fee_minor="25", filled_at_ms=T0)
    read = fill_of(check_fill(upcast_fill(old)))
    assert read.fee is None
    state = apply(new_state(USER), read)
    assert state.books["USDT"].excluded == {"fee_asset_unknown": 1}
    assert not state.instruments[("BTC", "USDT")].lots
    free = v1.OrderFilled(fill_id="v1b", user_id=USER, pair="BTC/USDT", side="buy",
                          price="100", quantity="1", fee_minor="0", filled_at_ms=T0 + 1)
    apply(state, fill_of(check_fill(upcast_fill(free))))
    assert state.books["USDT"].fills == 1


def test_a_simulator_fill_reads_as_booked() -> None:
    fee, value, fee_value = fill_values("BTC/USDT", "64000.25", "0.0015", 150, "BTC")
    wire = v2.OrderFilled(fill_id="s1", user_id=USER, base_asset="BTC", quote_asset="USDT",
                          side=v2.SIDE_BUY, price="64000.25", quantity="0.0015",
                          filled_at_ms=T0)
    for name, money in (("fee", fee), ("quote_value", value), ("fee_quote_value", fee_value)):
        getattr(wire, name).CopyFrom(v2.Money(amount_minor=money.amount_minor,
                                              asset=money.asset))
    read = fill_of(check_fill(wire))
    assert (read.price, read.quantity, read.fee) == (Decimal("64000.25"), Decimal("0.0015"),
                                                     Money(150, "BTC"))
    state = apply(new_state(USER), read)
    (lot,) = state.instruments[("BTC", "USDT")].lots
    assert (lot.quantity, lot.cost) == (Decimal("0.00149850"), Decimal("96.00037500"))


def test_partial_closes_across_lots_spend_each_lots_cost_exactly() -> None:
    state, trades = explain(USER, [
        fill("a", T0, "ETH/USDT", "buy", "100", "3", "1.00"),  # 301.00 for 3
        fill("b", T0 + 1, "ETH/USDT", "buy", "130", "2"),  # 260 for 2
        fill("c", T0 + 2, "ETH/USDT", "sell", "120", "1"),
        fill("d", T0 + 3, "ETH/USDT", "sell", "120", "3"),
        fill("e", T0 + 4, "ETH/USDT", "sell", "120", "1"),
    ])
    pieces = [[(p.lot_fill_id, p.quantity, p.cost) for p in t.pieces] for t in trades]
    third = Decimal("100.333333333333333333")  # 301 / 3, 18 places half-even
    assert pieces == [
        [("a", Decimal("1"), third)],
        [("a", Decimal("2"), Decimal("301.00") - third),  # the rest of a: exactly what is left
         ("b", Decimal("1"), Decimal("130"))],
        [("b", Decimal("1"), Decimal("130"))],
    ]
    assert sum(t.cost for t in trades) == Decimal("561.00")
    assert not state.instruments[("ETH", "USDT")].lots


def test_a_loss_and_a_breakeven_are_closed_trades_but_no_wins() -> None:
    fills = [fill("a", T0, "BTC/USDT", "buy", "100", "3"),
             fill("b", T0 + DAY, "BTC/USDT", "sell", "90", "1"),
             fill("c", T0 + 2 * DAY, "BTC/USDT", "sell", "101", "1", "1.00"),
             fill("d", T0 + 3 * DAY, "BTC/USDT", "sell", "130", "1")]
    w = window(figures(compute(USER, fills), NOW, ONE), "all")
    assert (w.closed_trades, w.wins, w.realised_pnl) == (3, 1, Money(2000, "USDT"))
    assert w.win_rate == Decimal("0.333333")
    assert w.roi == Decimal("0.066667")  # 20 / 300
    assert w.max_drawdown == Money(1000, "USDT")  # 0 -> -10 -> -10 -> +20


def test_drawdown_is_peak_to_trough_of_the_path_and_a_ratio_of_cost() -> None:
    steps = ["110", "80", "105", "70", "120"]  # each closes a 100 lot: +10 -20 +5 -30 +20
    fills = [fill(f"b{i}", T0 + i, "BTC/USDT", "buy", "100", "1") for i in range(5)]
    fills += [fill(f"s{i}", T0 + DAY * (i + 1), "BTC/USDT", "sell", p, "1")
              for i, p in enumerate(steps)]
    w = window(figures(compute(USER, fills), NOW), "all")
    # path 0, 10, -10, -5, -35, -15: peak 10 -> trough -35
    assert w.max_drawdown == Money(4500, "USDT")
    assert w.max_drawdown_ratio == Decimal("0.090000")  # 45 / 500


def test_trades_closed_at_the_same_instant_are_one_step() -> None:
    fills = [fill("a", T0, "BTC/USDT", "buy", "100", "1"),
             fill("b", T0, "ETH/USDT", "buy", "100", "1"),
             fill("c", T0 + 5, "BTC/USDT", "sell", "110", "1"),  # +10
             fill("d", T0 + 5, "ETH/USDT", "sell", "95", "1")]  # -5 at the same ms
    w = window(figures(compute(USER, fills), NOW, ONE), "all")
    assert w.max_drawdown == Money(0, "USDT")
    assert w.realised_pnl == Money(500, "USDT")


def test_window_boundaries_are_utc_days_by_the_closing_fills_time() -> None:
    now = ms("2025-03-31T23:59:59.999Z")
    buy = fill("a", ms("2024-01-01T00:00:00Z"), "BTC/USDT", "buy", "100", "10")
    sells = [fill("s1", ms("2025-03-24T23:59:59.999Z"), "BTC/USDT", "sell", "100", "1"),
             fill("s2", ms("2025-03-25T00:00:00Z"), "BTC/USDT", "sell", "100", "1"),
             fill("s3", ms("2025-03-01T23:59:59.999Z"), "BTC/USDT", "sell", "100", "1"),
             fill("s4", ms("2025-03-02T00:00:00Z"), "BTC/USDT", "sell", "100", "1"),
             fill("s5", ms("2024-12-31T23:59:59.999Z"), "BTC/USDT", "sell", "100", "1"),
             fill("s6", ms("2025-01-01T00:00:00Z"), "BTC/USDT", "sell", "100", "1")]
    record = figures(compute(USER, [buy, *sells]), now, ONE)
    counts = {w: window(record, w).closed_trades for w in ("7d", "30d", "90d", "all")}
    # 7d: s2; 30d: + s4, s1; 90d: + s6, s3; all: + s5. The lot is from 2024 every time.
    assert counts == {"7d": 1, "30d": 3, "90d": 5, "all": 6}


def test_fewer_than_the_minimum_of_closed_trades_shows_null_with_the_reason() -> None:
    fills = [fill("a", T0, "BTC/USDT", "buy", "100", "5")]
    fills += [fill(f"s{i}", T0 + DAY + i, "BTC/USDT", "sell", "101", "1") for i in range(4)]
    w = window(figures(compute(USER, fills), NOW), "all")
    assert w.closed_trades == 4
    assert w.withheld == "4 closed trades in all time; a figure needs at least 5"
    assert (w.wins, w.realised_pnl, w.roi, w.win_rate, w.max_drawdown,
            w.max_drawdown_ratio) == (None,) * 6
    fills.append(fill("s9", T0 + 2 * DAY, "BTC/USDT", "sell", "101", "1"))
    w = window(figures(compute(USER, fills), NOW), "all")
    assert (w.withheld, w.realised_pnl) == (None, Money(500, "USDT"))


def test_each_quote_asset_is_its_own_row() -> None:
    fills = [fill("a", T0, "BTC/USDT", "buy", "100", "1"),
             fill("b", T0, "BTC/USDC", "buy", "100", "1"),
             fill("c", T0 + 1, "BTC/USDT", "sell", "110", "1"),
             fill("d", T0 + 1, "BTC/USDC", "sell", "90", "1")]
    record = figures(compute(USER, fills), NOW, ONE)
    assert [r.quote_asset for r in record.rows] == ["USDC", "USDT"]
    assert window(record, "all", "USDT").realised_pnl == Money(1000, "USDT")
    assert window(record, "all", "USDC").realised_pnl == Money(-1000, "USDC")
    assert window(record, "all", "USDC").provenance.fills == 2


def test_a_sell_beyond_the_open_lots_counts_only_its_matched_part() -> None:
    state, trades = explain(USER, [
        fill("x", T0, "SOL/USDT", "sell", "50", "1"),  # nothing held: no trade
        fill("a", T0 + 1, "SOL/USDT", "buy", "100", "1"),
        fill("b", T0 + 2, "SOL/USDT", "sell", "110", "2", "2.20"),  # half is unmatched
    ])
    assert [(t.fill_id, t.matched, t.proceeds, t.pnl) for t in trades] == [
        ("b", Decimal("1"), Decimal("108.900000000000000000"),
         Decimal("8.900000000000000000"))]
    p = window(figures(state, NOW, ONE), "all").provenance
    assert p.unmatched_sells == 2
    assert "2 sells beyond the recorded buys" in p.text


def test_duplicates_and_late_fills_change_nothing() -> None:
    a = fill("a", T0, "BTC/USDT", "buy", "100", "1")
    b = fill("b", T0 + 10, "ETH/USDT", "buy", "100", "1")
    state = apply(apply(new_state(USER), a), b)
    before = encode(state)
    assert "duplicate or out of order" in (ignore_reason(state, a) or "")
    late = fill("c", T0 + 5, "SOL/USDT", "buy", "100", "1")
    assert "out of order" in (ignore_reason(state, late) or "")
    for again in (a, b, late):
        assert encode(apply(state, again)) == before


def test_a_fill_of_another_user_is_refused() -> None:
    with pytest.raises(ValueError, match="not erin's"):
        apply(new_state(USER), fill("a", T0, "BTC/USDT", "buy", "1", "1", user="frank"))


def test_digits_beyond_the_exact_context_are_not_counted() -> None:
    huge = "9" * 40 + "." + "9" * 30
    state = apply(new_state(USER), fill("a", T0, "BTC/USDT", "buy", huge, huge))
    assert state.books["USDT"].excluded == {"beyond_precision": 1}


def test_an_asset_without_a_minor_unit_is_not_counted_and_says_so() -> None:
    state = compute(USER, [fill("a", T0, "BTC/EUR", "buy", "100", "1")],
                    Rules(minor_digits={"BTC": 8}))
    (row,) = figures(state, NOW, Rules(minor_digits={"BTC": 8})).rows
    assert state.books["EUR"].excluded == {"no_minor_unit": 1}
    assert all(w.withheld and "minor unit of EUR" in w.withheld for w in row.windows)


def test_a_clock_behind_the_last_fill_reads_as_that_fills_day() -> None:
    state = compute(USER, [fill("a", NOW, "BTC/USDT", "buy", "1", "1")])
    early = window(figures(state, NOW - 3 * DAY), "7d")
    assert early.to_ms == (NOW // DAY + 1) * DAY


def test_old_days_fold_into_one_summary_and_all_time_stays_exact() -> None:
    fills = [fill("a", T0, "BTC/USDT", "buy", "100", "1000")]
    fills += [fill(f"s{i:03}", T0 + i * DAY, "BTC/USDT", "sell", str(95 + i % 11), "1")
              for i in range(1, 401)]
    state = compute(USER, fills)
    assert len(state.books["USDT"].days) <= 90
    w = window(figures(state, T0 + 400 * DAY), "all")
    pnl = sum(Decimal(95 + i % 11) - 100 for i in range(1, 401))
    assert (w.closed_trades, w.realised_pnl) == (400, Money(int(pnl * 100), "USDT"))
    assert decode(encode(state)).books["USDT"].older == state.books["USDT"].older


def test_the_state_round_trips_and_bad_bytes_are_refused() -> None:
    state = compute(USER, [fill("a", T0, "BTC/USDT", "buy", "100", "1"),
                           fill("b", T0 + 1, "BTC/USDT", "sell", "101", "0.5")])
    data = encode(state)
    assert encode(decode(data)) == data
    for bad in (b"", b"[]", b"{\"v\":9}", data.replace(b'"v":1', b'"v":"1"'),
                data.replace(b'"fills":2', b'"fills":"2"'), data[:-5], b"\xff"):
        with pytest.raises(StateCorrupt):
            decode(bad)


def _walk(value: object) -> list[object]:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [x for f in dataclasses.fields(value) for x in _walk(getattr(value, f.name))]
    if isinstance(value, tuple | list):
        return [x for v in value for x in _walk(v)]
    return [value]


def test_no_float_anywhere_in_a_record() -> None:
    from track_record_builders import doc_fills
    leaves = _walk(figures(compute(USER, doc_fills()), NOW, ONE))
    assert leaves and not any(isinstance(x, float) for x in leaves)
    assert any(isinstance(x, Decimal) for x in leaves)
