"""Group chats' HTTP part of the authorization matrix (test_system_authorization_matrix.py):
the expected answers and one well-formed request per operation.

Each operation acts on a public group of its own, made by ``owner`` at its first call (so
no row depends on another's order), with a member to act on, an invite link, a message of
the owner's and, for the join-request rows, a request-mode group with a pending request. The
other personas are not members: the service refuses them (403 not a member, or the right is
missing) before the input is looked at; reads of a public group are open to anyone signed
in; only operators close a group or decide an appeal (409 here: there is none to decide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from system_helpers import mint, unique

SIGNED_IN = ("user", "other_user", "owner", "analyst", "operator")
G = "/v1/groups/{group_id}"


def _only(statuses: dict[str, int], others: int = 403) -> dict[str, int]:
    return {p: statuses.get(p, others) for p in SIGNED_IN}


EVERYONE = dict.fromkeys(SIGNED_IN, 200)
OWNER_ONLY = _only({"owner": 200})
# Anyone signed in joins a free public group; the owner already is a member.
JOINS = {**EVERYONE, "owner": 409}

GROUPS_HTTP: dict[tuple[str, str], dict[str, int]] = {
    # Only an open creator identity creates a group (the owner has one).
    ("POST", "/v1/groups"): _only({"owner": 201}),
    ("GET", "/v1/groups"): EVERYONE,
    ("GET", G): EVERYONE,
    ("PUT", G + "/info"): OWNER_ONLY,
    ("POST", G + "/ownership"): OWNER_ONLY,
    ("POST", G + "/join"): JOINS,
    ("POST", G + "/join-by-link"): JOINS,
    ("POST", G + "/join-requests"): {**EVERYONE, "owner": 409},
    ("POST", G + "/join-requests/{user_id}/decision"): OWNER_ONLY,
    # The owner leaves only after transferring ownership.
    ("POST", G + "/leave"): _only({"owner": 409}),
    # Members and operators (who review reports) read the member list and the admin log.
    ("GET", G + "/members"): _only({"owner": 200, "operator": 200}),
    ("POST", G + "/members"): OWNER_ONLY,
    ("PUT", G + "/members/{user_id}/role"): OWNER_ONLY,
    ("POST", G + "/members/{user_id}/mute"): OWNER_ONLY,
    ("DELETE", G + "/members/{user_id}/mute"): OWNER_ONLY,
    ("POST", G + "/members/{user_id}/kick"): OWNER_ONLY,
    ("PUT", G + "/bans/{user_id}"): OWNER_ONLY,
    ("DELETE", G + "/bans/{user_id}"): OWNER_ONLY,
    ("POST", G + "/invite-links"): _only({"owner": 201}),
    ("DELETE", G + "/invite-links/{link_id}"): OWNER_ONLY,
    ("PUT", G + "/slow-mode"): OWNER_ONLY,
    ("PUT", G + "/filters"): OWNER_ONLY,
    ("POST", G + "/reports"): _only({"owner": 201}),
    ("GET", G + "/admin-log"): _only({"owner": 200, "operator": 200}),
    ("POST", G + "/messages"): _only({"owner": 201}),
    ("GET", G + "/messages"): EVERYONE,
    ("PATCH", G + "/messages/{message_seq}"): OWNER_ONLY,
    ("DELETE", G + "/messages/{message_seq}"): OWNER_ONLY,
    # Nothing is held in the matrix's group: past authorization, 409.
    ("POST", G + "/messages/{message_seq}/decision"): _only({"owner": 409}),
    ("PUT", G + "/messages/{message_seq}/reactions"): OWNER_ONLY,
    ("DELETE", G + "/messages/{message_seq}/reactions"): OWNER_ONLY,
    ("PUT", G + "/pins/{message_seq}"): OWNER_ONLY,
    ("DELETE", G + "/pins/{message_seq}"): OWNER_ONLY,
    ("PUT", G + "/read-position"): OWNER_ONLY,
    ("GET", "/v1/me/groups/unread"): EVERYONE,
    # An open group has no closure to appeal (the owner: 409).
    ("POST", G + "/appeal"): _only({"owner": 409}),
    ("POST", "/v1/operator/groups/{group_id}/close"): _only({"operator": 200}),
    ("POST", "/v1/operator/groups/{group_id}/appeal-decision"): _only({"operator": 409}),
}


@dataclass
class _Fixture:
    group_id: str
    member: str
    link_id: str
    message_seq: int


_FIXTURES: dict[tuple[str, str], _Fixture] = {}


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _fixture(api: httpx.Client, owner: dict[str, str], op: tuple[str, str]) -> _Fixture:
    """The operation's own group (made once)."""
    if op in _FIXTURES:
        return _FIXTURES[op]
    requests = "/join-requests" in op[1]
    mode = "request" if requests else "free"
    gid = _ok(api.post("/v1/groups", headers={**owner, "Idempotency-Key": unique("mx")},
                       json={"name": "Matrix", "join_mode": mode}))["group_id"]
    member = unique("gm-member")
    if requests:  # a pending request for the owner to decide
        _ok(api.post(f"/v1/groups/{gid}/join-requests", headers=mint(api, member), json={}))
    else:
        _ok(api.post(f"/v1/groups/{gid}/join", headers=mint(api, member)))
    link = _ok(api.post(f"/v1/groups/{gid}/invite-links", headers=owner, json={}))["link_id"]
    seq = _ok(api.post(f"/v1/groups/{gid}/messages", headers=owner,
                       json={"text": "matrix"}))["message_seq"]
    _FIXTURES[op] = _Fixture(gid, member, link, seq)
    return _FIXTURES[op]


_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/v1/groups"): {"name": "Matrix made"},
    ("PUT", G + "/info"): {"name": "Matrix renamed"},
    ("POST", G + "/join-requests"): {"note": "let me in"},
    ("POST", G + "/join-requests/{user_id}/decision"): {"approve": True},
    ("PUT", G + "/members/{user_id}/role"): {"role": "moderator"},
    ("POST", G + "/members/{user_id}/mute"): {"duration_s": 60, "reason": "matrix"},
    ("POST", G + "/members/{user_id}/kick"): {"reason": "matrix"},
    ("PUT", G + "/bans/{user_id}"): {"reason": "matrix"},
    ("POST", G + "/invite-links"): {"name": "matrix"},
    ("PUT", G + "/slow-mode"): {"seconds": 5},
    ("PUT", G + "/filters"): {"rules": [{"kind": "keyword", "pattern": "scam",
                                         "action": "block"}]},
    ("POST", G + "/messages"): {"text": "matrix says hi"},
    ("PATCH", G + "/messages/{message_seq}"): {"text": "matrix, edited"},
    ("POST", G + "/messages/{message_seq}/decision"): {"approve": True},
    ("PUT", G + "/read-position"): {"read_seq": 1},
    ("POST", G + "/appeal"): {"text": "matrix appeal"},
    ("POST", "/v1/operator/groups/{group_id}/close"): {"reason": "spam", "note": "matrix"},
    ("POST", "/v1/operator/groups/{group_id}/appeal-decision"): {"grant": False},
}


def groups_call(api: httpx.Client, owner_headers: dict[str, str], method: str, path: str,
                headers: dict[str, str]) -> httpx.Response | None:
    """The request of a group chat operation (None: not one of them)."""
    op = (method, path)
    if op not in GROUPS_HTTP:
        return None
    f = _fixture(api, owner_headers, op)
    url = path.format(group_id=f.group_id, user_id=f.member, link_id=f.link_id,
                      message_seq=f.message_seq)
    body: dict[str, Any] | None = _BODIES.get(op)
    if op == ("POST", G + "/ownership"):
        body = {"new_owner_id": f.member}
    elif op == ("POST", G + "/join-by-link"):
        body = {"link_id": f.link_id}
    elif op == ("POST", G + "/members"):
        body = {"user_id": unique("gm-added")}
    elif op == ("POST", G + "/reports"):
        body = {"user_id": f.member, "reason": "spam"}
    params = {"emoji": "👍"} if path.endswith("/reactions") else None
    return api.request(method, url, json=body, params=params,
                       headers={**headers, "Idempotency-Key": unique("gm")})
