"""docs/track-record.md's worked example, number for number: the tables are read from the
doc itself, so the page and the code cannot drift apart."""

from __future__ import annotations

import re
from decimal import Decimal

from track_record_builders import USER, doc_fills, doc_section, doc_table, ms

from services.social.domain.track_record import compute, explain, figures
from services.social.domain.track_record.figures import iso_ms

NOW = ms("2025-03-31T12:00:00Z")
PIECE = re.compile(r"^(F\d+) ([0-9.]+) = ([0-9.]+)$")


def test_the_closed_trades_table_is_what_the_code_closes() -> None:
    _, trades = explain(USER, doc_fills())
    rows = doc_table("trades")
    assert [r["closing fill"] for r in rows] == [t.fill_id for t in trades]
    for row, trade in zip(rows, trades, strict=True):
        pieces = [PIECE.match(p.strip()) for p in row["lot parts closed"].split(";")]
        assert all(pieces), row
        assert [(m.group(1), Decimal(m.group(2)), Decimal(m.group(3)))
                for m in pieces if m] == [(p.lot_fill_id, p.quantity, p.cost)
                                          for p in trade.pieces]
        assert Decimal(row["cost basis"]) == trade.cost
        assert Decimal(row["proceeds"].split("=")[-1]) == trade.proceeds
        assert Decimal(row["PnL"]) == trade.pnl
        assert (row["win"] == "yes") == (trade.pnl > 0)
        assert row["day"] == iso_ms(trade.closed_at_ms)[:10]


def test_the_figures_table_is_what_the_code_shows() -> None:
    record = figures(compute(USER, doc_fills()), NOW)
    assert [r.quote_asset for r in record.rows] == ["USDT"]
    (row,) = record.rows
    assert row.open_lots == 0
    expected = doc_table("figures")
    assert [e["window"] for e in expected] == [w.window for w in row.windows]
    for e, w in zip(expected, row.windows, strict=True):
        assert int(e["closed trades"]) == w.closed_trades
        assert (e["withheld"] or None) == w.withheld
        if w.withheld:
            assert not any(e[k] for k in ("wins", "realised PnL", "ROI", "win rate"))
            assert (w.wins, w.realised_pnl, w.roi, w.win_rate, w.max_drawdown,
                    w.max_drawdown_ratio) == (None,) * 6
            continue
        assert w.realised_pnl is not None and w.max_drawdown is not None
        assert int(e["wins"]) == w.wins
        assert Decimal(e["realised PnL"]) * 100 == w.realised_pnl.amount_minor
        assert w.realised_pnl.asset == "USDT"
        assert Decimal(e["ROI"]) == w.roi
        assert Decimal(e["win rate"]) == w.win_rate
        assert Decimal(e["max drawdown"]) * 100 == w.max_drawdown.amount_minor
        assert Decimal(e["drawdown ratio"]) == w.max_drawdown_ratio
        # the cost basis column is ROI's denominator: PnL / cost basis rounds to ROI
        assert (Decimal(e["realised PnL"]) / Decimal(e["cost basis"])).quantize(
            Decimal("0.000001")) == w.roi


def test_the_provenance_line_is_what_the_code_says() -> None:
    record = figures(compute(USER, doc_fills()), NOW)
    for w in record.rows[0].windows:
        assert w.provenance.text == doc_section("provenance")
        assert (w.provenance.fills, w.provenance.last_fill_id) == (10, "F10")


def test_the_windows_are_the_days_the_doc_names() -> None:
    (row,) = figures(compute(USER, doc_fills()), NOW).rows
    starts = {w.window: w.from_ms for w in row.windows}
    assert starts == {"7d": ms("2025-03-25T00:00:00Z"), "30d": ms("2025-03-02T00:00:00Z"),
                      "90d": ms("2025-01-01T00:00:00Z"), "all": None}
    assert {w.to_ms for w in row.windows} == {ms("2025-04-01T00:00:00Z")}
