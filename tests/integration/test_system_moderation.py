"""Reports, removal, appeal and restoration through the running stack (gateway, content,
social, Kafka): a reader reports a post (a repeat answers the first; the author cannot report
it), an operator sees it in the queue and confirms; the post is gone for everyone but its
author and operators (GET 404, the author's list, the topic page, no likes), the author is
notified with the reason and appeals once (again: 409); the operator upholds, the post is back
everywhere and the author is notified; a reported comment is dismissed and stays; clear 4xx
for bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def _moderation_notes(api: httpx.Client, headers: dict[str, str]) -> list[str]:
    page = api.get("/v1/notifications", headers=headers)
    assert page.status_code == 200, page.text
    return [n["subject_id"] for n in page.json()["notifications"] if n["kind"] == "moderation"]


def _ids(answer: httpx.Response, key: str = "posts") -> list[str]:
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()[key]
    return [i["post"]["post_id"] if "post" in i else i["post_id"] for i in items]


def test_report_remove_appeal_restore_through_the_gateway(
    stack: Stack, api: httpx.Client,
) -> None:
    author, reader = unique("author"), unique("reader")
    become_creator(stack, api, author)
    mine, theirs = mint(api, author), mint(api, reader)
    ops = mint(api, unique("op"), ["operator"])
    topic = unique("modtopic").replace("-", "_")[-30:]
    made = api.post("/v1/posts", json={"body": "guaranteed 100x, send coins",
                                       "hashtags": [topic]},
                    headers={**mine, "Idempotency-Key": unique("p")})
    assert made.status_code == 201, made.text
    pid = made.json()["post_id"]
    comment = api.post(f"/v1/posts/{pid}/comments", json={"text": "lol ok"},
                       headers={**theirs, "Idempotency-Key": unique("c")})
    assert comment.status_code == 201, comment.text
    cid = comment.json()["comment_id"]

    # Reports: once per reporter and item; never one's own.
    key = unique("r")
    first = api.post("/v1/reports", json={"item_id": pid, "reason": "scam", "detail": "x"},
                     headers={**theirs, "Idempotency-Key": key})
    assert first.status_code == 201 and first.json()["created"] is True, first.text
    again = api.post("/v1/reports", json={"item_id": pid, "reason": "scam"},
                     headers={**theirs, "Idempotency-Key": unique("r")})
    assert again.json()["report_id"] == first.json()["report_id"]
    assert again.json()["created"] is False
    own = api.post("/v1/reports", json={"item_id": pid, "reason": "spam"},
                   headers={**mine, "Idempotency-Key": unique("r")})
    assert own.status_code == 403 and own.json()["error"]
    bad = api.post("/v1/reports", json={"item_id": pid, "reason": "ugly"},
                   headers={**theirs, "Idempotency-Key": unique("r")})
    assert bad.status_code == 422 and bad.json()["error"]
    on_comment = api.post("/v1/reports", json={"item_id": cid, "reason": "harassment"},
                          headers={**mine, "Idempotency-Key": unique("r")})
    assert on_comment.status_code == 201, on_comment.text

    # The queue: operators only; both items, each once, with their reasons.
    assert api.get("/v1/operator/reports", headers=theirs).status_code == 403

    def queued() -> set[str]:
        seen: set[str] = set()
        cursor = ""
        while True:
            page = api.get("/v1/operator/reports", params={"limit": 100, "cursor": cursor},
                           headers=ops)
            assert page.status_code == 200, page.text
            seen.update(i["item_id"] for i in page.json()["items"])
            cursor = page.json()["next_cursor"] or ""
            if not cursor:
                return seen

    assert {pid, cid} <= queued()

    # Dismiss the comment's report: it stays.
    kept = api.post(f"/v1/operator/reports/{cid}/decision",
                    json={"decision": "dismiss", "reason": "banter"},
                    headers={**ops, "Idempotency-Key": unique("d")})
    assert kept.status_code == 200 and kept.json()["removed"] is False, kept.text
    # Confirm the post's: removed, the author told why.
    decision_key = unique("d")
    removed = api.post(f"/v1/operator/reports/{pid}/decision",
                       json={"decision": "confirm", "reason": "a pump scheme"},
                       headers={**ops, "Idempotency-Key": decision_key})
    assert removed.status_code == 200 and removed.json()["removed"] is True, removed.text
    assert removed.json()["removal_reason"] == "scam"
    retry = api.post(f"/v1/operator/reports/{pid}/decision",
                     json={"decision": "confirm", "reason": "a pump scheme"},
                     headers={**ops, "Idempotency-Key": decision_key})
    assert retry.status_code == 200 and retry.json() == removed.json()
    assert pid not in queued() and cid not in queued()

    assert api.get(f"/v1/posts/{pid}", headers=theirs).status_code == 404
    for who in (mine, ops):
        seen = api.get(f"/v1/posts/{pid}", headers=who)
        assert seen.status_code == 200 and seen.json()["removed_at_ms"] > 0
    assert pid not in _ids(api.get(f"/v1/creators/{author}/posts", headers=theirs))
    assert pid not in _ids(api.get(f"/v1/topics/{topic}/posts", headers=theirs))
    liked = api.put(f"/v1/posts/{pid}/like", headers=theirs)
    assert liked.status_code == 404 and liked.json()["error"]
    eventually(lambda: _moderation_notes(api, mine),
               lambda notes: f"item:{pid}:removed:1:scam" in notes)
    why = api.get(f"/v1/items/{pid}/moderation", headers=mine)
    assert why.status_code == 200 and why.json()["removal_note"] == "a pump scheme"
    assert why.json()["reasons"] == []  # the author never sees the reports
    assert api.get(f"/v1/items/{pid}/moderation", headers=theirs).status_code == 404

    # Appeal: the author, once.
    assert api.post(f"/v1/items/{pid}/appeal", json={"text": "mine"},
                    headers={**theirs, "Idempotency-Key": unique("a")}).status_code == 404
    appealed = api.post(f"/v1/items/{pid}/appeal", json={"text": "it was satire"},
                        headers={**mine, "Idempotency-Key": unique("a")})
    assert appealed.status_code == 200 and appealed.json()["appeal"] == "pending"
    twice = api.post(f"/v1/items/{pid}/appeal", json={"text": "please"},
                     headers={**mine, "Idempotency-Key": unique("a")})
    assert twice.status_code == 409 and twice.json()["error"]
    appeals = api.get("/v1/operator/appeals", params={"limit": 100}, headers=ops)
    assert pid in [i["item_id"] for i in appeals.json()["items"]]

    # Upheld: back everywhere, and the author is told.
    upheld = api.post(f"/v1/operator/appeals/{pid}/decision",
                      json={"decision": "uphold", "reason": "satire is allowed"},
                      headers={**ops, "Idempotency-Key": unique("ad")})
    assert upheld.status_code == 200 and upheld.json()["removed"] is False, upheld.text
    assert api.get(f"/v1/posts/{pid}", headers=theirs).status_code == 200
    assert pid in _ids(api.get(f"/v1/creators/{author}/posts", headers=theirs))
    eventually(lambda: _ids(api.get(f"/v1/topics/{topic}/posts", headers=theirs)),
               lambda ids: pid in ids)
    assert api.put(f"/v1/posts/{pid}/like", headers=theirs).status_code == 200
    eventually(lambda: _moderation_notes(api, mine),
               lambda notes: f"item:{pid}:restored:2" in notes)
    thread = api.get(f"/v1/posts/{pid}/comments", headers=theirs)
    assert thread.status_code == 200 and cid in [c["comment_id"] for c in
                                                 thread.json()["comments"]]
