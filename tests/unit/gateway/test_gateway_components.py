"""POST /v1/posts takes every component kind the content service takes (ticker, trade idea
with its timeframe, trade link, copy-trade card), hands each to content unchanged, answers
them back, documents them with examples, and refuses a component that is not exactly one
kind with a 422 naming the kinds."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from gateway_fakes import Fakes, bearer

from planet.content.v1 import events_pb2 as ev

EVERY_KIND: list[dict[str, Any]] = [
    {"ticker": {"symbol": "BTC"}},
    {"trade_idea": {"pair": "SOL/USDT", "side": "short", "entry": "180", "target": "150",
                    "stop": "190", "timeframe": "4h"}},
    {"trade_link": {"pair": "BTC/USDT", "side": "long"}},
    {"copy_trade": {}},
]


def _publish(client: TestClient, components: list[dict[str, Any]], key: str = "c1") -> Any:
    return client.post("/v1/posts", json={"body": "gm", "components": components},
                       headers={**bearer("alice"), "Idempotency-Key": key})


def test_every_component_kind_reaches_content_and_comes_back(
    client: TestClient, fakes: Fakes,
) -> None:
    response = _publish(client, EVERY_KIND)
    assert response.status_code == 201, response.text
    post = response.json()
    assert [c["ticker"] for c in post["components"]] == [{"symbol": "BTC"}, None, None, None]
    assert post["components"][1]["trade_idea"]["timeframe"] == "4h"
    assert post["components"][2]["trade_link"] == {"pair": "BTC/USDT", "side": "long"}
    assert post["components"][3]["copy_trade"] == {}
    stored = fakes.content.posts[post["post_id"]]
    assert [c.WhichOneof("component") for c in stored.components] == [
        "ticker", "trade_idea", "trade_link", "copy_trade"]
    assert stored.components[1].trade_idea.side == ev.TRADE_SIDE_SHORT
    assert stored.components[1].trade_idea.timeframe == "4h"
    assert stored.components[2].trade_link.side == ev.TRADE_SIDE_LONG
    got = client.get(f"/v1/posts/{post['post_id']}", headers=bearer("bob"))
    assert got.json()["components"] == post["components"]


def test_a_component_of_no_or_two_kinds_is_refused(client: TestClient, fakes: Fakes) -> None:
    calls = len(fakes.content.callers)
    for bad in ({}, {"copy_trade": {}, "ticker": {"symbol": "BTC"}},
                {"trade_link": {"pair": "BTC/USDT"}}, {"copy_trade": {"creator": "x"}},
                {"trade_idea": {"pair": "BTC/USDT", "side": "long", "entry": "1",
                                "target": "2", "stop": "0.5", "timeframe": "x" * 17}}):
        response = _publish(client, [bad], key="bad")
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["error"]
    assert len(fakes.content.callers) == calls  # refused before content is asked
    two = _publish(client, [{"copy_trade": {}, "ticker": {"symbol": "BTC"}}], key="two")
    assert "exactly one of ticker, trade_idea, trade_link, copy_trade" in two.json()["error"]


def test_openapi_documents_every_kind_with_examples(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    component = schemas["Component"]
    assert set(component["properties"]) == {"ticker", "trade_idea", "trade_link",
                                             "copy_trade"}
    assert {next(iter(e)) for e in component["examples"]} == set(component["properties"])
    assert "timeframe" in schemas["TradeIdea"]["properties"]
    body = schemas["PublishPostBody"]
    assert any("trade_link" in c for e in body["examples"] for c in e.get("components", []))
