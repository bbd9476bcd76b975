"""v2 exchange facts sit on the v1 topics beside v1 ones: the analytics sink stores both, with
Money fields walked into, amounts exact, the user pseudonymised for analysts."""

from __future__ import annotations

import json

from planet.exchange.v1 import events_pb2 as v1
from planet.exchange.v2 import events_pb2 as v2
from planetkit.envelope import encode, wrap
from planetkit.topics import ALL, FILLS, TRADE_FEES
from services.analytics.domain.flatten import Flattener, Record, sunk_sources
from services.analytics.domain.pseudonyms import Pseudonymizer

NOW = 1_764_000_000_000
PSEUDONYM = Pseudonymizer(b"unit-test-pseudonym-key-of-32-bytes!!")
FLATTENER = Flattener(PSEUDONYM)
SOURCES = sunk_sources(ALL, "")


def _rows(topic: str, payload: object, event_id: str) -> tuple[dict[str, object], ...]:
    env = wrap(payload, event_id=event_id, source="exchange",  # type: ignore[arg-type]
               aggregate_id="frank", occurred_at_ms=NOW)
    rows = FLATTENER.to_rows(Record(topic=topic, partition=0, offset=1, value=encode(env)),
                             SOURCES[topic], NOW)
    [operator], [analyst] = rows.operator, rows.analyst
    assert analyst.event_type == operator.event_type == env.type
    return json.loads(operator.payload_json), json.loads(analyst.payload_json)


def test_v1_and_v2_fees_both_sink_with_money_exact_and_the_user_pseudonymised() -> None:
    big = 2**63 - 1
    fee = v2.TradeFeeCharged(fee_id="f1", user_id="frank",
                             fee=v2.Money(amount_minor=big, asset="BTC"),
                             quote_value=v2.Money(amount_minor=160_000, asset="USDT"),
                             charged_at_ms=NOW)
    operator, analyst = _rows(TRADE_FEES.name, fee, "f1")
    assert operator["fee"] == {"amount_minor": big, "asset": "BTC"}
    assert analyst["quote_value"] == {"amount_minor": 160_000, "asset": "USDT"}
    assert analyst["user_id"] == PSEUDONYM("frank") and analyst["fee_id"] == PSEUDONYM("f1")
    old = v1.TradeFeeCharged(fee_id="f0", user_id="frank", amount_minor=5, currency="USDT")
    assert _rows(TRADE_FEES.name, old, "f0")[0]["currency"] == "USDT"


def test_v2_fills_sink_with_side_assets_and_values() -> None:
    fill = v2.OrderFilled(fill_id="x1", user_id="frank", base_asset="BTC", quote_asset="USDT",
                          side=v2.SIDE_BUY, price="64000.25", quantity="0.0015",
                          fee=v2.Money(amount_minor=150, asset="BTC"),
                          quote_value=v2.Money(amount_minor=9600, asset="USDT"),
                          fee_quote_value=v2.Money(amount_minor=10, asset="USDT"),
                          filled_at_ms=NOW)
    operator, analyst = _rows(FILLS.name, fill, "x1")
    assert operator["price"] == "64000.25" and operator["base_asset"] == "BTC"
    assert analyst["fee"] == {"amount_minor": 150, "asset": "BTC"}
    assert analyst["user_id"] == PSEUDONYM("frank")
    assert "frank" not in json.dumps(analyst)
