"""The weekly pool's routes through the real app, the real incentive gRPC client and a
stand-in incentive server (tests/security/gateway_pool_standin.py): creators read their own
data only, operators any and alone run the pool, every call is made for the token's subject, shapes
are checked before any call, money is integer minor units with its asset, and the service's
status codes map to documented HTTP statuses."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from planet.incentive.v1 import weekly_pool_pb2 as pool
from tests.security.gateway_apps import FreshBearer
from tests.security.gateway_pool_standin import WEEK, pool_client

ALICE, BOB = FreshBearer("alice"), FreshBearer("bob")
OPS, ADMIN = FreshBearer("ops", ["operator"]), FreshBearer("root", ["admin"])
CREATOR_READS = ["/v1/creators/alice/estimate", "/v1/creators/alice/pool/weeks",
                 f"/v1/creators/alice/pool/weeks/{WEEK}", "/v1/creators/alice/pool/items",
                 "/v1/creators/alice/center"]
FUNDING = {"week": WEEK, "amount_minor": 250_000_000, "asset": "USDT"}
POLICY = {"version": "v4", "effective_week": "2026-W20",
          "policy": {"min_dwell_seconds": 5, "tier_lower_bounds": [0, 10]}}
# Operator writes: path, body, whether they take an Idempotency-Key.
OPERATOR_WRITES = [
    ("/v1/operator/pool/fundings", FUNDING, True),
    ("/v1/operator/pool/policies", POLICY, False),
    ("/v1/operator/pool/shadow", {"week": WEEK, "candidate_policy": None}, False),
    (f"/v1/operator/pool/weeks/{WEEK}/close", {"reason": "exchange holiday"}, True),
    (f"/v1/operator/pool/weeks/{WEEK}/held/carol", {"decision": "release", "reason": "ok"},
     True),
]


def _key(headers: FreshBearer, key: str = "k-1") -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def test_a_creator_reads_their_own_pool_and_each_call_is_made_for_them(tmp_path: Path) -> None:
    client, standin = pool_client(tmp_path)
    with client:
        answers = {path: client.get(path, headers=ALICE) for path in CREATOR_READS}
    assert {p: a.status_code for p, a in answers.items()} == dict.fromkeys(CREATOR_READS, 200)
    assert [(c.method, c.user_id, c.request.creator_id) for c in standin.calls] == [
        ("GetCreatorEstimate", "alice", "alice"), ("ListCreatorWeeks", "alice", "alice"),
        ("GetCreatorWeek", "alice", "alice"), ("ListItemLedger", "alice", "alice"),
        ("GetCreatorCenter", "alice", "alice")]
    est = answers["/v1/creators/alice/estimate"].json()
    assert est["estimated_minor"] == 1_000_000 and est["asset"] == "USDT"
    assert est["breakdown"]["discounts"] == [
        {"reason": "self_engagement", "item_id": None, "events": 2, "quantity": 40}]
    assert est["breakdown"]["items"][0]["dwell_minor"] == 750_000
    assert est["breakdown"]["tiers"] == [
        {"tier": "fee>=100", "amount_minor": 1_000_000, "consumers": 2}]
    assert est["activity"]["followers_gained"] == 1 and est["activity"]["items"][0]["views"] == 9
    week = answers[f"/v1/creators/alice/pool/weeks/{WEEK}"].json()
    assert week["payable_minor"] == 9_000_001 and week["creator_int_id"] == 42
    assert week["merkle_root"] == "cd" * 32 and week["proof"][1] == {
        "sibling": "02" * 32, "sibling_is_left": True}
    assert week["breakdown"]["discounts"][0]["item_id"] == "post_" + "b" * 24
    weeks = answers["/v1/creators/alice/pool/weeks"].json()
    assert weeks["weeks"][0]["payout_state"] == "rolled_over" and weeks["next_before_week"] == WEEK
    items = answers["/v1/creators/alice/pool/items"].json()
    assert items["next_cursor"] is None and items["items"][0]["lifetime_minor"] == 12
    assert [w["week"] for w in items["items"][0]["weeks"]] == ["2025-W01", WEEK]
    center = answers["/v1/creators/alice/center"].json()
    assert center["weeks"][0]["effective_interaction_milli_points"] == 1500
    assert center["weeks"][0]["settled"] is False


def test_another_creators_data_is_403_without_a_call_and_operators_read_anyones(
        tmp_path: Path) -> None:
    client, standin = pool_client(tmp_path)
    with client:
        for path in CREATOR_READS:
            refused = client.get(path, headers=BOB)
            assert refused.status_code == 403 and "only the creator" in refused.json()["error"]
        assert standin.calls == []
        for who in (OPS, ADMIN):
            for path in CREATOR_READS:
                assert client.get(path, headers=who).status_code == 200, path
    assert {(c.user_id, c.roles) for c in standin.calls} == {
        ("ops", frozenset({"operator"})), ("root", frozenset({"admin"}))}
    assert {c.request.creator_id for c in standin.calls} == {"alice"}


def test_anyone_signed_in_lists_the_settled_weeks(tmp_path: Path) -> None:
    client, standin = pool_client(tmp_path)
    with client:
        assert client.get("/v1/pool/weeks").status_code == 401
        answer = client.get("/v1/pool/weeks?limit=5&before_week=2026-W11", headers=BOB)
    assert answer.status_code == 200
    week = answer.json()["weeks"][0]
    assert (week["pool_minor"], week["unallocated_minor"], week["creators_paid"]) == (100, 10, 3)
    assert answer.json()["next_before_week"] is None
    assert standin.calls[0].request.limit == 5 and standin.calls[0].request.before_week == (
        "2026-W11")


def test_operators_run_the_pool_and_everyone_else_gets_403(tmp_path: Path) -> None:
    client, standin = pool_client(tmp_path)
    with client:
        for path, body, keyed in OPERATOR_WRITES:
            refused = client.post(path, json=body, headers=_key(ALICE) if keyed else ALICE)
            assert refused.status_code == 403 and "operators" in refused.json()["error"], path
        assert client.get(f"/v1/operator/pool/weeks/{WEEK}/late", headers=ALICE
                          ).status_code == 403
        assert standin.calls == []
        funded = client.post("/v1/operator/pool/fundings", json=FUNDING, headers=_key(OPS, "f1"))
        again = client.post("/v1/operator/pool/fundings", json=FUNDING, headers=_key(OPS, "f1"))
        policy = client.post("/v1/operator/pool/policies", json=POLICY, headers=ADMIN)
        shadow = client.post("/v1/operator/pool/shadow", headers=OPS,
                             json={"week": WEEK, "candidate_policy": {"min_dwell_seconds": 9}})
        closed = client.post(f"/v1/operator/pool/weeks/{WEEK}/close", headers=_key(OPS, "c1"),
                             json={"reason": "exchange holiday"})
        held = client.post(f"/v1/operator/pool/weeks/{WEEK}/held/carol", headers=_key(OPS, "h1"),
                           json={"decision": "forfeit", "reason": "sanction upheld"})
        late = client.get(f"/v1/operator/pool/weeks/{WEEK}/late?limit=10&cursor=c:1",
                          headers=OPS)
    assert funded.status_code == 201 and funded.json() == {
        "funding_id": "f1", "week": WEEK, "funded_minor": 250_000_000, "asset": "USDT",
        "applied": True}
    assert again.status_code == 201 and again.json()["applied"] is False
    assert policy.status_code == 201 and policy.json()["policy"] == {
        **POLICY["policy"], "version": "v4", "effective_from_week": "2026-W20"}
    assert policy.json()["operator_id"] == "root" and policy.json()["policy_hash"] == "ef" * 32
    assert shadow.json()["moved_minor"] == 4 and [d["delta_minor"] for d in shadow.json()[
        "differences"]] == [-4, 4]
    assert closed.json() == {"week": WEEK, "accepted": True, "detail": "early:c1"}
    assert held.json()["decision"] == "forfeit" and held.json()["decision_id"] == "h1"
    assert late.json()["late"][0]["event_ids"] == ["ev1", "ev2"]
    assert late.json()["next_cursor"] == "c:2"
    sent = {c.method: c.request for c in standin.calls}
    assert sent["FundPool"].funding_id == "f1" and sent["FundPool"].amount_minor == 250_000_000
    assert sent["PublishPolicy"].policy_json == (
        b'{"effective_from_week":"2026-W20","min_dwell_seconds":5,'
        b'"tier_lower_bounds":[0,10],"version":"v4"}')
    assert (sent["PublishPolicy"].version, sent["PublishPolicy"].effective_week) == (
        "v4", "2026-W20")
    assert sent["ShadowCompare"].candidate_policy_json == b'{"min_dwell_seconds":9}'
    assert sent["CloseWeek"].request_id == "c1" and sent["CloseWeek"].reason == (
        "exchange holiday")
    assert sent["DecideHeld"].decision == pool.HeldDecided.DECISION_FORFEIT
    assert (sent["DecideHeld"].creator_id, sent["DecideHeld"].decision_id) == ("carol", "h1")
    assert (sent["ListLateFacts"].limit, sent["ListLateFacts"].cursor) == (10, "c:1")
    assert {c.user_id for c in standin.calls} == {"ops", "root"}


BAD_REQUESTS = [
    ("get", "/v1/creators/alice/pool/weeks/2026-W60", None, "not an ISO week"),
    ("get", "/v1/creators/alice/pool/weeks/2026-48", None, "week"),
    ("get", "/v1/creators/alice/estimate?week=2025-W53", None, "ISO week"),
    ("get", "/v1/creators/alice/pool/weeks?before_week=W48", None, "before_week"),
    ("get", "/v1/creators/alice/pool/weeks?limit=101", None, "limit"),
    ("get", "/v1/creators/alice/pool/items?cursor=a%20b", None, "cursor"),
    ("get", "/v1/creators/alice/center?from_week=2026-W09&to_week=2026-W01", None, "from_week"),
    ("get", "/v1/creators/" + "a" * 129 + "/center", None, "creator_id"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "amount_minor": -5}, "amount_minor"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "amount_minor": 0}, "amount_minor"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "amount_minor": 1.5}, "amount_minor"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "amount_minor": "100"}, "amount_minor"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "amount_minor": 1 << 63}, "amount_minor"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "asset": "usdt"}, "asset"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "week": "2026-W99"}, "ISO week"),
    ("post", "/v1/operator/pool/fundings", {**FUNDING, "operator_id": "x"}, "operator_id"),
    ("post", "/v1/operator/pool/policies", {**POLICY, "effective_week": "soon"}, "week"),
    ("post", "/v1/operator/pool/policies", {**POLICY, "policy": [1]}, "policy"),
    ("post", "/v1/operator/pool/policies",
     {**POLICY, "policy": {f"k{i}": i for i in range(65)}}, "policy"),
    ("post", f"/v1/operator/pool/weeks/{WEEK}/close", {"reason": ""}, "reason"),
    ("post", f"/v1/operator/pool/weeks/{WEEK}/close", {"reason": "x" * 1001}, "reason"),
    ("post", f"/v1/operator/pool/weeks/{WEEK}/held/carol",
     {"decision": "keep", "reason": "r"}, "decision"),
    ("get", f"/v1/operator/pool/weeks/{WEEK}/late?limit=0", None, "limit"),
]


@pytest.mark.parametrize(("method", "path", "body", "named"), BAD_REQUESTS,
                         ids=[f"{m} {p[:60]} {n}" for m, p, _, n in BAD_REQUESTS])
def test_bad_input_is_a_422_naming_it_before_any_call(tmp_path: Path, method: str, path: str,
                                                      body: object, named: str) -> None:
    client, standin = pool_client(tmp_path)
    with client:
        headers = _key(OPS) if method == "post" else OPS
        answer = client.request(method.upper(), path, json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert named in answer.json()["error"]
    assert standin.calls == []


@pytest.mark.parametrize("path", [p for p, _, keyed in OPERATOR_WRITES if keyed])
def test_fundings_closes_and_held_decisions_need_an_idempotency_key(tmp_path: Path,
                                                                     path: str) -> None:
    body = next(b for p, b, _ in OPERATOR_WRITES if p == path)
    client, standin = pool_client(tmp_path)
    with client:
        missing = client.post(path, json=body, headers=OPS)
        too_long = client.post(path, json=body, headers=_key(OPS, "k" * 129))
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json()["error"]
    assert too_long.status_code == 422 and standin.calls == []


STATUSES = {grpc.StatusCode.PERMISSION_DENIED: 403, grpc.StatusCode.INVALID_ARGUMENT: 422,
            grpc.StatusCode.FAILED_PRECONDITION: 409, grpc.StatusCode.NOT_FOUND: 404,
            grpc.StatusCode.UNAVAILABLE: 503}
# One route per RPC: (RPC, method, path, body).
ROUTES = [
    ("GetCreatorEstimate", "get", "/v1/creators/alice/estimate", None),
    ("ListCreatorWeeks", "get", "/v1/creators/alice/pool/weeks", None),
    ("GetCreatorWeek", "get", f"/v1/creators/alice/pool/weeks/{WEEK}", None),
    ("ListItemLedger", "get", "/v1/creators/alice/pool/items", None),
    ("GetCreatorCenter", "get", "/v1/creators/alice/center", None),
    ("ListSettledWeeks", "get", "/v1/pool/weeks", None),
    ("FundPool", "post", "/v1/operator/pool/fundings", FUNDING),
    ("PublishPolicy", "post", "/v1/operator/pool/policies", POLICY),
    ("ShadowCompare", "post", "/v1/operator/pool/shadow", {"week": WEEK}),
    ("CloseWeek", "post", f"/v1/operator/pool/weeks/{WEEK}/close", {"reason": "r"}),
    ("DecideHeld", "post", f"/v1/operator/pool/weeks/{WEEK}/held/carol",
     {"decision": "release", "reason": "r"}),
    ("ListLateFacts", "get", f"/v1/operator/pool/weeks/{WEEK}/late", None),
]


def test_the_services_refusals_map_to_documented_statuses(tmp_path: Path) -> None:
    client, standin = pool_client(tmp_path, retry_after_s=9)
    with client:
        document = client.get("/openapi.json").json()
        for rpc_name, method, path, body in ROUTES:
            documented = document["paths"][_template(path)][method]["responses"]
            for code, status in STATUSES.items():
                standin.fail = {rpc_name: code}
                answer = client.request(method.upper(), path, json=body, headers=_key(OPS))
                assert answer.status_code == status, (rpc_name, code, answer.text)
                assert str(status) in documented, (path, status)
                if status == 503:
                    assert answer.headers["retry-after"] == "9"
                    assert "incentive service is unavailable" in answer.json()["error"]
                else:
                    assert answer.json() == {"error": f"{rpc_name} says no"}


def _template(path: str) -> str:
    return (path.replace("/alice/", "/{creator_id}/").replace(WEEK, "{week}")
            .replace("/held/carol", "/held/{creator_id}"))


def test_every_pool_route_is_documented_with_integer_money(tmp_path: Path) -> None:
    client, _ = pool_client(tmp_path)
    with client:
        document = client.get("/openapi.json").json()
    paths = document["paths"]
    for _, method, path, _ in ROUTES:
        operation = paths[_template(path)][method]
        assert operation["summary"] and operation["description"], path
        errors = {int(s) for s in operation["responses"] if int(s) >= 400}
        assert {401, 403, 422, 429, 503} <= errors, path
        if method == "post":
            assert {400, 413} <= errors, path
    keyed = {p for p, _, k in OPERATOR_WRITES if k}
    for path in keyed:
        parameters = paths[_template(path)]["post"]["parameters"]
        assert any(p["name"] == "Idempotency-Key" and p["required"] for p in parameters), path
    schemas = document["components"]["schemas"]
    for name, schema in schemas.items():
        for field, spec in schema.get("properties", {}).items():
            if field.endswith("_minor"):
                assert spec.get("type") == "integer", (name, field)
    assert schemas["FundingBody"]["properties"]["amount_minor"]["exclusiveMinimum"] == 0
    assert "Money" in document["info"]["description"]
