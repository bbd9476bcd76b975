"""Reading the figures out of a state: per quote asset, per window, with provenance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

from planetkit.money import Money
from services.social.domain.track_record.arithmetic import EXACT, ratio, to_minor
from services.social.domain.track_record.fills import DEFAULT_RULES, Rules
from services.social.domain.track_record.series import MS_PER_DAY, DayStats, day_of
from services.social.domain.track_record.state import QuoteBook, TrackState

ALL_TIME = "all"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso_ms(ms: int) -> str:
    """Epoch ms as ISO 8601 UTC with milliseconds (integer arithmetic, no float)."""
    return (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Provenance:
    """Which fills a row's figures are computed from."""

    fills: int  # counted
    excluded: tuple[tuple[str, int], ...]  # read but not counted: (reason, count), by reason
    unmatched_sells: int  # sells (partly) beyond every open lot: that part is no trade
    last_fill_ms: int
    last_fill_id: str
    text: str


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """One window's figures; all None (with ``withheld``) below the minimum of closed trades."""

    window: str  # "7d", "30d", "90d" or "all"
    from_ms: int | None  # first instant of the window's first UTC day; None for all time
    to_ms: int  # end (exclusive) of the window's last UTC day
    closed_trades: int
    withheld: str | None
    wins: int | None
    realised_pnl: Money | None
    roi: Decimal | None  # realised PnL / cost basis of the closed quantity
    win_rate: Decimal | None
    max_drawdown: Money | None
    max_drawdown_ratio: Decimal | None  # max drawdown / the same cost basis
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class QuoteRecord:
    """The figures of one quote asset (never summed with another's)."""

    quote_asset: str
    open_lots: int
    windows: tuple[WindowFigures, ...]


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """A trader's track record at ``as_of_ms``, one row per quote asset."""

    user_id: str
    as_of_ms: int
    rows: tuple[QuoteRecord, ...]


def _provenance(book: QuoteBook) -> Provenance:
    excluded = tuple(sorted(book.excluded.items()))
    text = (f"computed from {book.fills} fills up to {iso_ms(book.last_ms)} "
            f"(last fill id {book.last_id})")
    if excluded:
        text += "; not counted: " + ", ".join(f"{n} {reason}" for reason, n in excluded)
    if book.unmatched_sells:
        text += f"; {book.unmatched_sells} sells beyond the recorded buys (that part is no trade)"
    return Provenance(book.fills, excluded, book.unmatched_sells, book.last_ms, book.last_id,
                      text)


def _window(name: str, label: str, from_ms: int | None, to_ms: int, stats: DayStats,
            digits: int | None, quote: str, rules: Rules,
            provenance: Provenance) -> WindowFigures:
    reason = None
    if digits is None:
        reason = f"the minor unit of {quote} is unknown: none of its fills is counted"
    elif stats.closed < rules.min_closed_trades:
        reason = (f"{stats.closed} closed trades {label}; a figure needs at least "
                  f"{rules.min_closed_trades}")
    if reason is not None or digits is None:
        return WindowFigures(name, from_ms, to_ms, stats.closed, reason, None, None, None, None,
                             None, None, provenance)
    return WindowFigures(
        name, from_ms, to_ms, stats.closed, None, stats.wins,
        Money(to_minor(stats.pnl, digits), quote),
        ratio(stats.pnl, stats.cost),  # cost > 0: every closed lot cost something
        ratio(Decimal(stats.wins), Decimal(stats.closed)),
        Money(to_minor(stats.path.drawdown, digits), quote),
        ratio(stats.path.drawdown, stats.cost),
        provenance,
    )


def _row(book: QuoteBook, today: int, rules: Rules, open_lots: int) -> QuoteRecord:
    digits = rules.minor_digits.get(book.quote)
    provenance = _provenance(book)
    days = book.day_stats()
    to_ms = (today + 1) * MS_PER_DAY
    windows = []
    for n in rules.windows_days:
        first = today - n + 1
        stats = DayStats()
        for day, day_stats in days:
            if first <= day <= today:
                stats = stats.then(day_stats)
        windows.append(_window(f"{n}d", f"in the last {n} days", first * MS_PER_DAY, to_ms,
                               stats, digits, book.quote, rules, provenance))
    everything = book.older
    for _, day_stats in days:
        everything = everything.then(day_stats)
    windows.append(_window(ALL_TIME, "in all time", None, to_ms, everything, digits,
                           book.quote, rules, provenance))
    return QuoteRecord(book.quote, open_lots, tuple(windows))


def figures(state: TrackState, now_ms: int, rules: Rules = DEFAULT_RULES) -> TrackRecord:
    """The record as of ``now_ms``: windows are the UTC days up to now's day, inclusive.

    A clock behind the trader's last fill reads as that fill's day (the record never shows
    a time before what it has counted).
    """
    today = max(day_of(now_ms), day_of(state.last_ms) if state.last_ms >= 0 else 0)
    rows = []
    with localcontext(EXACT):
        for quote in sorted(state.books):
            book = state.books[quote]
            open_lots = sum(len(i.lots) for i in state.instruments.values() if i.quote == quote)
            rows.append(_row(book, today, rules, open_lots))
    return TrackRecord(state.user_id, now_ms, tuple(rows))
