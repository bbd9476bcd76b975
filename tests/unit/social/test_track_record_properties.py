"""Properties of the track record (hypothesis): the fold is the log's pure function."""

from __future__ import annotations

import random
from collections import deque
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from track_record_builders import USER, fill

from services.social.domain.track_record import (
    Fill,
    Rules,
    Side,
    apply,
    compute,
    decode,
    encode,
    explain,
    figures,
    new_state,
)
from services.social.domain.track_record.state import ordered

DAY = 86_400_000
T0 = 1_735_689_600_000  # 2025-01-01
PAIRS = ("BTC/USDT", "ETH/USDT", "BTC/USDC")
ONE = Rules(min_closed_trades=1)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def fill_lists(draw: st.DrawFn) -> list[Fill]:
    n = draw(st.integers(1, 40))
    out = []
    for i in range(n):
        pair = draw(st.sampled_from(PAIRS))
        base = pair.split("/")[0]
        # few distinct instants, so fills of different pairs share a millisecond; days up to
        # 200 apart, so days are retired into the older summary
        at = T0 + draw(st.integers(0, 400)) * DAY // 2 + draw(st.sampled_from((0, 1, 7)))
        side = draw(st.sampled_from(("buy", "buy", "sell")))
        price = str(draw(st.integers(1, 5000)) / Decimal(draw(st.sampled_from((1, 4, 100)))))
        quantity = str(draw(st.integers(1, 300)) / Decimal(draw(st.sampled_from((1, 8, 100)))))
        kind = draw(st.sampled_from(("quote", "base", "third", "third-unvalued", "none")))
        if kind == "quote":
            f = fill(f"f{i:03}", at, pair, side, price, quantity,
                     str(Decimal(draw(st.integers(0, 500))) / 100))
        elif kind == "base":
            f = fill(f"f{i:03}", at, pair, side, price, quantity,
                     str(Decimal(draw(st.integers(0, 10**6))) / 10**8), base)
        elif kind == "third":
            f = fill(f"f{i:03}", at, pair, side, price, quantity, "1", "BGB",
                     str(Decimal(draw(st.integers(0, 300))) / 100))
        elif kind == "third-unvalued":
            f = fill(f"f{i:03}", at, pair, side, price, quantity, "1", "BGB", None)
        else:
            f = fill(f"f{i:03}", at, pair, side, price, quantity, None)
        out.append(f)
    return out


def fold(fills: list[Fill], through_store: bool = False) -> bytes:
    state = new_state(USER)
    for f in fills:
        state = apply(state, f)
        if through_store:
            state = decode(encode(state))
    return encode(state)


def record_of(data: bytes) -> object:
    return figures(decode(data), T0 + 120 * DAY, ONE)


@FAST
@given(fills=fill_lists(), seed=st.integers(0, 2**32))
def test_folding_one_by_one_equals_computing_from_the_whole_log(fills: list[Fill],
                                                                seed: int) -> None:
    shuffled = fills[:]
    random.Random(seed).shuffle(shuffled)
    whole = encode(compute(USER, shuffled))
    assert fold(ordered(fills)) == whole
    assert fold(ordered(fills), through_store=True) == whole
    assert record_of(whole) == figures(compute(USER, fills), T0 + 120 * DAY, ONE)


@FAST
@given(fills=fill_lists(), seed=st.integers(0, 2**32))
def test_fills_of_different_pairs_at_one_instant_fold_in_any_order(fills: list[Fill],
                                                                   seed: int) -> None:
    rng = random.Random(seed)
    by_time: dict[int, list[Fill]] = {}
    for f in ordered(fills):
        by_time.setdefault(f.filled_at_ms, []).append(f)
    interleaved = []
    for group in by_time.values():
        # each pair's fills keep their (time, id) order; the pairs interleave at random
        queues = {}
        for f in group:
            queues.setdefault(f.instrument, deque()).append(f)
        while queues:
            key = rng.choice(sorted(queues))
            interleaved.append(queues[key].popleft())
            if not queues[key]:
                del queues[key]
    assert fold(interleaved) == encode(compute(USER, fills))


@FAST
@given(fills=fill_lists(), data=st.data())
def test_a_redelivered_fill_counts_once(fills: list[Fill], data: st.DataObject) -> None:
    log = ordered(fills)
    for _ in range(data.draw(st.integers(1, 5))):
        i = data.draw(st.integers(0, len(log) - 1))
        j = data.draw(st.integers(i + 1, len(log)))
        log.insert(j, log[i])  # a copy anywhere after the original
    assert fold(log) == encode(compute(USER, fills))
    assert encode(compute(USER, log)) == encode(compute(USER, fills))


def _reference_pnl(fills: list[Fill]) -> dict[str, Fraction]:
    """FIFO with exact fractions (no split rounding), straight from the definitions."""
    digits = Rules().minor_digits
    lots: dict[tuple[str, str], deque[list[Fraction]]] = {}
    pnl: dict[str, Fraction] = {}
    for f in ordered(fills):
        fee = f.fee
        if fee is None:
            continue
        fee_q = fee_b = Fraction(0)
        if fee.asset == f.quote:
            fee_q = Fraction(fee.amount_minor, 10 ** digits[f.quote])
        elif fee.asset == f.base:
            fee_b = Fraction(fee.amount_minor, 10 ** digits[f.base])
        elif fee.amount_minor:
            if f.fee_quote_value is None:
                continue
            fee_q = Fraction(f.fee_quote_value.amount_minor, 10 ** digits[f.quote])
        value = Fraction(f.price) * Fraction(f.quantity)
        book = lots.setdefault(f.instrument, deque())
        if f.side is Side.BUY:
            if Fraction(f.quantity) - fee_b > 0:
                book.append([Fraction(f.quantity) - fee_b, value + fee_q])
            continue
        want = Fraction(f.quantity) + fee_b
        left, cost = want, Fraction(0)
        while left and book:
            q, c = book[0]
            take = min(q, left)
            cost += c * take / q
            book[0] = [q - take, c - c * take / q]
            if book[0][0] == 0:
                book.popleft()
            left -= take
        if left != want:
            proceeds = (value - fee_q) * (want - left) / want
            pnl[f.quote] = pnl.get(f.quote, Fraction(0)) + proceeds - cost
    return pnl


@FAST
@given(fills=fill_lists())
def test_pnl_is_the_exact_fifo_pnl_and_every_lots_cost_is_spent_once(fills: list[Fill]) -> None:
    state, trades = explain(USER, fills)
    reference = _reference_pnl(fills)
    for quote, book in state.books.items():
        everything = book.older
        for _, day in book.day_stats():
            everything = everything.then(day)
        # only the pro-rata splits round, each by at most half of 1e-18
        assert abs(Fraction(everything.pnl) - reference.get(quote, Fraction(0))) <= Fraction(
            2 * len(trades) + 2, 10**18)
        assert everything.closed == sum(1 for t in trades if t.quote == quote)
        assert Fraction(everything.pnl) == sum(
            (Fraction(t.pnl) for t in trades if t.quote == quote), Fraction(0))
    # cost conservation: what buys put in = what closes took + what is still open
    # (summed as fractions: exact whatever the default decimal context)
    put_in: dict[str, Fraction] = {}
    for f in fills:
        if f.side is Side.BUY:
            alone = compute(USER, [f]).instruments[f.instrument].lots
            put_in[f.quote] = put_in.get(f.quote, Fraction(0)) + sum(
                (Fraction(lot.cost) for lot in alone), Fraction(0))
    for quote in put_in:
        taken = sum((Fraction(t.cost) for t in trades if t.quote == quote), Fraction(0))
        still_open = sum((Fraction(lot.cost) for i in state.instruments.values()
                          if i.quote == quote for lot in i.lots), Fraction(0))
        assert taken + still_open == put_in[quote]


@FAST
@given(fills=fill_lists())
def test_windows_nest_and_figures_stay_in_range(fills: list[Fill]) -> None:
    record = figures(compute(USER, fills), T0 + 120 * DAY, ONE)
    for row in record.rows:
        counts = [w.closed_trades for w in row.windows]
        assert counts == sorted(counts)
        for w in row.windows:
            if w.withheld is None:
                assert w.win_rate is not None and Decimal(0) <= w.win_rate <= 1
                assert w.max_drawdown is not None and w.max_drawdown.amount_minor >= 0
                assert w.realised_pnl is not None and w.realised_pnl.asset == row.quote_asset
