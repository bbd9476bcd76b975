"""Fills written as people write them (decimal strings, ISO times) and docs/track-record.md's
tables read back, for the track-record tests."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from planetkit.money import Money
from services.social.domain.track_record import Fill, Side

DOC = Path(__file__).resolve().parents[3] / "docs" / "track-record.md"
# Minor digits for building fee amounts (BGB only ever reaches the code as a third-asset fee).
DIGITS = {"USDT": 2, "USDC": 2, "EUR": 2, "BTC": 8, "ETH": 8, "SOL": 8, "BGB": 8}
USER = "erin"


def ms(iso: str) -> int:
    """ISO 8601 UTC (``...Z``) as epoch ms, by integer arithmetic."""
    when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return int(when.timestamp()) * 1000 + when.microsecond // 1000


def minor(amount: str, asset: str) -> int:
    """``amount`` whole units of ``asset`` in its minor units (must be exact)."""
    scaled = Decimal(amount).scaleb(DIGITS[asset])
    assert scaled == scaled.to_integral_value(), f"{amount} {asset} is finer than a minor unit"
    return int(scaled)


def fill(fill_id: str, at: str | int, pair: str, side: str, price: str, quantity: str,
         fee: str | None = "0", fee_asset: str | None = None, fee_value: str | None = None,
         user: str = USER) -> Fill:
    """A fill; the fee in the quote asset unless ``fee_asset``; ``fee_value`` in quote."""
    base, quote = pair.split("/")
    asset = fee_asset or quote
    return Fill(
        fill_id=fill_id, user_id=user, base=base, quote=quote, side=Side(side),
        price=Decimal(price), quantity=Decimal(quantity),
        fee=None if fee is None else Money(minor(fee, asset), asset),
        fee_quote_value=None if fee_value is None else Money(minor(fee_value, quote), quote),
        filled_at_ms=at if isinstance(at, int) else ms(at),
    )


def doc_section(name: str) -> str:
    """The text between ``<!-- example:name -->`` and its closing marker in the doc."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- example:{name} -->\n(.*?)<!-- /example:{name} -->", text, re.S)
    assert found, f"docs/track-record.md lacks the example:{name} section"
    return found.group(1).strip()


def doc_table(name: str) -> list[dict[str, str]]:
    """The markdown table of a doc section, one dict per row keyed by header."""
    lines = [line.strip() for line in doc_section(name).splitlines() if line.strip()]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    header, rows = cells[0], cells[2:]
    assert all(len(r) == len(header) for r in rows), f"ragged table {name}"
    return [dict(zip(header, r, strict=True)) for r in rows]


def doc_fills() -> list[Fill]:
    """The worked example's fills, from the doc's table."""
    out = []
    for row in doc_table("fills"):
        # The exchange values every fee in the quote asset; the code reads it only for a fee
        # in a third asset.
        out.append(fill(row["fill"], row["time (UTC)"], row["pair"], row["side"], row["price"],
                        row["quantity"], row["fee"], row["fee asset"], row["fee value in USDT"]))
    return out
