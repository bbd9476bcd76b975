"""Drafts through the running stack (gateway, content, social, Kafka): an author starts a
draft (a retried create answers the same one), autosaves it from two tabs (the stale tab
gets a 409 and overwrites nothing), lists and resumes it; another user gets 404 for every
route naming it and an empty list of their own; publishing validates it as an article and
gives a post anyone reads, publishing again answers the same post, and the published draft
leaves the list."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from system_helpers import become_creator, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]


def test_drafts_are_private_autosaved_against_revisions_and_published_once(
    stack: Stack, api: httpx.Client,
) -> None:
    author, other = unique("drafter"), unique("snoop")
    become_creator(stack, api, author)
    mine, theirs = mint(api, author), mint(api, other)
    ops = mint(api, unique("op"), ["operator"])

    key = unique("draft")
    made = api.post("/v1/drafts", json={"title": "", "body": "# SOL\n\n<script>x</script>"},
                    headers={**mine, "Idempotency-Key": key})
    assert made.status_code == 201, made.text
    draft: dict[str, Any] = made.json()
    did = draft["draft_id"]
    assert draft["revision"] == 1 and made.headers["etag"] == '"1"'
    assert "<h1>SOL</h1>" in draft["body_html"] and "<script>" not in draft["body_html"]
    again = api.post("/v1/drafts", json={"title": "other"},
                     headers={**mine, "Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["draft_id"] == did
    assert again.json()["revision"] == 1

    # Private: every route naming it is a 404 for anyone else (operators included), and
    # their own list is empty.
    for user in (theirs, ops):
        assert api.get(f"/v1/drafts/{did}", headers=user).status_code == 404
        assert api.put(f"/v1/drafts/{did}", json={"body": "mine", "expected_revision": 1},
                       headers=user).status_code == 404
        assert api.delete(f"/v1/drafts/{did}", headers=user).status_code == 404
        assert api.post(f"/v1/drafts/{did}/publish", headers=user).status_code == 404
        assert api.get("/v1/drafts", headers=user).json() == {"drafts": []}

    # Two tabs resume revision 1; the first autosave wins, the second is a 409.
    tab1 = api.get(f"/v1/drafts/{did}", headers=mine)
    assert tab1.status_code == 200 and tab1.headers["etag"] == '"1"'
    saved = api.put(f"/v1/drafts/{did}", json={"title": "Why SOL", "body": "SOL *range*",
                                               "hashtags": ["sol"]},
                    headers={**mine, "If-Match": tab1.headers["etag"]})
    assert saved.status_code == 200 and saved.json()["revision"] == 2, saved.text
    stale = api.put(f"/v1/drafts/{did}", json={"title": "tab 2", "body": "older"},
                    headers={**mine, "If-Match": '"1"'})
    assert stale.status_code == 409 and "revision 2" in stale.json()["error"]
    blind = api.put(f"/v1/drafts/{did}", json={"body": "no revision"}, headers=mine)
    assert blind.status_code == 422 and "If-Match" in blind.json()["error"]
    bad = api.put(f"/v1/drafts/{did}", json={"cover_image_url": "http://x.example/c.png",
                                             "expected_revision": 2}, headers=mine)
    assert bad.status_code == 422 and "https" in bad.json()["error"]
    resumed = api.get(f"/v1/drafts/{did}", headers=mine).json()
    assert (resumed["revision"], resumed["title"], resumed["body"]) == (2, "Why SOL",
                                                                        "SOL *range*")

    second = api.post("/v1/drafts", json={"title": "Later"},
                      headers={**mine, "Idempotency-Key": unique("draft")})
    assert second.status_code == 201
    listed = api.get("/v1/drafts", headers=mine).json()["drafts"]
    assert [d["draft_id"] for d in listed] == [second.json()["draft_id"], did]

    # Publish: an article anyone reads; again answers the same post; the draft leaves the
    # list and names its post.
    published = api.post(f"/v1/drafts/{did}/publish", headers={**mine, "If-Match": '"2"'})
    assert published.status_code == 201, published.text
    post = published.json()
    assert (post["kind"], post["title"], post["creator_id"]) == ("article", "Why SOL", author)
    assert post["body_html"] == "<p>SOL <em>range</em></p>\n"
    repeat = api.post(f"/v1/drafts/{did}/publish", headers=mine)
    assert repeat.status_code == 201 and repeat.json()["post_id"] == post["post_id"]
    read = api.get(f"/v1/posts/{post['post_id']}", headers=theirs)
    assert read.status_code == 200 and read.json()["title"] == "Why SOL"
    assert [d["draft_id"] for d in api.get("/v1/drafts", headers=mine).json()["drafts"]] == [
        second.json()["draft_id"]]
    assert api.get(f"/v1/drafts/{did}", headers=mine).json()["published_post_id"] == post[
        "post_id"]
    assert api.put(f"/v1/drafts/{did}", json={"title": "x", "expected_revision": 2},
                   headers=mine).status_code == 409

    # An incomplete draft is not published; a discarded one is gone.
    sid = second.json()["draft_id"]
    incomplete = api.post(f"/v1/drafts/{sid}/publish", headers=mine)
    assert incomplete.status_code == 422 and "body" in incomplete.json()["error"]
    assert api.delete(f"/v1/drafts/{sid}", headers=mine).json() == {"draft_id": sid,
                                                                    "discarded": True}
    assert api.get(f"/v1/drafts/{sid}", headers=mine).status_code == 404
    assert api.get("/v1/drafts", headers=mine).json() == {"drafts": []}
