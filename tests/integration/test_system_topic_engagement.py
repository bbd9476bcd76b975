"""The most-engaged topic pages through the running stack (gateway -> content, social): after
real likes, comments and shares through the API, `GET /v1/topics/{topic}/posts?order=engaged_*`
lists the topic's engaged posts by distinct engaging users, the author's own like and a
sanctioned account's left out; a post nobody engaged is not on it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def _ranked(page: dict[str, Any]) -> list[tuple[str, int]]:
    return [(p["post"]["post_id"], p["engaged_users"]) for p in page["posts"]]


def test_most_engaged_pages_rank_real_interactions(stack: Stack, api: httpx.Client) -> None:
    creator = unique("engaged")
    fans = [unique(f"fan{i}") for i in range(3)]
    banned = unique("banned")
    become_creator(stack, api, creator)
    as_creator = mint(api, creator)
    as_fans = [mint(api, fan) for fan in fans]
    as_banned = mint(api, banned)
    operator = mint(api, unique("olga"), ["operator"])
    sanctioned = api.post(f"/v1/operator/accounts/{banned}/sanctions",
                          json={"reason": "spam ring"}, headers=operator)
    assert sanctioned.status_code == 201, sanctioned.text

    tag = unique("eng").replace("-", "").replace("_", "")
    ids = []
    for n in range(3):
        made = api.post("/v1/posts", json={"body": f"engaged {n}", "hashtags": [tag]},
                        headers={**as_creator, "Idempotency-Key": unique("p")})
        assert made.status_code == 201, made.text
        ids.append(made.json()["post_id"])
    _quiet, once, most = ids  # _quiet: nobody engages it

    # most: three fans (a like, a comment, a share); once: one fan, the author's own like and
    # a sanctioned account's like and comment; quiet: nobody.
    for as_fan in as_fans:
        assert api.put(f"/v1/posts/{most}/like", headers=as_fan).status_code == 200
    comment = api.post(f"/v1/posts/{most}/comments", json={"text": "stop?"},
                       headers={**as_fans[0], "Idempotency-Key": unique("c")})
    assert comment.status_code == 201, comment.text
    shared = api.post(f"/v1/posts/{most}/shares", json={"quote": "watch this"},
                      headers={**as_fans[1], "Idempotency-Key": unique("s")})
    assert shared.status_code == 201, shared.text
    for headers in (as_fans[2], as_creator, as_banned):
        liked = api.put(f"/v1/posts/{once}/like", headers=headers)
        assert liked.status_code == 200, liked.text
    said = api.post(f"/v1/posts/{once}/comments", json={"text": "buy my course"},
                    headers={**as_banned, "Idempotency-Key": unique("c")})
    assert said.status_code == 201, said.text

    want = [(most, 3), (once, 1)]
    reader = as_fans[0]
    for order in ("engaged_24h", "engaged_7d"):
        page = _engaged_page(api, tag, order, reader, want)
        assert page["topic"] == tag and not page["next_cursor"]
    first = api.get(f"/v1/topics/{tag}/posts?order=engaged_24h&limit=1", headers=reader)
    assert first.status_code == 200 and _ranked(first.json()) == [(most, 3)]
    rest = api.get(f"/v1/topics/{tag}/posts?order=engaged_24h&limit=1"
                   f"&cursor={first.json()['next_cursor']}", headers=reader)
    assert rest.status_code == 200 and _ranked(rest.json()) == [(once, 1)]
    # Newest first still lists every post, the quiet one too, without engagement counts.
    newest = api.get(f"/v1/topics/{tag}/posts", headers=reader).json()
    assert sorted(p["post"]["post_id"] for p in newest["posts"]) == sorted(ids)
    assert {p["engaged_users"] for p in newest["posts"]} == {0}


def _engaged_page(api: httpx.Client, tag: str, order: str, headers: dict[str, str],
                  want: list[tuple[str, int]]) -> dict[str, Any]:
    """The page once it ranks ``want`` (the topic's owner reads the copies a fetch later)."""
    page = eventually(lambda: api.get(f"/v1/topics/{tag}/posts?order={order}", headers=headers),
                      lambda r: r.status_code == 200 and _ranked(r.json()) == want)
    body: dict[str, Any] = page.json()
    return body
