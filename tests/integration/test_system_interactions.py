"""Comments, replies, likes and shares through the running stack (gateway -> content ->
social, signed): a comment and a reply notify whom they answer (REPLY), a like twice is one,
a retried comment is one, a blocked user's comment, like and share are 403, a thread pages
with no gap, and telemetry no longer takes a client's claim of an interaction (422)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def _replies(api: httpx.Client, headers: dict[str, str]) -> list[tuple[str, str]]:
    page = api.get("/v1/notifications", headers=headers)
    assert page.status_code == 200, page.text
    return [(n["actor_id"], n["subject_id"]) for n in page.json()["notifications"]
            if n["kind"] == "reply"]


def _comment(api: httpx.Client, post_id: str, headers: dict[str, str], text: str,
             parent: str | None = None, key: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"text": text}
    if parent:
        body["parent_comment_id"] = parent
    return api.post(f"/v1/posts/{post_id}/comments", json=body,
                    headers={**headers, "Idempotency-Key": key or unique("c")})


def test_comments_replies_likes_shares_blocks_and_no_claimed_interactions(
    stack: Stack,
) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as api:
        author, fan, troll = unique("author"), unique("fan"), unique("troll")
        for creator in (author, troll):  # a block names a user social knows
            become_creator(stack, api, creator)
        as_author, as_fan, as_troll = mint(api, author), mint(api, fan), mint(api, troll)
        made = api.post("/v1/posts", json={"body": "BTC range, watching 92k"},
                        headers={**as_author, "Idempotency-Key": unique("p")})
        assert made.status_code == 201, made.text
        post_id = made.json()["post_id"]

        # A comment (retried with its key: one comment), and a reply to it.
        first = _comment(api, post_id, as_fan, "what is your stop?", key="fan-c1")
        again = _comment(api, post_id, as_fan, "what is your stop?", key="fan-c1")
        assert first.status_code == 201 and again.status_code == 201, (first.text, again.text)
        comment = first.json()
        assert again.json()["comment_id"] == comment["comment_id"]
        assert comment["post_id"] == post_id and comment["author_id"] == fan
        reply = _comment(api, post_id, as_author, "89.5k", parent=comment["comment_id"])
        assert reply.status_code == 201 and reply.json()["depth"] == 1, reply.text

        # REPLY notifications: the post's author for the comment, the commenter for the reply.
        assert eventually(lambda: _replies(api, as_author),
                          lambda r: (fan, comment["comment_id"]) in r)
        assert eventually(lambda: _replies(api, as_fan),
                          lambda r: (author, reply.json()["comment_id"]) in r)

        # A like twice is one like; the counts show on the post.
        for _ in range(2):
            liked = api.put(f"/v1/posts/{post_id}/like", headers=as_fan)
            assert liked.status_code == 200, liked.text
        assert liked.json()["liked"] is True and liked.json()["stats"]["likes"] == 1
        shared = api.post(f"/v1/posts/{post_id}/shares", json={"quote": "worth a read"},
                          headers={**as_fan, "Idempotency-Key": "fan-s1"})
        assert shared.status_code == 201 and shared.json()["quote"] == "worth a read"
        # The post (and the creator's list of posts) carries its counts.
        counts = {"likes": 1, "comments": 2, "shares": 1}
        assert api.get(f"/v1/posts/{post_id}", headers=as_troll).json()["stats"] == counts
        listed = api.get(f"/v1/creators/{author}/posts", headers=as_troll)
        assert listed.status_code == 200, listed.text
        assert listed.json()["posts"][0]["stats"] == counts
        liked_comment = api.put(f"/v1/comments/{comment['comment_id']}/like", headers=as_author)
        assert liked_comment.json()["stats"]["likes"] == 1, liked_comment.text

        # The thread: top level newest first, replies under the comment.
        thread = api.get(f"/v1/posts/{post_id}/comments", headers=as_troll)
        assert thread.status_code == 200, thread.text
        assert [c["comment_id"] for c in thread.json()["comments"]] == [comment["comment_id"]]
        assert thread.json()["comments"][0]["stats"] == {"likes": 1, "comments": 1, "shares": 0}
        replies = api.get(f"/v1/posts/{post_id}/comments",
                          params={"parent": comment["comment_id"]}, headers=as_troll)
        assert [c["text"] for c in replies.json()["comments"]] == ["89.5k"]

        # Only the author edits; an edit shows its revision.
        assert api.patch(f"/v1/comments/{comment['comment_id']}", json={"text": "stop?"},
                         headers={**as_troll, "Idempotency-Key": "t-e1"}).status_code == 403
        edited = api.patch(f"/v1/comments/{comment['comment_id']}", json={"text": "stop?"},
                           headers={**as_fan, "Idempotency-Key": "f-e1"})
        assert edited.status_code == 200 and edited.json()["revision"] == 1, edited.text

        # The author blocks the troll: their comment, like and share are 403 with a reason.
        assert api.put(f"/v1/me/blocks/{troll}", headers=as_author).status_code == 200
        for refused in (
            _comment(api, post_id, as_troll, "boo"),
            api.put(f"/v1/posts/{post_id}/like", headers=as_troll),
            api.post(f"/v1/posts/{post_id}/shares", json={},
                     headers={**as_troll, "Idempotency-Key": unique("s")}),
        ):
            assert refused.status_code == 403, refused.text
            assert "blocked" in refused.json()["error"]

        # Bad input is a 4xx with a message, never a 5xx.
        for bad in (
            _comment(api, post_id, as_fan, "x" * 2001),
            _comment(api, post_id, as_fan, "   "),
            api.get(f"/v1/posts/{post_id}/comments", params={"cursor": "not-ours"},
                    headers=as_fan),
            api.get(f"/v1/posts/{post_id}/comments", params={"parent": "cmt_x"},
                    headers=as_fan),
        ):
            assert bad.status_code == 422 and bad.json()["error"], bad.text
        ghost = f"post_{'0' * 24}"
        assert _comment(api, ghost, as_fan, "hello?").status_code == 404

        # Telemetry takes views only: a claimed comment is refused, naming the route to use.
        claim = api.post("/v1/telemetry/batches", headers=as_fan, json={
            "batch_id": unique("b"), "events": [{
                "event_id": "e1", "item_id": post_id, "type": "interaction",
                "interaction": "comment", "text_length": 400,
                "occurred_at_ms": int(time.time() * 1000)}]})
        assert claim.status_code == 422, claim.text
        assert "/v1/posts/{post_id}/comments" in claim.json()["error"]


def test_a_thread_pages_with_no_gap_and_no_duplicate(stack: Stack) -> None:
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as api:
        author = unique("author")
        become_creator(stack, api, author)
        as_author = mint(api, author)
        post_id = api.post("/v1/posts", json={"body": "thread"},
                           headers={**as_author, "Idempotency-Key": unique("p")}
                           ).json()["post_id"]
        made = [_comment(api, post_id, mint(api, unique("fan")), f"c{i}").json()["comment_id"]
                for i in range(12)]
        seen: list[str] = []
        cursor = ""
        while True:
            page = api.get(f"/v1/posts/{post_id}/comments",
                           params={"limit": 5, "order": "oldest", "cursor": cursor},
                           headers=as_author).json()
            seen += [c["comment_id"] for c in page["comments"]]
            if page["next_cursor"] is None:
                break
            cursor = page["next_cursor"]
        assert seen == made
