"""The drafts part of the authorization matrix (test_system_authorization_matrix.py): the
owner's drafts its rows act on, the expected answers, and one well-formed request per
operation and method.

A draft is its author's alone: every signed-in caller starts and lists drafts of their own
(201, 200), and every route naming the owner's draft is 404 to anyone else, operators
included (never 403: a draft's existence is not revealed). Behind the gateway, content
refuses a call made for anyone but the author it names (PERMISSION_DENIED); the owner's
calls name a draft that does not exist, so past authorization they are NOT_FOUND.
"""

from __future__ import annotations

from typing import Any

import httpx
from system_helpers import unique

SIGNED_IN = ("user", "other_user", "owner", "analyst", "operator")
MISSING = "dft_" + "0" * 24


def _only_owner(owner: int, others: int = 404) -> dict[str, int]:
    return {p: owner if p == "owner" else others for p in SIGNED_IN}


# (method, path) -> status per signed-in persona (the matrix adds the unauthenticated ones).
DRAFT_HTTP: dict[tuple[str, str], dict[str, int]] = {
    ("POST", "/v1/drafts"): dict.fromkeys(SIGNED_IN, 201),
    ("GET", "/v1/drafts"): dict.fromkeys(SIGNED_IN, 200),
    ("GET", "/v1/drafts/{draft_id}"): _only_owner(200),
    ("PUT", "/v1/drafts/{draft_id}"): _only_owner(200),
    ("DELETE", "/v1/drafts/{draft_id}"): _only_owner(200),
    ("POST", "/v1/drafts/{draft_id}/publish"): _only_owner(201),
}

_DENIED = "PERMISSION_DENIED"
_NAME = "planet.content.v1.DraftService/"
DRAFT_GRPC: dict[str, dict[str, str]] = {
    _NAME + "SaveDraft": {p: "OK" if p == "owner" else _DENIED for p in SIGNED_IN},
    _NAME + "ListDrafts": {p: "OK" if p == "owner" else _DENIED for p in SIGNED_IN},
    **{_NAME + m: {p: "NOT_FOUND" if p == "owner" else _DENIED for p in SIGNED_IN}
       for m in ("UpdateDraft", "GetDraft", "DiscardDraft", "PublishDraft")},
}


def draft_items(api: httpx.Client, owner: dict[str, str]) -> dict[str, str]:
    """The owner's drafts the rows act on: "main" (read and saved), "discard", "publish"."""
    items = {}
    for name in ("main", "discard", "publish"):
        made = api.post("/v1/drafts", json={"title": f"Matrix {name}", "body": "matrix"},
                        headers={**owner, "Idempotency-Key": unique("draft")})
        assert made.status_code == 201, made.text
        items[name] = made.json()["draft_id"]
    return items


def draft_call(api: httpx.Client, drafts: dict[str, str], method: str, path: str,
               headers: dict[str, str]) -> httpx.Response | None:
    """The request of a drafts operation (None: not one of them)."""
    if not path.startswith("/v1/drafts"):
        return None
    if (method, path) == ("POST", "/v1/drafts"):
        return api.post(path, json={"title": "matrix"},
                        headers={**headers, "Idempotency-Key": unique("draft")})
    if (method, path) == ("GET", "/v1/drafts"):
        return api.get(path, headers=headers)
    name = {"DELETE": "discard"}.get(method, "publish" if path.endswith("/publish") else "main")
    url = path.format(draft_id=drafts[name])
    if method == "PUT":
        # Always the save that makes revision 2: a repeat answers it again (never a 409).
        return api.put(url, json={"title": "Matrix main", "body": "saved"},
                       headers={**headers, "If-Match": "1"})
    return api.request(method, url, headers=headers)


def drafts_grpc_service() -> dict[str, tuple[Any, str, str]]:
    """DraftService's entry of the matrix's services: content serves it."""
    from planet.content.v1 import drafts_pb2

    return {"planet.content.v1.DraftService": (
        drafts_pb2.DESCRIPTOR.services_by_name["DraftService"], "content", "content")}


def drafts_grpc_requests(owner: str) -> dict[str, Any]:
    """One DraftService request per method, for the owner (another caller is refused)."""
    from planet.content.v1 import drafts_pb2 as dr

    return {
        _NAME + "SaveDraft": dr.SaveDraftRequest(
            author_id=owner, request_id=unique("grpc-draft"),
            content=dr.DraftContent(title="matrix over gRPC")),
        _NAME + "ListDrafts": dr.ListDraftsRequest(author_id=owner),
        _NAME + "UpdateDraft": dr.UpdateDraftRequest(
            author_id=owner, draft_id=MISSING, expected_revision=1),
        _NAME + "GetDraft": dr.GetDraftRequest(author_id=owner, draft_id=MISSING),
        _NAME + "DiscardDraft": dr.DiscardDraftRequest(author_id=owner, draft_id=MISSING),
        _NAME + "PublishDraft": dr.PublishDraftRequest(author_id=owner, draft_id=MISSING),
    }
