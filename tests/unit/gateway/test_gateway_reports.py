"""The report and moderation routes through the real app (stand-in content): the reporter,
the author and the operator are always the token's subject, operators alone see the queues
and decide, ids and bodies are checked before content is asked."""

from __future__ import annotations

from tests.security.gateway_apps import (
    Calls,
    FreshBearer,
    app_client,
    dev_settings,
)

ALICE, BOB = FreshBearer("alice"), FreshBearer("bob")
OLGA = FreshBearer("olga", ["operator"])
POST = "post_" + "0" * 24
COMMENT = "cmt_" + "0" * 24 + "_" + "1" * 24


def test_a_report_names_a_reason_and_an_item_and_needs_a_key() -> None:
    calls = Calls()
    with app_client(dev_settings(), calls=calls) as client:
        ok = client.post("/v1/reports", headers={**BOB, "Idempotency-Key": "r1"},
                         json={"item_id": COMMENT, "reason": "market_manipulation",
                               "detail": "pump"})
        assert ok.status_code == 201
        assert ok.json()["reason"] == "market_manipulation" and ok.json()["created"] is True
        for body in ({"item_id": POST, "reason": "rude"},
                     {"item_id": "post_x", "reason": "spam"},
                     {"item_id": POST, "reason": "spam", "detail": "x" * 1001},
                     {"item_id": POST, "reason": "spam", "extra": 1}):
            bad = client.post("/v1/reports", headers={**BOB, "Idempotency-Key": "r2"},
                              json=body)
            assert bad.status_code == 422 and "error" in bad.json()
        assert client.post("/v1/reports", headers=BOB,
                           json={"item_id": POST, "reason": "spam"}).status_code == 422
        assert calls.names == ["report"]


def test_only_operators_see_the_queues_and_decide() -> None:
    calls = Calls()
    with app_client(dev_settings(), calls=calls) as client:
        for path in ("/v1/operator/reports", "/v1/operator/appeals"):
            assert client.get(path, headers=BOB).status_code == 403
            page = client.get(path, headers=OLGA, params={"limit": 5})
            assert page.status_code == 200
            assert [i["item_id"] for i in page.json()["items"]] == [POST]
            assert page.json()["items"][0]["reasons"] == [{"reason": "spam", "reports": 1}]
        assert client.get("/v1/operator/reports", headers=OLGA,
                          params={"cursor": "not a cursor"}).status_code == 422
        decision = {"decision": "confirm", "reason": "pump and dump", "policy": "scam"}
        assert client.post(f"/v1/operator/reports/{POST}/decision",
                           headers={**BOB, "Idempotency-Key": "d"},
                           json=decision).status_code == 403
        removed = client.post(f"/v1/operator/reports/{POST}/decision",
                              headers={**OLGA, "Idempotency-Key": "d"}, json=decision)
        assert removed.status_code == 200 and removed.json()["removed"] is True
        assert client.post(f"/v1/operator/reports/{POST}/decision",
                           headers={**OLGA, "Idempotency-Key": "d2"},
                           json={"decision": "remove", "reason": "x"}).status_code == 422
        upheld = client.post(f"/v1/operator/appeals/{POST}/decision",
                             headers={**OLGA, "Idempotency-Key": "a"},
                             json={"decision": "uphold", "reason": "satire"})
        assert upheld.status_code == 200
        assert client.post(f"/v1/operator/appeals/{POST}/decision",
                           headers={**BOB, "Idempotency-Key": "a"},
                           json={"decision": "uphold", "reason": "x"}).status_code == 403
        assert "decide_reports" in calls.names and "decide_appeal" in calls.names


def test_the_author_appeals_and_reads_the_moderation_of_their_item() -> None:
    with app_client(dev_settings()) as client:
        appealed = client.post(f"/v1/items/{POST}/appeal",
                               headers={**ALICE, "Idempotency-Key": "a1"},
                               json={"text": "it was satire"})
        assert appealed.status_code == 200 and appealed.json()["appeal"] == "pending"
        assert appealed.json()["author_id"] == "alice"
        assert client.post(f"/v1/items/{POST}/appeal", headers={**ALICE, "Idempotency-Key": "a"},
                           json={"text": ""}).status_code == 422
        assert client.get(f"/v1/items/{POST}/moderation", headers=ALICE).status_code == 200
        missing = client.get(f"/v1/items/{COMMENT}/moderation", headers=ALICE)
        assert missing.status_code == 404 and "error" in missing.json()
        assert client.get("/v1/items/shr_x/moderation", headers=ALICE).status_code == 422
