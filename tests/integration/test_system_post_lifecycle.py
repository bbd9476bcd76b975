"""A post's life through the running stack (gateway, content, social, Kafka): an article
with XSS payloads is served with safe body_html; its author edits it (revision 2 shown,
the ETag and If-Match guard a concurrent edit: 409), lists its revisions (others: 404);
a deletion hides it from everyone but its author and operators and from the author's list;
clear 4xx for bad input (413 for an oversized body)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from system_helpers import become_creator, eventually, mint, unique

from devstack.stack import Stack

pytestmark = [pytest.mark.system, pytest.mark.kafka]

XSS = ("# Range\n\n<script>alert(1)</script>\n\n[a](javascript:alert(1)) "
       "[b](JaVaScRiPt:alert(1)) ![c](data:image/svg+xml;base64,PHN2Zz4=) "
       "<img src=x onerror=alert(1)> [ok](https://example.com/a) ![img](https://cdn.example/i.png)")


class _Tags(HTMLParser):
    """Every start tag and its attributes (Python's parser, not the sanitiser's)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_article_edit_revisions_and_delete_through_the_gateway(
    stack: Stack, api: httpx.Client,
) -> None:
    author, reader = unique("writer"), unique("reader")
    become_creator(stack, api, author)
    mine, theirs = mint(api, author), mint(api, reader)
    ops = mint(api, unique("op"), ["operator"])

    made = api.post("/v1/posts", json={
        "kind": "article", "title": "Range trading", "body": XSS, "summary": "SOL's range",
        "cover_image_url": "https://cdn.example/cover.png", "hashtags": ["sol"]},
        headers={**mine, "Idempotency-Key": unique("art")})
    assert made.status_code == 201, made.text
    post: dict[str, Any] = made.json()
    pid, html = post["post_id"], post["body_html"]
    assert post["body"] == XSS and post["revision"] == 1 and post["summary"] == "SOL's range"
    tags = _tags(html)
    assert {t for t, _ in tags} <= {"h1", "p", "a", "img"}
    assert [a["href"] for t, a in tags if t == "a"] == ["https://example.com/a"]
    assert all(a.get("rel") == "nofollow noopener ugc" for t, a in tags if t == "a")
    assert [a.get("src") for t, a in tags if t == "img" and a.get("src")] == [
        "https://cdn.example/i.png"]
    assert not any(k.startswith("on") for _, a in tags for k in a)
    assert "&lt;script&gt;" in html  # raw HTML shown as text

    # An http cover and an oversized body are refused with the reason.
    bad = api.post("/v1/posts", json={"kind": "article", "title": "t", "body": "b",
                                      "cover_image_url": "http://cdn.example/c.png"},
                   headers={**mine, "Idempotency-Key": unique("bad")})
    assert bad.status_code == 422 and "https" in bad.json()["error"]
    huge = api.post("/v1/posts", json={"kind": "article", "title": "t", "body": "x" * 2_000_000},
                    headers={**mine, "Idempotency-Key": unique("huge")})
    assert huge.status_code == 413 and huge.json()["error"]

    # Two tabs hold revision 1 (its ETag); the first edit wins, the second is a 409.
    got = api.get(f"/v1/posts/{pid}", headers=theirs)
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    edit = api.patch(f"/v1/posts/{pid}", json={"body": "**v2** [x](javascript:alert(1))"},
                     headers={**mine, "Idempotency-Key": unique("e"), "If-Match": '"1"'})
    assert edit.status_code == 200, edit.text
    assert edit.json()["revision"] == 2 and edit.headers["etag"] == '"2"'
    assert edit.json()["body_html"] == "<p><strong>v2</strong> [x](javascript:alert(1))</p>\n"
    stale = api.patch(f"/v1/posts/{pid}", json={"title": "tab two"},
                      headers={**mine, "Idempotency-Key": unique("e"), "If-Match": "1"})
    assert stale.status_code == 409 and "revision 2" in stale.json()["error"]
    # Not the author: 403; nothing to change or a bad If-Match: 422.
    assert api.patch(f"/v1/posts/{pid}", json={"body": "mine"},
                     headers={**theirs, "Idempotency-Key": unique("e")}).status_code == 403
    for body, extra in (({}, {}), ({"body": "x"}, {"If-Match": "abc"}),
                        ({"body": "x", "expected_revision": 1}, {"If-Match": "2"})):
        resp = api.patch(f"/v1/posts/{pid}", json=body,
                         headers={**mine, "Idempotency-Key": unique("e"), **extra})
        assert resp.status_code == 422 and resp.json()["error"], resp.text
    assert api.get(f"/v1/posts/{pid}", headers=theirs).json()["revision"] == 2

    # The history: the author and operators, newest first; others: 404.
    for headers in (mine, ops):
        revs = api.get(f"/v1/posts/{pid}/revisions", headers=headers)
        assert revs.status_code == 200, revs.text
        assert [r["revision"] for r in revs.json()["revisions"]] == [2, 1]
        assert revs.json()["revisions"][1]["body"] == XSS
    assert api.get(f"/v1/posts/{pid}/revisions", headers=theirs).status_code == 404

    # Delete: the reader gets 404, the author and operators still see it; the author's
    # list no longer has it.
    kept = api.post("/v1/posts", json={"body": "kept"},
                    headers={**mine, "Idempotency-Key": unique("k")}).json()
    assert api.delete(f"/v1/posts/{pid}", headers=theirs).status_code == 403
    gone = api.delete(f"/v1/posts/{pid}", headers=mine)
    assert gone.status_code == 200 and gone.json()["deleted_at_ms"] > 0
    assert api.get(f"/v1/posts/{pid}", headers=theirs).status_code == 404
    for headers in (mine, ops):
        assert api.get(f"/v1/posts/{pid}", headers=headers).json()["deleted_at_ms"] > 0
    listed = eventually(lambda: api.get(f"/v1/creators/{author}/posts", headers=theirs),
                        lambda r: r.status_code == 200
                        and kept["post_id"] in [p["post_id"] for p in r.json()["posts"]])
    assert pid not in [p["post_id"] for p in listed.json()["posts"]]
    assert api.patch(f"/v1/posts/{pid}", json={"body": "back"},
                     headers={**mine, "Idempotency-Key": unique("e")}).status_code == 409
