"""The loose ends of posts, through the running stack (gateway, content, social, Kafka):

- POST /v1/posts takes every component kind (ticker, trade idea with timeframe, trade link,
  copy-trade card); a bad timeframe is a 422 with content's message;
- an edit that changes hashtags moves the post between topic pages (and arenas) with its new
  title, and a deletion takes it off them;
- comments, replies, likes, unlikes and shares on a deleted post are 404 "not found";
- an XSS payload is rendered to the same safe body_html on GET /v1/posts/{id}, the author's
  list, the home page and topic pages;
- the home page's latest posts carry their stats.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]

XSS = ('# T\n\n<script>alert(1)</script> [x](javascript:alert(1)) '
       '<img src=x onerror=alert(1)> [ok](https://example.com/a)')


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.attrs.extend((tag, k, v) for k, v in attrs)
        self.attrs.append((tag, "", None))


def _safe(html: str) -> bool:
    parser = _Tags()
    parser.feed(html)
    tags = {t for t, _, _ in parser.attrs}
    return (tags <= {"h1", "p", "a", "img", "strong", "em", "code"} and "script" not in tags
            and not any(k.startswith("on") for _, k, _ in parser.attrs)
            and not any((v or "").lower().startswith("javascript:") for _, _, v in parser.attrs))


def _tag(prefix: str) -> str:
    return unique(prefix).replace("-", "")


def _topic_ids(api: httpx.Client, who: dict[str, str], topic: str) -> list[str]:
    page = api.get(f"/v1/topics/{topic}/posts", headers=who)
    assert page.status_code == 200, page.text
    return [p["post"]["post_id"] for p in page.json()["posts"]]


def test_every_component_kind_through_the_gateway(stack: Stack, api: httpx.Client) -> None:
    creator = unique("cards")
    become_creator(stack, api, creator)
    mine = mint(api, creator)
    components: list[dict[str, Any]] = [
        {"ticker": {"symbol": "BTC"}},
        {"trade_idea": {"pair": "SOL/USDT", "side": "long", "entry": "180", "target": "205",
                        "stop": "171", "timeframe": "4h"}},
        {"trade_link": {"pair": "BTC/USDT", "side": "short"}},
        {"copy_trade": {}}]
    made = api.post("/v1/posts", json={"body": "cards", "components": components},
                    headers={**mine, "Idempotency-Key": unique("k")})
    assert made.status_code == 201, made.text
    assert made.json()["components"] == [
        {"ticker": {"symbol": "BTC"}, "trade_idea": None, "trade_link": None,
         "copy_trade": None},
        {"ticker": None, "trade_idea": components[1]["trade_idea"], "trade_link": None,
         "copy_trade": None},
        {"ticker": None, "trade_idea": None, "trade_link": components[2]["trade_link"],
         "copy_trade": None},
        {"ticker": None, "trade_idea": None, "trade_link": None, "copy_trade": {}}]
    got = api.get(f"/v1/posts/{made.json()['post_id']}", headers=mint(api, unique("r")))
    assert got.json()["components"] == made.json()["components"]

    bad = dict(components[1]["trade_idea"], timeframe="2h")
    refused = api.post("/v1/posts", json={"body": "x", "components": [{"trade_idea": bad}]},
                       headers={**mine, "Idempotency-Key": unique("k")})
    assert refused.status_code == 422
    assert "timeframe '2h' is not one of 15m, 1h, 4h, 1d, 1w" in refused.json()["error"]
    unknown = api.post("/v1/posts", json={"body": "x", "components": [
        {"trade_link": {"pair": "NOPE/USDT", "side": "long"}}]},
        headers={**mine, "Idempotency-Key": unique("k")})
    assert unknown.status_code == 422 and "NOPE/USDT" in unknown.json()["error"]


def test_edits_and_deletes_reach_topic_pages_and_interactions_stop(
    stack: Stack, api: httpx.Client,
) -> None:
    creator, reader = unique("mover"), unique("reader")
    become_creator(stack, api, creator)
    mine, theirs = mint(api, creator), mint(api, reader)
    operator = mint(api, unique("olga"), ["operator"])
    old, kept, new = _tag("old"), _tag("kept"), _tag("new")

    made = api.post("/v1/posts", json={"kind": "article", "title": "First", "summary": "one",
                                       "body": XSS, "hashtags": [old, kept]},
                    headers={**mine, "Idempotency-Key": unique("k")})
    assert made.status_code == 201, made.text
    pid, html = made.json()["post_id"], made.json()["body_html"]
    assert _safe(html) and "&lt;script&gt;" in html

    # The same safe HTML wherever the post is listed.
    assert api.get(f"/v1/posts/{pid}", headers=theirs).json()["body_html"] == html
    listed = eventually(lambda: api.get(f"/v1/creators/{creator}/posts", headers=theirs),
                        lambda r: r.status_code == 200 and bool(r.json()["posts"]))
    assert listed.json()["posts"][0]["body_html"] == html
    topic = eventually(lambda: api.get(f"/v1/topics/{kept}/posts", headers=theirs),
                       lambda r: r.status_code == 200 and bool(r.json()["posts"]))
    assert topic.json()["posts"][0]["post"]["body_html"] == html

    # The home page's latest posts carry their stats (after a like: 1).
    assert api.put(f"/v1/posts/{pid}/like", headers=theirs).status_code == 200
    home = eventually(lambda: api.get(f"/v1/creators/{creator}", headers=theirs),
                      lambda r: r.status_code == 200 and bool(r.json()["posts"])
                      and (r.json()["posts"][0]["stats"] or {}).get("likes") == 1)
    assert home.json()["posts"][0]["stats"] == {"likes": 1, "comments": 0, "shares": 0}
    assert home.json()["posts"][0]["body_html"] == html

    arena_id = unique("arena").replace("_", "-").lower()[-30:]
    put = api.put(f"/v1/operator/arenas/{arena_id}", json={"name": "Moves",
                                                           "topics": [old, kept, new]},
                  headers=operator)
    assert put.status_code == 200, put.text

    edited = api.patch(f"/v1/posts/{pid}", json={"title": "Second", "summary": "two",
                                                 "hashtags": [kept, new.upper()]},
                       headers={**mine, "Idempotency-Key": unique("e")})
    assert edited.status_code == 200, edited.text
    eventually(lambda: (_topic_ids(api, theirs, old), _topic_ids(api, theirs, new)),
               lambda pages: pages == ([], [pid]))
    kept_page = api.get(f"/v1/topics/{kept}/posts", headers=theirs).json()["posts"]
    assert [(p["post"]["title"], p["post"]["summary"]) for p in kept_page] == [("Second", "two")]
    arena = api.get(f"/v1/arenas/{arena_id}/posts", headers=theirs).json()["posts"]
    assert [p["post"]["post_id"] for p in arena] == [pid]

    assert api.delete(f"/v1/posts/{pid}", headers=mine).status_code == 200
    eventually(lambda: [_topic_ids(api, theirs, t) for t in (old, kept, new)],
               lambda pages: pages == [[], [], []])
    assert api.get(f"/v1/arenas/{arena_id}/posts", headers=theirs).json()["posts"] == []

    key = {"Idempotency-Key": unique("i")}
    for response in (
        api.post(f"/v1/posts/{pid}/comments", json={"text": "hi"}, headers={**theirs, **key}),
        api.put(f"/v1/posts/{pid}/like", headers=theirs),
        api.delete(f"/v1/posts/{pid}/like", headers=theirs),
        api.post(f"/v1/posts/{pid}/shares", json={"quote": ""}, headers={**theirs, **key}),
        api.post(f"/v1/posts/{pid}/comments", json={"text": "mine"}, headers={**mine, **key}),
    ):
        assert response.status_code == 404, response.text
        assert "not found" in response.json()["error"]
