"""A trader's track-record state and the fold that applies one fill to it.

The state holds what the definitions need and nothing per fill: the open lots of each
instrument (FIFO), per quote asset the counts behind the provenance, one ``DayStats`` per
retained UTC day (``RETAINED_DAYS``) and one for every older day, and the running sum of the
trades closed at the latest instant (one step of the drawdown path, still open to more trades
closed at that same millisecond). So it can live in a per-key store (``codec``).

``apply`` updates the state in place and returns it (a fold's accumulator: copying open lots
per fill would cost more than the fill). Keep ``encode(state)`` to go back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from services.social.domain.track_record.arithmetic import (
    EXACT,
    SPLIT_PLACES,
    ZERO,
    div_round,
    from_minor,
)
from services.social.domain.track_record.fills import (
    DEFAULT_RULES,
    RETAINED_DAYS,
    Fill,
    Rules,
    Side,
)
from services.social.domain.track_record.series import DayStats, Segment, day_of

# Why a well-formed fill is read but not counted (each has a count in the provenance).
FEE_ASSET_UNKNOWN = "fee_asset_unknown"  # a v1 fill with a non-zero fee: in which asset?
FEE_NOT_VALUED = "fee_not_valued"  # a fee in a third asset without the exchange's quote value
NO_MINOR_UNIT = "no_minor_unit"  # an asset whose minor unit the rules do not know
FEE_EXCEEDS_QUANTITY = "fee_exceeds_quantity"  # a buy whose base fee leaves nothing held
BEYOND_PRECISION = "beyond_precision"  # a number the exact 60-digit context cannot hold
EXCLUSION_REASONS = (FEE_ASSET_UNKNOWN, FEE_NOT_VALUED, NO_MINOR_UNIT, FEE_EXCEEDS_QUANTITY,
                     BEYOND_PRECISION)


class Lot:
    """What is still held of one buy: quantity of base and its cost in quote (fees included)."""

    __slots__ = ("cost", "fill_id", "quantity")

    def __init__(self, fill_id: str, quantity: Decimal, cost: Decimal) -> None:
        self.fill_id = fill_id
        self.quantity = quantity
        self.cost = cost


class Instrument:
    """One pair's open lots, oldest first, and the last fill read of it."""

    __slots__ = ("base", "last_id", "last_ms", "lots", "quote")

    def __init__(self, base: str, quote: str) -> None:
        self.base = base
        self.quote = quote
        self.lots: deque[Lot] = deque()
        self.last_ms = -1
        self.last_id = ""


class QuoteBook:
    """Everything of one quote asset: provenance counts and the series of closed trades."""

    __slots__ = ("days", "excluded", "fills", "last_id", "last_ms", "older", "pending_ms",
                 "pending_pnl", "quote", "unmatched_sells")

    def __init__(self, quote: str) -> None:
        self.quote = quote
        self.fills = 0  # counted
        self.excluded: dict[str, int] = {}  # read, not counted, by reason
        self.unmatched_sells = 0  # sells (partly) beyond every open lot
        self.last_ms = -1  # the latest fill read, by (time, id)
        self.last_id = ""
        self.days: dict[int, DayStats] = {}  # retained UTC days, ascending
        self.older = DayStats()  # every day before those
        self.pending_ms: int | None = None  # the latest closing instant ...
        self.pending_pnl = ZERO  # ... and the PnL closed at it (one path step)

    def read(self, fill: Fill) -> None:
        if (fill.filled_at_ms, fill.fill_id) > (self.last_ms, self.last_id):
            self.last_ms, self.last_id = fill.filled_at_ms, fill.fill_id

    def record(self, at_ms: int, pnl: Decimal, cost: Decimal) -> None:
        """One closed trade at ``at_ms``."""
        if self.pending_ms is not None and self.pending_ms != at_ms:
            self._settle_pending()
        day = day_of(at_ms)
        stats = self.days.get(day)
        if stats is None:
            self._retire_before(day - RETAINED_DAYS + 1)
            stats = DayStats()
        self.days[day] = stats.with_trade(pnl, cost)
        if self.pending_ms is None:
            self.pending_ms, self.pending_pnl = at_ms, pnl
        else:
            self.pending_pnl = EXACT.add(self.pending_pnl, pnl)

    def _settle_pending(self) -> None:
        assert self.pending_ms is not None
        day = day_of(self.pending_ms)
        self.days[day] = self.days[day].with_step(Segment.step(self.pending_pnl))
        self.pending_ms, self.pending_pnl = None, ZERO

    def _retire_before(self, first_kept: int) -> None:
        for day in sorted(self.days):
            if day >= first_kept:
                break
            self.older = self.older.then(self.days.pop(day))

    def day_stats(self) -> list[tuple[int, DayStats]]:
        """Every retained day ascending, the pending step included in its day."""
        out = []
        pending_day = None if self.pending_ms is None else day_of(self.pending_ms)
        for day in sorted(self.days):
            stats = self.days[day]
            if day == pending_day:
                stats = stats.with_step(Segment.step(self.pending_pnl))
            out.append((day, stats))
        return out


class TrackState:
    """One trader's state: instruments by (base, quote), books by quote asset."""

    __slots__ = ("books", "instruments", "last_ms", "user_id")

    def __init__(self, user_id: str) -> None:
        if not user_id:
            raise ValueError("a track record belongs to a user id")
        self.user_id = user_id
        self.last_ms = -1
        self.instruments: dict[tuple[str, str], Instrument] = {}
        self.books: dict[str, QuoteBook] = {}


@dataclass(frozen=True, slots=True)
class LotPiece:
    """The part of one lot a sell closed."""

    lot_fill_id: str
    quantity: Decimal
    cost: Decimal


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A sell that closed (part of) earlier buys: the audit line of one closed trade."""

    fill_id: str
    closed_at_ms: int
    base: str
    quote: str
    quantity: Decimal  # base leaving the holding: sold + a fee in base
    matched: Decimal  # of which matched to open lots
    pieces: tuple[LotPiece, ...]
    proceeds: Decimal  # price x quantity - fees in quote, pro rata to the matched part
    cost: Decimal
    pnl: Decimal


def new_state(user_id: str) -> TrackState:
    """An empty record for ``user_id``."""
    return TrackState(user_id)


def ignore_reason(state: TrackState, fill: Fill) -> str | None:
    """Why ``apply`` would leave the state as it is, or None when it applies ``fill``.

    A fill at or before the last fill read of its pair (by time, then id) is a redelivery
    (ignored: the same fill twice counts once) or arrived out of the exchange's order; so is
    one earlier than the trader's last fill of any pair. Telling the two apart would need
    every fill id forever; the log keeps them, and ``compute`` over it orders them.
    """
    instrument = state.instruments.get(fill.instrument)
    if instrument is not None and fill.order_key <= (instrument.last_ms, instrument.last_id):
        return (f"fill {fill.fill_id} is at or before the last fill read of "
                f"{fill.base}/{fill.quote} ({instrument.last_id}): a duplicate or out of order")
    if fill.filled_at_ms < state.last_ms:
        return (f"fill {fill.fill_id} at {fill.filled_at_ms} is before the trader's last fill "
                f"at {state.last_ms}: out of order")
    return None


def apply(state: TrackState, fill: Fill, rules: Rules = DEFAULT_RULES,
          journal: list[ClosedTrade] | None = None) -> TrackState:
    """``state`` with ``fill`` folded in (in place); a duplicate or late fill changes nothing.

    ``journal``, when given, receives the closed trade the fill made, with its lot pieces.
    """
    if fill.user_id != state.user_id:
        raise ValueError(f"fill {fill.fill_id} of {fill.user_id} is not {state.user_id}'s")
    if ignore_reason(state, fill) is not None:
        return state
    instrument = state.instruments.get(fill.instrument)
    if instrument is None:
        instrument = state.instruments[fill.instrument] = Instrument(fill.base, fill.quote)
    book = state.books.get(fill.quote)
    if book is None:
        book = state.books[fill.quote] = QuoteBook(fill.quote)
    instrument.last_ms, instrument.last_id = fill.order_key
    state.last_ms = fill.filled_at_ms
    book.read(fill)
    with localcontext(EXACT):
        try:
            terms = _terms(fill, rules)
        except ArithmeticError:  # Inexact/Overflow in EXACT: digits we cannot keep
            terms = BEYOND_PRECISION
        if isinstance(terms, str):
            book.excluded[terms] = book.excluded.get(terms, 0) + 1
            return state
        book.fills += 1
        quantity, value = terms
        if fill.side is Side.BUY:
            instrument.lots.append(Lot(fill.fill_id, quantity, value))
        else:
            _close(book, instrument, fill, quantity, value, journal)
    return state


def _terms(fill: Fill, rules: Rules) -> tuple[Decimal, Decimal] | str:
    """(base quantity, quote amount) the fill moves, fees in: for a buy, the lot's quantity
    and cost; for a sell, the quantity leaving the holding and the net proceeds. Or the
    reason it cannot be counted."""
    quote_digits = rules.minor_digits.get(fill.quote)
    if quote_digits is None:
        return NO_MINOR_UNIT
    fee, fee_in_quote, fee_in_base = fill.fee, ZERO, ZERO
    if fee is None:
        return FEE_ASSET_UNKNOWN
    if fee.asset == fill.quote:
        fee_in_quote = from_minor(fee.amount_minor, quote_digits)
    elif fee.asset == fill.base:
        base_digits = rules.minor_digits.get(fill.base)
        if base_digits is None:
            return NO_MINOR_UNIT
        fee_in_base = from_minor(fee.amount_minor, base_digits)
    elif fee.amount_minor:
        # A third asset: only the exchange's valuation converts it; we never pick a rate.
        if fill.fee_quote_value is None:
            return FEE_NOT_VALUED
        fee_in_quote = from_minor(fill.fee_quote_value.amount_minor, quote_digits)
    value = fill.price * fill.quantity
    if fill.side is Side.BUY:
        held = fill.quantity - fee_in_base
        if held <= 0:
            return FEE_EXCEEDS_QUANTITY
        return held, value + fee_in_quote
    return fill.quantity + fee_in_base, value - fee_in_quote


def _close(book: QuoteBook, instrument: Instrument, fill: Fill, quantity: Decimal,
           proceeds: Decimal, journal: list[ClosedTrade] | None) -> None:
    """Match a sell of ``quantity`` against the open lots, oldest first (FIFO)."""
    lots = instrument.lots
    remaining, cost = quantity, ZERO
    pieces: list[LotPiece] | None = [] if journal is not None else None
    while remaining > 0 and lots:
        lot = lots[0]
        if lot.quantity <= remaining:
            take, taken_cost = lot.quantity, lot.cost
            lots.popleft()
        else:
            # The closed part's cost pro rata; the rest stays with the lot, so the lot's
            # cost is spent exactly, whatever the rounding of the parts.
            take = remaining
            taken_cost = div_round(lot.cost * take, lot.quantity, SPLIT_PLACES)
            lot.quantity -= take
            lot.cost -= taken_cost
        remaining -= take
        cost += taken_cost
        if pieces is not None:
            pieces.append(LotPiece(lot.fill_id, take, taken_cost))
    if remaining > 0:
        # Sold more than the record holds (bought before the record, deposited): no cost
        # basis is known for that part, so it is no trade of the record.
        book.unmatched_sells += 1
    matched = quantity - remaining
    if matched == 0:
        return
    if remaining > 0:
        proceeds = div_round(proceeds * matched, quantity, SPLIT_PLACES)
    pnl = proceeds - cost
    book.record(fill.filled_at_ms, pnl, cost)
    if journal is not None and pieces is not None:
        journal.append(ClosedTrade(fill.fill_id, fill.filled_at_ms, fill.base, fill.quote,
                                   quantity, matched, tuple(pieces), proceeds, cost, pnl))


def ordered(fills: Iterable[Fill]) -> list[Fill]:
    """Fills in the record's order: exchange time, then fill id."""
    return sorted(fills, key=lambda f: f.order_key)


def compute(user_id: str, fills: Iterable[Fill], rules: Rules = DEFAULT_RULES) -> TrackState:
    """The state from a whole log of fills (any order; duplicates count once)."""
    state = new_state(user_id)
    for fill in ordered(fills):
        apply(state, fill, rules)
    return state


def explain(user_id: str, fills: Iterable[Fill],
            rules: Rules = DEFAULT_RULES) -> tuple[TrackState, list[ClosedTrade]]:
    """``compute`` and every closed trade it made, with the lots each closed (the audit)."""
    state, journal = new_state(user_id), list[ClosedTrade]()
    for fill in ordered(fills):
        apply(state, fill, rules, journal)
    return state, journal
