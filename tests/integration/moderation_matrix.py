"""The reports and moderation part of the authorization matrix (test_system_authorization_
matrix.py): the items its rows act on, and one well-formed request per operation and method.

Each row acts on an item of its own, all the owner's posts: ``decide`` has an open report
(the operator's row dismisses it), ``appeal`` is removed (the owner's row appeals it; its
moderation is what the GET row reads), ``decide-appeal`` is removed and appealed (the
operator's row denies the appeal). The gRPC rows name an item that does not exist, so the
answer past authorization is NOT_FOUND.
"""

from __future__ import annotations

from typing import Any

import httpx
from system_helpers import mint, unique

MISSING = "post_" + "0" * 24
# The operator persona's user id in the gRPC rows (test_system_authorization_matrix.py).
GRPC_OPERATOR = "matrix-operator"


def _post(api: httpx.Client, owner: dict[str, str], text: str) -> str:
    made = api.post("/v1/posts", json={"body": text},
                    headers={**owner, "Idempotency-Key": unique("req")})
    assert made.status_code == 201, made.text
    post_id: str = made.json()["post_id"]
    return post_id


def moderation_items(api: httpx.Client, owner: dict[str, str], operator: dict[str, str]
                     ) -> dict[str, str]:
    """The owner's posts the moderation rows act on, each in the state its row needs."""
    reporter = mint(api, unique("reporter"))
    items = {name: _post(api, owner, f"matrix {name}")
             for name in ("decide", "appeal", "decide-appeal")}
    for item in items.values():
        reported = api.post("/v1/reports", json={"item_id": item, "reason": "spam"},
                            headers={**reporter, "Idempotency-Key": unique("rep")})
        assert reported.status_code == 201, reported.text
    for name in ("appeal", "decide-appeal"):
        removed = api.post(f"/v1/operator/reports/{items[name]}/decision",
                           json={"decision": "confirm", "reason": "matrix"},
                           headers={**operator, "Idempotency-Key": unique("dec")})
        assert removed.status_code == 200, removed.text
    appealed = api.post(f"/v1/items/{items['decide-appeal']}/appeal", json={"text": "matrix"},
                        headers={**owner, "Idempotency-Key": unique("app")})
    assert appealed.status_code == 200, appealed.text
    return items


def moderation_call(api: httpx.Client, items: dict[str, str], post_id: str, method: str,
                    path: str, headers: dict[str, str]) -> httpx.Response | None:
    """The request of a moderation operation (None: not one of them)."""
    key = {"Idempotency-Key": unique("mod")}
    if (method, path) == ("POST", "/v1/reports"):
        return api.post(path, json={"item_id": post_id, "reason": "spam"},
                        headers={**headers, **key})
    if (method, path) == ("POST", "/v1/operator/reports/{item_id}/decision"):
        return api.post(path.format(item_id=items["decide"]),
                        json={"decision": "dismiss", "reason": "matrix"},
                        headers={**headers, **key})
    if (method, path) == ("POST", "/v1/items/{item_id}/appeal"):
        return api.post(path.format(item_id=items["appeal"]), json={"text": "matrix"},
                        headers={**headers, **key})
    if (method, path) == ("POST", "/v1/operator/appeals/{item_id}/decision"):
        return api.post(path.format(item_id=items["decide-appeal"]),
                        json={"decision": "deny", "reason": "matrix"},
                        headers={**headers, **key})
    if (method, path) == ("GET", "/v1/items/{item_id}/moderation"):
        return api.get(path.format(item_id=items["appeal"]), headers=headers)
    return None


def moderation_grpc_service() -> dict[str, tuple[Any, str, str]]:
    """ReportService's entry of the matrix's services: content serves it."""
    from planet.content.v1 import reports_pb2

    return {"planet.content.v1.ReportService": (
        reports_pb2.DESCRIPTOR.services_by_name["ReportService"], "content", "content")}


def moderation_grpc_requests(owner: str) -> dict[str, Any]:
    """One ReportService request per method, each about an item that does not exist."""
    from planet.content.v1 import reports_pb2 as rp

    name = "planet.content.v1.ReportService/"
    return {
        name + "ReportItem": rp.ReportItemRequest(
            reporter_id=owner, item_id=MISSING, reason=rp.POLICY_REASON_SPAM),
        name + "ListQueue": rp.ListQueueRequest(limit=1),
        name + "DecideReports": rp.DecideReportsRequest(
            item_id=MISSING, operator_id=GRPC_OPERATOR, confirm=False, note="matrix"),
        name + "AppealRemoval": rp.AppealRemovalRequest(
            item_id=MISSING, author_id=owner, text="matrix"),
        name + "DecideAppeal": rp.DecideAppealRequest(
            item_id=MISSING, operator_id=GRPC_OPERATOR, uphold=False, note="matrix"),
        name + "GetModeration": rp.GetModerationRequest(item_id=MISSING),
    }
