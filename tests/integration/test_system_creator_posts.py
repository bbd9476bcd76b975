"""A creator's posts through the running stack: an open creator publishes three posts, and
their home page (by handle and by user id) shows them newest first; the list pages on from
the home page's cursor with no gap and no duplicate; a stranger sees the same; bad cursors and
limits are 422 with the error body."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, handle_for, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def _publish(api: httpx.Client, headers: dict[str, str], body: str) -> dict[str, Any]:
    resp = api.post("/v1/posts", json={"body": body, "hashtags": ["btc"]},
                    headers={**headers, "Idempotency-Key": unique("req")})
    assert resp.status_code == 201, resp.text
    post: dict[str, Any] = resp.json()
    return post


def _ids(posts: list[dict[str, Any]]) -> list[str]:
    return [p["post_id"] for p in posts]


def test_a_creators_home_page_shows_their_posts_newest_first(
    stack: Stack, api: httpx.Client,
) -> None:
    creator, stranger = unique("poster"), unique("reader")
    become_creator(stack, api, creator)
    mine, theirs = mint(api, creator), mint(api, stranger)
    published = [_publish(api, mine, f"post {i}") for i in range(3)]
    newest_first = _ids(sorted(published, key=lambda p: (-p["published_at_ms"], p["post_id"])))

    # By handle, by user id, and as the creator's own page: the same three, newest first.
    for path, headers in ((f"/v1/creators/{handle_for(creator)}", theirs),
                          (f"/v1/creators/{creator}", theirs), ("/v1/creators/me", mine)):
        page = eventually(lambda p=path, h=headers: api.get(p, headers=h),
                          lambda r: r.status_code == 200 and len(r.json()["posts"]) == 3)
        home = page.json()
        assert home["user_id"] == creator
        assert _ids(home["posts"]) == newest_first
        assert home["posts"][0]["body"] == next(
            p["body"] for p in published if p["post_id"] == newest_first[0])
        assert home["posts_next_cursor"] is None

    # The list pages one at a time: no gap, no duplicate, the last page has no cursor.
    seen: list[str] = []
    cursor = ""
    for _ in range(10):
        resp = api.get(f"/v1/creators/{creator}/posts",
                       params={"limit": 1, "cursor": cursor}, headers=theirs)
        assert resp.status_code == 200, resp.text
        seen += _ids(resp.json()["posts"])
        cursor = resp.json()["next_cursor"] or ""
        if not cursor:
            break
    assert seen == newest_first

    # A user who never published has an empty list (and their home page none).
    empty = api.get(f"/v1/creators/{stranger}/posts", headers=theirs)
    assert empty.status_code == 200 and empty.json() == {"posts": [], "next_cursor": None}


def test_the_home_page_carries_ten_and_the_cursor_to_the_rest(
    stack: Stack, api: httpx.Client,
) -> None:
    creator = unique("prolific")
    become_creator(stack, api, creator)
    mine = mint(api, creator)
    published = [_publish(api, mine, f"post {i}") for i in range(12)]
    newest_first = _ids(sorted(published, key=lambda p: (-p["published_at_ms"], p["post_id"])))
    home = eventually(lambda: api.get(f"/v1/creators/{creator}", headers=mine),
                      lambda r: r.status_code == 200 and r.json()["posts_next_cursor"]).json()
    assert _ids(home["posts"]) == newest_first[:10]
    rest = api.get(f"/v1/creators/{creator}/posts",
                   params={"cursor": home["posts_next_cursor"], "limit": 100}, headers=mine)
    assert rest.status_code == 200 and _ids(rest.json()["posts"]) == newest_first[10:]
    assert rest.json()["next_cursor"] is None


@pytest.mark.parametrize("params", [
    {"limit": 0}, {"limit": 101}, {"cursor": "no spaces"}, {"cursor": "A" * 65},
    {"cursor": "AAAA"},  # the right alphabet, but not a cursor content issued
])
def test_bad_list_parameters_are_422_with_the_error_body(
    api: httpx.Client, params: dict[str, Any],
) -> None:
    resp = api.get("/v1/creators/someone/posts", params=params, headers=mint(api, "someone"))
    assert resp.status_code == 422, resp.text
    assert set(resp.json()) == {"error"}
