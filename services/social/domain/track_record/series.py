"""The compact series of closed-trade results: one summary per UTC day, exact to the trade.

Maximum drawdown is a property of the whole path of cumulative realised PnL, yet a day's
results can be kept as four numbers and still give the exact per-trade drawdown of any run
of days: a ``Segment`` (total, highest and lowest running sum, largest fall inside) is a
monoid, and combining two segments in order gives the segment of the joined path. So the
state keeps a ``DayStats`` per retained day and one for everything older, never the trades.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from services.social.domain.track_record.arithmetic import EXACT, ZERO

MS_PER_DAY = 86_400_000


def day_of(ms: int) -> int:
    """The UTC day number (days since 1970-01-01) of an epoch-ms instant."""
    return ms // MS_PER_DAY


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the cumulative-PnL path, starting at 0 (the running sum before its first step).

    ``high``/``low``: the highest/lowest running sum, counting the start (so high >= 0 >= low);
    ``drawdown``: the largest fall from a running high to a later running low (>= 0).
    """

    total: Decimal = ZERO
    high: Decimal = ZERO
    low: Decimal = ZERO
    drawdown: Decimal = ZERO

    @staticmethod
    def step(pnl: Decimal) -> Segment:
        """One step of the path: every trade closed at one instant, summed."""
        return Segment(pnl, max(ZERO, pnl), min(ZERO, pnl), max(ZERO, EXACT.minus(pnl)))

    def then(self, later: Segment) -> Segment:
        """This run followed by ``later`` (associative; ``Segment()`` is the identity)."""
        add = EXACT.add
        low = add(self.total, later.low)
        return Segment(
            add(self.total, later.total),
            max(self.high, add(self.total, later.high)),
            min(self.low, low),
            max(self.drawdown, later.drawdown, EXACT.subtract(self.high, low)),
        )


@dataclass(frozen=True, slots=True)
class DayStats:
    """The closed trades of a run of days: counts, sums and their path."""

    closed: int = 0
    wins: int = 0
    pnl: Decimal = ZERO
    cost: Decimal = ZERO
    path: Segment = Segment()

    def then(self, later: DayStats) -> DayStats:
        """This run followed by ``later``."""
        return DayStats(self.closed + later.closed, self.wins + later.wins,
                        EXACT.add(self.pnl, later.pnl), EXACT.add(self.cost, later.cost),
                        self.path.then(later.path))

    def with_trade(self, pnl: Decimal, cost: Decimal) -> DayStats:
        """Counts and sums with one more closed trade (its step joins the path separately)."""
        return DayStats(self.closed + 1, self.wins + (1 if pnl > 0 else 0),
                        EXACT.add(self.pnl, pnl), EXACT.add(self.cost, cost), self.path)

    def with_step(self, step: Segment) -> DayStats:
        """The path with one more step appended."""
        return DayStats(self.closed, self.wins, self.pnl, self.cost, self.path.then(step))
