"""A creator's track record through the running stack: the worked example of
docs/track-record.md, published as the exchange simulator publishes fills (dates moved so the
record is read on the example's "today"), comes back from the gateway equal to the table
below, computed by hand (not by the library); hiding it makes it 404 for a stranger while its
owner still sees it."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from system_helpers import eventually, kyc, mint, open_identity, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]

EXAMPLE_TODAY = date(2025, 3, 31)
# (fill, day, pair, side, price, quantity, fee minor, fee asset, fee value in USDT minor)
# as in docs/track-record.md; every fill at 10:00 UTC of its day.
FILLS = [
    ("F1", date(2024, 12, 2), "BTC/USDT", "buy", "40000", "0.5", 1000, "USDT", None),
    ("F2", date(2024, 12, 20), "BTC/USDT", "buy", "42000", "0.5005", 50_000, "BTC", None),
    ("F3", date(2024, 12, 28), "BTC/USDT", "sell", "45000", "0.3", 1350, "USDT", None),
    ("F6", date(2025, 2, 10), "ETH/USDT", "buy", "2000", "2", 400, "USDT", None),
    ("F7", date(2025, 2, 12), "ETH/USDT", "buy", "2300", "1", 230, "USDT", None),
    ("F8", date(2025, 2, 25), "ETH/USDT", "sell", "2100", "1", 210, "USDT", None),
    ("F4", date(2025, 3, 5), "BTC/USDT", "sell", "38000", "0.4", 2, "BGB", 760),
    ("F9", date(2025, 3, 10), "ETH/USDT", "sell", "2200", "1.5", 330, "USDT", None),
    ("F5", date(2025, 3, 27), "BTC/USDT", "sell", "43000", "0.2997", 30_000, "BTC", None),
    ("F10", date(2025, 3, 29), "ETH/USDT", "sell", "2310", "0.5", 385, "USDT", None),
]
LESS_THAN_5 = "{n} closed trades in the last {d} days; a figure needs at least 5"
# By hand (docs/track-record.md, "The figures"): USDT cents, ratios to 6 places half-even.
# window: (closed trades, wins, PnL, ROI, win rate, max drawdown, drawdown ratio, withheld)
HAND_TABLE: dict[str, tuple[Any, ...]] = {
    "7d": (2, None, None, None, None, None, None, LESS_THAN_5.format(n=2, d=7)),
    "30d": (4, None, None, None, None, None, None, LESS_THAN_5.format(n=4, d=30)),
    # F8 + F4 + F9 + F5 + F10: 95.90 - 1220.00 + 143.55 + 274.50 + 0.00 = -706.05 over a cost
    # basis of 35331.30; peak 95.90 after F8, trough -1124.10 after F4.
    "90d": (5, 3, -70605, "-0.019984", "0.600000", 122000, "0.034530", None),
    # + F3 (1480.50 on 12006.00): 774.45 over 47337.30; peak 1576.40, trough 356.40.
    "all": (6, 4, 77445, "0.016360", "0.666667", 122000, "0.025772", None),
}


def _at(day: date, shift: timedelta) -> int:
    moment = datetime(day.year, day.month, day.day, 10, tzinfo=UTC) + shift
    return int(moment.timestamp()) * 1000


def _publish(stack: Stack, user: str, shift: timedelta) -> None:
    from planetkit.kafka.producer import make_producer
    from planetkit.service_identities import EXCHANGE
    from simulators.exchange.facts import ExchangeTopics, publish_fill

    async def go() -> None:
        producer = make_producer(stack.bootstrap, writer=EXCHANGE)
        await producer.start()
        try:
            for fill, day, pair, side, price, qty, fee, fee_asset, valued in FILLS:
                await publish_fill(producer, ExchangeTopics.with_suffix(stack.topic_suffix),
                                   user, pair, side, price, qty, fee,
                                   fill_id=f"{user}-{fill}", filled_at_ms=_at(day, shift),
                                   fee_asset=fee_asset, fee_quote_value_minor=valued)
        finally:
            await producer.stop()

    asyncio.run(go())


def _windows(record: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    (row,) = record["rows"]
    assert row["quote_asset"] == "USDT" and row["open_lots"] == 0
    out = {}
    for w in row["windows"]:
        money = [None if m is None else (m["amount_minor"], m["asset"])
                 for m in (w["realised_pnl"], w["max_drawdown"])]
        assert all(m is None or m[1] == "USDT" for m in money)
        out[w["window"]] = (w["closed_trades"], w["wins"],
                            None if money[0] is None else money[0][0], w["roi"], w["win_rate"],
                            None if money[1] is None else money[1][0],
                            w["max_drawdown_ratio"], w["withheld"])
    return out


def test_scripted_fills_give_the_hand_computed_table_and_hiding_is_404_for_strangers(
    stack: Stack, api: httpx.Client,
) -> None:
    creator, stranger = unique("erin"), unique("frank")
    kyc(stack, creator)
    opened = open_identity(api, creator)
    assert opened.status_code == 201, opened.text
    # The example is read on 2025-03-31; here "today" is the real today, so every fill moves
    # by whole days (windows are whole UTC days, so the figures cannot change).
    shift = timedelta(days=(datetime.now(UTC).date() - EXAMPLE_TODAY).days)
    _publish(stack, creator, shift)

    owner, other = mint(api, creator), mint(api, stranger)
    url = f"/v1/creators/{creator}/track-record"
    got = eventually(
        lambda: api.get(url, headers=other),
        lambda r: r.status_code == 200 and bool(r.json()["rows"])
        and r.json()["rows"][0]["windows"][0]["provenance"]["fills"] == 10)
    record = got.json()
    assert _windows(record) == HAND_TABLE
    (row,) = record["rows"]
    last = datetime.fromtimestamp(_at(date(2025, 3, 29), shift) / 1000, UTC)
    provenance = (f"computed from 10 fills up to {last.strftime('%Y-%m-%dT%H:%M:%S')}.000Z "
                  f"(last fill id {creator}-F10)")
    assert {w["provenance"]["text"] for w in row["windows"]} == {provenance}
    assert record["definitions"] == "docs/track-record.md"
    # The home page carries the same figures.
    page = api.get(f"/v1/creators/{creator}", headers=other).json()
    assert page["track_record_hidden"] is False
    assert _windows(page["track_record"]) == HAND_TABLE

    # Only the creator switches it; hidden, a stranger gets 404 and its owner still sees it.
    not_theirs = api.put(f"{url}/visibility", json={"hidden": True}, headers=other)
    assert not_theirs.status_code == 403, not_theirs.text
    hidden = api.put(f"{url}/visibility", json={"hidden": True}, headers=owner)
    assert hidden.status_code == 200 and hidden.json() == {"user_id": creator, "hidden": True}
    gone = api.get(url, headers=other)
    assert gone.status_code == 404 and gone.json()["error"], gone.text
    assert _windows(api.get(url, headers=owner).json()) == HAND_TABLE
    operator = mint(api, unique("olga"), ["operator"])
    assert _windows(api.get(url, headers=operator).json()) == HAND_TABLE
    page = api.get(f"/v1/creators/{creator}", headers=other).json()
    assert page["track_record_hidden"] is True and page["track_record"] is None
    own_page = api.get(f"/v1/creators/{creator}", headers=owner).json()
    assert _windows(own_page["track_record"]) == HAND_TABLE
    bad = api.put(f"{url}/visibility", json={"hidden": "maybe"}, headers=owner)
    assert bad.status_code == 422 and bad.json()["error"]
