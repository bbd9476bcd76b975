"""Topics, arenas and instruments through the running stack (the exchange simulator listed its
demo instruments when the stack came up): an unknown symbol is 422 naming it; a post tagged
#ＢＴＣ and one tagged #btc land on one topic page, newest first, with the instrument's current
price; an operator curates an arena whose page merges its topics; non-operators are 403; bad
parameters are 422 with the error body."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def _publish(api: httpx.Client, headers: dict[str, str], hashtags: list[str],
             components: list[dict[str, Any]] | None = None) -> httpx.Response:
    return api.post("/v1/posts", json={"body": "topics", "hashtags": hashtags,
                                       "components": components or []},
                    headers={**headers, "Idempotency-Key": unique("req")})


def _idea(pair: str) -> dict[str, Any]:
    return {"trade_idea": {"pair": pair, "side": "long", "entry": "100", "target": "120",
                           "stop": "90"}}


def _ids(page: dict[str, Any]) -> list[str]:
    return [p["post"]["post_id"] for p in page["posts"]]


def test_topic_pages_arenas_and_instruments(stack: Stack, api: httpx.Client) -> None:
    creator, reader = unique("topics"), unique("reader")
    become_creator(stack, api, creator)
    mine, theirs = mint(api, creator), mint(api, reader)
    operator = mint(api, unique("olga"), ["operator"])

    instruments = api.get("/v1/instruments", headers=theirs)
    assert instruments.status_code == 200, instruments.text
    listed = {i["symbol"]: i for i in instruments.json()["instruments"]}
    assert listed["BTC/USDT"]["last_price"] == "64000.25"

    refused = _publish(api, mine, ["btc"], [_idea("DOGE/USDT")])
    assert refused.status_code == 422, refused.text
    assert "unknown symbol 'DOGE/USDT'" in refused.json()["error"]

    # A tag unique to this run, in fullwidth and plain spellings: one topic.
    tag = unique("t").replace("-", "")
    wide = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in tag.upper())
    first = _publish(api, mine, [wide], [_idea("BTC/USDT")])
    assert first.status_code == 201, first.text
    second = _publish(api, mine, [tag])
    assert second.status_code == 201, second.text
    newest_first = [p["post_id"] for p in sorted(
        (first.json(), second.json()), key=lambda p: (-p["published_at_ms"], p["post_id"]))]
    page = eventually(lambda: api.get(f"/v1/topics/%23{wide}/posts", headers=theirs),
                      lambda r: r.status_code == 200 and len(r.json()["posts"]) == 2).json()
    assert page["topic"] == tag
    assert _ids(page) == newest_first
    idea = next(p for p in page["posts"] if p["post"]["post_id"] == first.json()["post_id"])
    assert idea["rendered"][0]["instrument"] == "BTC/USDT"
    assert idea["rendered"][0]["last_price"] == "64000.25"
    engaged = api.get(f"/v1/topics/{tag}/posts?order=engaged_7d", headers=theirs)
    assert engaged.status_code == 200 and engaged.json()["posts"] == []

    # Arenas: operators only; the arena's page merges its topics newest first.
    other = unique("u").replace("-", "")
    third = _publish(api, mine, [other])
    assert third.status_code == 201, third.text
    arena_id = unique("arena").replace("_", "-").lower()[-30:]
    body = {"name": "Run arena", "topics": [tag, other.upper()]}
    denied = api.put(f"/v1/operator/arenas/{arena_id}", json=body, headers=mine)
    assert denied.status_code == 403 and denied.json()["error"]
    put = api.put(f"/v1/operator/arenas/{arena_id}", json=body, headers=operator)
    assert put.status_code == 200, put.text
    assert put.json()["topics"] == [tag, other]
    arenas = eventually(lambda: api.get("/v1/arenas", headers=theirs),
                        lambda r: any(a["arena_id"] == arena_id for a in r.json()["arenas"]))
    assert arenas.status_code == 200
    merged = eventually(lambda: api.get(f"/v1/arenas/{arena_id}/posts", headers=theirs),
                        lambda r: r.status_code == 200 and len(r.json()["posts"]) == 3).json()
    assert _ids(merged)[0] == third.json()["post_id"]
    assert set(_ids(merged)) == {*newest_first, third.json()["post_id"]}

    for bad in (f"/v1/topics/{tag}/posts?order=hot", f"/v1/topics/{tag}/posts?limit=0",
                f"/v1/topics/{tag}/posts?cursor=not!a!cursor", "/v1/topics/a%20b/posts"):
        resp = api.get(bad, headers=theirs)
        assert resp.status_code == 422 and resp.json()["error"], (bad, resp.text)
    assert api.get("/v1/arenas/no-such-arena/posts", headers=theirs).status_code == 404
