"""JSON of the creator track record (the API's shape of ``planet.social.v1.TrackRecord``).

Exact like the service: money as integer minor units with its asset (``{"amount_minor":
-70605, "asset": "USDT"}`` is -706.05 USDT), ratios as decimal strings (``"-0.019984"``),
never a JSON float. A withheld figure is ``null`` and the window says why.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from planet.social.v1 import track_record_pb2 as tr

RATIO_PATTERN = r"^-?[0-9]+\.[0-9]{6}$"
DOCS = "docs/track-record.md"


class MoneyOut(BaseModel):
    """An amount: integer minor units of ``asset`` (USDT: cents)."""

    amount_minor: int
    asset: str


class ProvenanceOut(BaseModel):
    """Which fills the row's figures come from."""

    fills: int = Field(description="Fills of this quote asset counted.")
    last_fill_ms: int | None = Field(description="Exchange time of the last fill read.")
    last_fill_id: str
    unmatched_sells: int = Field(
        description="Sells (partly) beyond every open lot: that part is no trade.")
    excluded: dict[str, int] = Field(
        description="Fills read but not counted, by reason (fee_asset_unknown, "
                    "fee_not_valued, no_minor_unit, fee_exceeds_quantity, beyond_precision).")
    text: str = Field(description='"computed from N fills up to T (last fill id F)" and more.')


class WindowOut(BaseModel):
    """One window's figures; every figure null (``withheld`` says why) below 5 closed trades."""

    window: str = Field(description='"7d", "30d", "90d" or "all".')
    from_ms: int | None = Field(description="First instant of the window's first UTC day; "
                                            "null for all time.")
    to_ms: int = Field(description="End (exclusive) of the window's last UTC day (today).")
    closed_trades: int
    withheld: str | None
    wins: int | None
    realised_pnl: MoneyOut | None
    roi: str | None = Field(pattern=RATIO_PATTERN,
                            description="Realised PnL / cost basis of the closed quantity.")
    win_rate: str | None = Field(pattern=RATIO_PATTERN, description="Wins / closed trades.")
    max_drawdown: MoneyOut | None
    max_drawdown_ratio: str | None = Field(pattern=RATIO_PATTERN,
                                           description="Max drawdown / the same cost basis.")
    provenance: ProvenanceOut


class QuoteRowOut(BaseModel):
    """The figures of one quote asset (never summed with another's)."""

    quote_asset: str
    open_lots: int
    windows: list[WindowOut]


class TrackRecordOut(BaseModel):
    """A trader's verified track record, computed from the exchange's fills as of ``as_of_ms``
    (definitions: docs/track-record.md)."""

    user_id: str
    as_of_ms: int
    definitions: str = DOCS
    rows: list[QuoteRowOut]


class VisibilityBody(BaseModel):
    """Hide (true) or show (false) the caller's track record."""

    model_config = ConfigDict(extra="forbid")

    hidden: bool


class VisibilityOut(BaseModel):
    """The track record's visibility after the call."""

    user_id: str
    hidden: bool


def _money(minor: int, asset: str, shown: bool) -> MoneyOut | None:
    return MoneyOut(amount_minor=minor, asset=asset) if shown else None


def _window(w: tr.TrackRecordWindow, asset: str) -> WindowOut:
    p = w.provenance
    shown = w.has_figures
    return WindowOut(
        window=w.window, from_ms=w.from_ms or None, to_ms=w.to_ms,
        closed_trades=w.closed_trades, withheld=w.withheld or None,
        wins=w.wins if shown else None,
        realised_pnl=_money(w.realised_pnl_minor, asset, shown),
        roi=w.roi or None, win_rate=w.win_rate or None,
        max_drawdown=_money(w.max_drawdown_minor, asset, shown),
        max_drawdown_ratio=w.max_drawdown_ratio or None,
        provenance=ProvenanceOut(fills=p.fills, last_fill_ms=p.last_fill_ms or None,
                                 last_fill_id=p.last_fill_id, unmatched_sells=p.unmatched_sells,
                                 excluded=dict(sorted(p.excluded.items())), text=p.text))


def track_record_out(record: tr.TrackRecord) -> TrackRecordOut:
    """JSON of a track record."""
    return TrackRecordOut(user_id=record.user_id, as_of_ms=record.as_of_ms, rows=[
        QuoteRowOut(quote_asset=row.quote_asset, open_lots=row.open_lots,
                    windows=[_window(w, row.quote_asset) for w in row.windows])
        for row in record.rows])
