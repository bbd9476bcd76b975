"""The creator track record: realised PnL, ROI, win rate and drawdown from the exchange's fills.

Pure and exact: a function of the trader's fills ordered by (exchange time, fill id), in
``decimal.Decimal`` (no float anywhere), folded one fill at a time. The definitions, with a
worked example recomputed by the tests, are in docs/track-record.md; in short:

- **Fills counted**: the trader's own spot fills. An instrument is a base/quote pair; lots are
  matched per instrument. Spot has no shorts: a sell beyond every open lot has no known cost
  and that part is no trade (counted as an unmatched sell). A fill whose fee asset is unknown
  (v1), whose third-asset fee has no exchange valuation, whose asset has no known minor unit or
  whose base fee swallows the quantity bought is read but not counted, with its reason.
- **FIFO**: a sell closes the oldest open lots first; a split lot's cost goes pro rata to the
  closed part (18 places, half-even) and the remainder stays with the lot. FIFO over average
  cost: it is the tax-lot convention and recomputable by hand line by line.
- **Fees**: in quote, added to a buy's cost or taken from a sell's proceeds; in base, the buy
  holds less / the sell takes more out of the lots; in a third asset, only its exchange-reported
  ``fee_quote_value``. Amounts of different assets never add.
- **Closed trade**: a sell that closes (part of) earlier buys. PnL = proceeds - cost basis, in
  the quote asset. **Win**: PnL > 0 after fees (breakeven is no win). **Win rate** = wins /
  closed trades. **ROI** = realised PnL / cost basis of the closed quantity (the capital put at
  risk in those trades: comparable across traders of any size).
- **Max drawdown**: the largest fall of cumulative realised PnL from a running peak to a later
  trough (path from 0 at the window's start, one step per closing instant), in the quote asset
  and as a ratio of the same cost basis as ROI.
- **Windows**: 7, 30, 90 UTC days up to today inclusive, and all time; a trade belongs to the
  window of its closing fill's time. Fewer than 5 closed trades in a window: every figure is
  None with the reason.
- **Per quote asset**: one row each (USDT and USDC are never summed).
- **Rounding**: only at the end, half-even: money to the quote asset's minor unit, ratios to 6
  places. Sums and products run in a 60-digit context that traps ``Inexact``.
- **Provenance** per figure: "computed from N fills up to T (last fill id F)".
- **Idempotent**: a fill at or before the last read of its pair (by time, id) is ignored.

Use: ``state = new_state(user)``; ``apply(state, fill)`` per fill; ``figures(state, now_ms)``;
``encode(state)`` / ``decode(bytes)`` for a per-key store; ``compute``/``explain`` from a log.
"""

from services.social.domain.track_record.codec import StateCorrupt, decode, encode
from services.social.domain.track_record.figures import (
    ALL_TIME,
    Provenance,
    QuoteRecord,
    TrackRecord,
    WindowFigures,
    figures,
)
from services.social.domain.track_record.fills import DEFAULT_RULES, Fill, Rules, Side, fill_of
from services.social.domain.track_record.state import (
    ClosedTrade,
    LotPiece,
    TrackState,
    apply,
    compute,
    explain,
    ignore_reason,
    new_state,
)

__all__ = [
    "ALL_TIME", "DEFAULT_RULES", "ClosedTrade", "Fill", "LotPiece", "Provenance", "QuoteRecord",
    "Rules", "Side", "StateCorrupt", "TrackRecord", "TrackState", "WindowFigures", "apply",
    "compute", "decode", "encode", "explain", "figures", "fill_of", "ignore_reason",
    "new_state",
]
