"""The drafts routes through the real app (stand-in content): the author is always the
token's subject, a save must name its revision, ids are checked before content is asked,
and content's answers map to documented statuses."""

from __future__ import annotations

import re

from gateway.routes.drafts import DRAFT_ID_PATTERN
from services.content.domain.drafts import draft_id_for, is_draft_id
from tests.security.gateway_apps import (
    Calls,
    FreshBearer,
    app_client,
    dev_settings,
)
from tests.security.gateway_drafts_standin import DRAFT

ALICE, BOB = FreshBearer("alice"), FreshBearer("bob")


def test_the_author_saves_lists_resumes_and_publishes_their_own_drafts() -> None:
    calls = Calls()
    with app_client(dev_settings(), calls=calls) as client:
        saved = client.post("/v1/drafts", headers={**ALICE, "Idempotency-Key": "k1"},
                            json={"title": "", "body": "*x*"})
        assert saved.status_code == 201 and saved.headers["ETag"] == '"1"'
        assert saved.json()["revision"] == 1 and saved.json()["published_post_id"] is None
        listed = client.get("/v1/drafts", headers=ALICE).json()["drafts"]
        assert [d["draft_id"] for d in listed] == [DRAFT] and "body" not in listed[0]
        got = client.get(f"/v1/drafts/{DRAFT}", headers=ALICE)
        assert got.status_code == 200 and got.headers["ETag"] == '"2"'
        put = client.put(f"/v1/drafts/{DRAFT}", headers={**ALICE, "If-Match": '"2"'},
                         json={"title": "T", "body": "b"})
        assert put.status_code == 200 and put.json()["revision"] == 3
        published = client.post(f"/v1/drafts/{DRAFT}/publish", headers=ALICE)
        assert published.status_code == 201 and published.json()["post_id"].startswith("post_")
        assert client.delete(f"/v1/drafts/{DRAFT}", headers=ALICE).json() == {
            "draft_id": DRAFT, "discarded": True}


def test_another_users_draft_is_404_and_a_stale_save_409() -> None:
    with app_client(dev_settings()) as client:
        for method in ("get", "delete"):
            answer = getattr(client, method)(f"/v1/drafts/{DRAFT}", headers=BOB)
            assert answer.status_code == 404 and "error" in answer.json()
        assert client.post(f"/v1/drafts/{DRAFT}/publish", headers=BOB).status_code == 404
        assert client.get("/v1/drafts", headers=BOB).json() == {"drafts": []}
        stale = client.put(f"/v1/drafts/{DRAFT}", headers=ALICE,
                           json={"body": "tab 2", "expected_revision": 1})
        assert stale.status_code == 409 and "revision" in stale.json()["error"]


def test_a_save_names_its_revision_and_bad_input_is_a_422_before_any_call() -> None:
    calls = Calls()
    with app_client(dev_settings(), calls=calls) as client:
        blind = client.put(f"/v1/drafts/{DRAFT}", headers=ALICE, json={"body": "x"})
        assert blind.status_code == 422 and "If-Match" in blind.json()["error"]
        both = client.put(f"/v1/drafts/{DRAFT}", headers={**ALICE, "If-Match": "2"},
                          json={"body": "x", "expected_revision": 3})
        assert both.status_code == 422
        for bad in ("dft_x", "post_" + "0" * 24, DRAFT.upper(), "dft_" + "0" * 25):
            assert client.get(f"/v1/drafts/{bad}", headers=ALICE).status_code == 422
        assert client.post("/v1/drafts", headers=ALICE, json={}).status_code == 422  # no key
        assert client.put(f"/v1/drafts/{DRAFT}", headers={**ALICE, "If-Match": "two"},
                          json={}).status_code == 422
        assert client.post("/v1/drafts", headers={**ALICE, "Idempotency-Key": "k"},
                           json={"author_id": "bob"}).status_code == 422  # no such field
    assert calls.names == []


def test_the_draft_id_pattern_is_the_content_services_own() -> None:
    draft_id = draft_id_for("anyone", "anything")
    assert re.fullmatch(DRAFT_ID_PATTERN.strip("^$"), draft_id) and is_draft_id(draft_id)
